package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/time/rate"

	"github.com/cloudswitch/cloudswitch/fleet"
)

// rateFlag is a per-provider limit: "aws=10,hetzner=5" (calls per second).
type rateFlag map[string]float64

func (r *rateFlag) String() string {
	var parts []string
	for p, v := range *r {
		parts = append(parts, fmt.Sprintf("%s=%g", p, v))
	}
	return strings.Join(parts, ",")
}

func (r *rateFlag) Set(s string) error {
	if *r == nil {
		*r = make(rateFlag)
	}
	for part := range strings.SplitSeq(s, ",") {
		name, value, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return fmt.Errorf("%q is not provider=number", part)
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil || v <= 0 {
			return fmt.Errorf("%q: the value must be a positive number", part)
		}
		(*r)[name] = v
	}
	return nil
}

func applyCmd(ctx, abort context.Context, args []string, std stdio) error {
	var sel selectFlags
	var target targetFlags
	var rates, bursts rateFlag
	var cfg config
	fs := cfg.flagSet("apply", std)
	sel.register(fs)
	target.register(fs)
	planFile := fs.String("plan", "", "the saved plan to apply (from plan -out); without it, plan the selection and apply at once")
	concurrency := fs.Int("concurrency", 8, "switches at once")
	fs.Var(&rates, "rate", "API calls per second allowed per provider, e.g. aws=10,hetzner=5 (default: unlimited)")
	fs.Var(&bursts, "burst", "burst per provider, e.g. aws=5 (default 1)")
	canary := fs.Int("canary", 0, "switch this many first, then check before the rest")
	canaryCheck := fs.String("canary-check", "", "shell command run after the canary; the rest goes on only if it exits 0 (default on a terminal: ask)")
	maxFailures := fs.Int("max-failures", 0, "stop starting switches after this many failed (0: no limit)")
	maxRatio := fs.Float64("max-failure-ratio", 0, "stop starting switches once more than this fraction failed, e.g. 0.1 (0: no limit)")
	asJSON := fs.Bool("json", false, "write JSON lines even on a terminal")
	if err := parse(fs, args, std.getenv); err != nil {
		return err
	}
	if *concurrency < 1 {
		return usageErr("-concurrency must be at least 1")
	}
	if *maxRatio < 0 || *maxRatio >= 1 {
		return usageErr("-max-failure-ratio must be in [0, 1)")
	}
	selection, closeSel, selected, err := sel.selection(std.in, false)
	if err != nil {
		return err
	}
	defer closeSel()
	if selected == (*planFile != "") {
		return usageErr("apply a saved plan (-plan FILE) or plan inline (-ids, -ids-file, -where-provider or -all), not both or neither")
	}

	// -rate bounds the API requests each cloud receives: a bucket in the
	// HTTP transport of the provider's SDK client, which every request —
	// launch, poll, page, retry — waits for. A second bucket of the same
	// size bounds the driver calls; as each driver call makes at least
	// one request it rarely binds, but a switch stopped while it waits
	// there is refused before anything reaches the cloud.
	apiLimits := make(map[string]*rate.Limiter)
	driverLimits := make(map[string]*rate.Limiter)
	for name, r := range rates {
		b := int(bursts[name])
		if b < 1 {
			b = 1
		}
		apiLimits[name] = rate.NewLimiter(rate.Limit(r), b)
		driverLimits[name] = rate.NewLimiter(rate.Limit(r), b)
	}
	cfg.clouds.Transport = func(provider string, next http.RoundTripper) http.RoundTripper {
		if lim, ok := apiLimits[provider]; ok {
			return fleet.LimitTransport(provider, next, lim)
		}
		return next
	}
	s, err := cfg.open(ctx, std.err)
	if err != nil {
		return err
	}
	defer s.close()
	for name := range rates {
		if _, ok := s.drivers[name]; !ok {
			return usageErr("-rate names provider %q, which has no driver", name)
		}
	}
	sw, err := s.switcher(fleet.RateLimitAll(s.drivers, driverLimits))
	if err != nil {
		return err
	}

	var h fleet.Header
	var steps iter.Seq2[fleet.Step, error]
	total := 0
	if *planFile != "" {
		if total, err = countSteps(*planFile); err != nil {
			return refusedErr(err)
		}
		f, err := os.Open(*planFile)
		if err != nil {
			return usageErr("%v", err)
		}
		defer f.Close()
		if h, steps, err = fleet.ReadPlan(f); err != nil {
			return refusedErr(err)
		}
	} else {
		if h, steps, err = s.plan(ctx, selection, target.request()); err != nil {
			return err
		}
		if std.outIsTerminal && !*asJSON && sel.idsFile == "" {
			// The bar needs a total: count the selection first (reads only).
			for _, err := range selection.Workspaces(ctx, s.store) {
				if err == nil {
					total++
				}
			}
		}
	}

	applier, err := fleet.NewApplier(sw, s.store)
	if err != nil {
		return err
	}
	display := newDisplay(std, total, *asJSON)
	opts := fleet.Options{
		Concurrency: *concurrency, Canary: *canary, MaxFailures: *maxFailures, MaxFailureRatio: *maxRatio,
		Total: total, Progress: display.event, Abort: abort,
	}
	if *canary > 0 {
		opts.AfterCanary = canaryGate(*canaryCheck, display, std)
	}
	sum, err := applier.Apply(ctx, h, steps, opts)
	display.finish(sum)
	if err != nil {
		return refusedErr(err)
	}
	switch sum.Outcome() {
	case fleet.Partial:
		return &exitError{code: exitPartial, err: errors.New(summaryLine(sum))}
	case fleet.Refused:
		return refusedErr(errors.New(summaryLine(sum)))
	}
	return nil
}

