package fleet

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/cloudswitch/cloudswitch"
)

// A plan file is JSON lines: the Header on the first line, then one Step per
// line. It streams both ways, so that a plan of any size is written and
// applied in bounded memory, and it reads with any JSON tool.

// maxLine bounds one line of a plan file (a step is a few hundred bytes).
const maxLine = 1 << 20

// WritePlan writes h and then each step of steps to w as JSON lines, and
// returns the tally of what it wrote. It stops at the first error of steps
// or of w.
func WritePlan(w io.Writer, h Header, steps iter.Seq2[Step, error]) (Counts, error) {
	var c Counts
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	if h.Format == "" {
		h.Format = PlanFormat
	}
	if err := enc.Encode(h); err != nil {
		return c, fmt.Errorf("fleet: writing the plan header: %w", err)
	}
	for s, err := range steps {
		if err != nil {
			return c, err
		}
		if err := enc.Encode(s); err != nil {
			return c, fmt.Errorf("fleet: writing the plan of %s: %w", s.WorkspaceID, err)
		}
		c.Add(s)
	}
	if err := bw.Flush(); err != nil {
		return c, fmt.Errorf("fleet: writing the plan: %w", err)
	}
	return c, nil
}

// ErrBadPlan is matched by the errors of a plan file that cannot be read.
var ErrBadPlan = errors.New("fleet: not a readable plan")

// ReadPlan reads the header of the plan file r and returns it with the
// plan's steps, read one at a time as the sequence is ranged over (once). A
// line that is not a step ends the sequence with an error matching
// ErrBadPlan.
func ReadPlan(r io.Reader) (Header, iter.Seq2[Step, error], error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), maxLine)
	var h Header
	if !sc.Scan() {
		err := sc.Err()
		if err == nil {
			err = errors.New("the file is empty")
		}
		return h, nil, fmt.Errorf("%w: %w", ErrBadPlan, err)
	}
	if err := strictUnmarshal(sc.Bytes(), &h); err != nil {
		return h, nil, fmt.Errorf("%w: header: %w", ErrBadPlan, err)
	}
	if h.Format != PlanFormat {
		return h, nil, fmt.Errorf("%w: format %q, want %q", ErrBadPlan, h.Format, PlanFormat)
	}
	steps := func(yield func(Step, error) bool) {
		line := 1
		for sc.Scan() {
			line++
			if len(strings.TrimSpace(sc.Text())) == 0 {
				continue
			}
			var s Step
			if err := strictUnmarshal(sc.Bytes(), &s); err != nil {
				yield(Step{}, fmt.Errorf("%w: line %d: %w", ErrBadPlan, line, err))
				return
			}
			if s.WorkspaceID == "" || s.Action == "" {
				yield(Step{}, fmt.Errorf("%w: line %d: a step needs a workspace_id and an action", ErrBadPlan, line))
				return
			}
			if !yield(s, nil) {
				return
			}
		}
		if err := sc.Err(); err != nil {
			yield(Step{}, fmt.Errorf("%w: after line %d: %w", ErrBadPlan, line, err))
		}
	}
	return h, steps, nil
}

func strictUnmarshal(data []byte, v any) error {
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// tableBlock is how many rows of a table are aligned together.
const tableBlock = 1000

// WriteTable writes steps as a table a person reviews before applying: one
// row per workspace, then the tally. It returns the tally.
func WriteTable(w io.Writer, h Header, steps iter.Seq2[Step, error]) (Counts, error) {
	var c Counts
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Plan: %s\n", describeRequest(h))
	fmt.Fprintln(tw, "WORKSPACE\tVERSION\tACTION\tFROM\tTO\tDESTROY\tCREATE\tNOTE")
	for s, err := range steps {
		if err != nil {
			_ = tw.Flush()
			return c, err
		}
		c.Add(s)
		destroy, create := "-", "-"
		if s.Destroy != nil {
			destroy = s.Destroy.Provider + "/" + s.Destroy.ID
		}
		if s.Create != nil {
			create = describeCompute(*s.Create)
		}
		note := s.Reason
		if s.Warning != "" {
			note = strings.TrimSpace(note + " " + s.Warning)
		}
		if note == "" {
			note = "-"
		}
		row := fmt.Sprintf("%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s", s.WorkspaceID, s.Version, s.Action,
			describeCompute(s.From), describeCompute(s.To), destroy, create, note)
		fmt.Fprintln(tw, row)
		if c.Steps%tableBlock == 0 {
			// A tabwriter holds its rows until flushed: flush in blocks so
			// that a table of any length is written in bounded memory.
			if err := tw.Flush(); err != nil {
				return c, err
			}
		}
	}
	if err := tw.Flush(); err != nil {
		return c, err
	}
	_, err := fmt.Fprintln(w, c.String())
	return c, err
}

// String summarises the tally in one line.
func (c Counts) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d workspaces:", c.Steps)
	for _, a := range []Action{ActionNone, ActionEdit, ActionResize, ActionProvision, ActionRecreate, ActionRefuse} {
		if n := c.ByAction[a]; n > 0 {
			fmt.Fprintf(&b, " %d %s,", n, a)
		}
	}
	fmt.Fprintf(&b, " VMs destroyed %s, created %s", perProvider(c.Destroy), perProvider(c.Create))
	return b.String()
}

func perProvider(m map[string]int) string {
	if len(m) == 0 {
		return "0"
	}
	var parts []string
	for _, p := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s %d", p, m[p]))
	}
	return strings.Join(parts, ", ")
}

func describeRequest(h Header) string {
	c := h.Request.Compute
	target := describeCompute(c)
	if c.Provider == "" {
		target = "(current provider) " + target
	}
	s := "switch to " + target
	if h.Selection != "" {
		s += " for " + h.Selection
	}
	if h.Request.ConfirmRecreate {
		s += ", recreate confirmed"
	}
	return s
}

// describeCompute writes a compute as provider:type@region[+image], each
// part only when set.
func describeCompute(c cloudswitch.Compute) string {
	s := c.Provider
	if c.InstanceType != "" {
		s += ":" + c.InstanceType
	}
	if c.Region != "" {
		s += "@" + c.Region
	}
	if c.Image != "" {
		s += "+" + c.Image
	}
	if s == "" {
		return "-"
	}
	return s
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