// countSteps counts the steps of a plan file, for the ETA, reading it once
// without holding it.
func countSteps(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	_, steps, err := fleet.ReadPlan(f)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, err := range steps {
		if err != nil {
			return 0, err
		}
		n++
	}
	return n, nil
}

// canaryGate is the check between the canary and the rest: the command
// given, or else a question on a terminal, or else go on.
func canaryGate(command string, d *display, std stdio) func(context.Context, fleet.Progress) error {
	return func(ctx context.Context, p fleet.Progress) error {
		switch {
		case command != "":
			cmd := exec.CommandContext(ctx, "sh", "-c", command)
			cmd.Stdout, cmd.Stderr = std.err, std.err
			if err := cmd.Run(); err != nil {
				return fmt.Errorf("canary check %q: %w", command, err)
			}
			return nil
		case d.bar != nil:
			d.pause()
			fmt.Fprintf(std.err, "\n%d canary switches done. Continue with the rest? [y/N] ", p.Done)
			answer, _ := bufio.NewReader(std.in).ReadString('\n')
			if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
				return errors.New("the operator said no")
			}
			return nil
		}
		return nil
	}
}

// display shows progress: a bar on a terminal, JSON lines otherwise.
type display struct {
	std  stdio
	bar  *progressbar.ProgressBar
	json *json.Encoder
}

func newDisplay(std stdio, total int, forceJSON bool) *display {
	d := &display{std: std}
	if std.outIsTerminal && !forceJSON {
		max := total
		if max == 0 {
			max = -1 // unknown: a spinner with counts
		}
		d.bar = progressbar.NewOptions(max,
			progressbar.OptionSetWriter(std.out),
			progressbar.OptionSetDescription("switching"),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("ws"),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionFullWidth(),
			progressbar.OptionThrottle(0),
		)
	} else {
		d.json = json.NewEncoder(std.out)
	}
	return d
}

func (d *display) event(e fleet.Event) {
	if d.json != nil {
		_ = d.json.Encode(e)
		return
	}
	p := e.Progress
	d.bar.Describe(fmt.Sprintf("done %d failed %d skipped %d refused %d in flight %d",
		p.Done, p.Failed, p.Skipped, p.Refused, p.InFlight))
	if finished := p.Done + p.Failed + p.Skipped + p.Refused; finished > 0 {
		_ = d.bar.Set(finished)
	}
	switch e.Kind {
	case fleet.EventFailed:
		d.pause()
		fmt.Fprintf(d.std.err, "failed %s: %s\n", e.WorkspaceID, e.Err)
	case fleet.EventStopped:
		d.pause()
		fmt.Fprintf(d.std.err, "stopped: %s\n", e.Reason)
	}
}

// pause ends the bar's line so that a message is not drawn over.
func (d *display) pause() {
	if d.bar != nil {
		fmt.Fprintln(d.std.out)
	}
}

func (d *display) finish(sum fleet.Summary) {
	if d.json != nil {
		_ = d.json.Encode(struct {
			Event   string        `json:"event"`
			Summary fleet.Summary `json:"summary"`
		}{"summary", sum})
		return
	}
	_ = d.bar.Finish()
	fmt.Fprintln(d.std.out)
	fmt.Fprintln(d.std.out, summaryLine(sum))
	for _, f := range sum.Failures {
		fmt.Fprintf(d.std.out, "  failed %s (%s): %s\n", f.WorkspaceID, f.Provider, f.Err)
	}
}

func summaryLine(sum fleet.Summary) string {
	s := fmt.Sprintf("%d done, %d failed, %d skipped, %d refused in %s", sum.Done, sum.Failed, sum.Skipped, sum.Refused, sum.Elapsed.Round(1e6))
	if sum.Stopped != "" {
		s += fmt.Sprintf("; stopped (%s: %s)", sum.Stopped, sum.Detail)
	}
	return s
}
