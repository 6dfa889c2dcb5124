package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"iter"
	"os"
	"strings"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/fleet"
)

// selectFlags choose workspaces: by id, or by where they run.
type selectFlags struct {
	ids           string
	idsFile       string
	whereProvider string
	whereRegion   string
	all           bool
}

func (s *selectFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&s.ids, "ids", "", "comma-separated workspace ids")
	fs.StringVar(&s.idsFile, "ids-file", "", "file of workspace ids, one a line (- for standard input)")
	fs.StringVar(&s.whereProvider, "where-provider", "", "every workspace on this provider")
	fs.StringVar(&s.whereRegion, "where-region", "", "with -where-provider: only those in this region")
	fs.BoolVar(&s.all, "all", false, "every workspace")
}

// selection returns the chosen Selection, and what closes its file.
func (s *selectFlags) selection(stdin io.Reader, required bool) (fleet.Selection, func(), bool, error) {
	n := 0
	for _, set := range []bool{s.ids != "", s.idsFile != "", s.whereProvider != "", s.all} {
		if set {
			n++
		}
	}
	noop := func() {}
	switch {
	case n == 0 && required:
		return fleet.Selection{}, noop, false, usageErr("choose the workspaces: -ids, -ids-file, -where-provider or -all")
	case n == 0:
		return fleet.Selection{}, noop, false, nil
	case n > 1:
		return fleet.Selection{}, noop, false, usageErr("choose the workspaces with one of -ids, -ids-file, -where-provider or -all")
	case s.whereRegion != "" && s.whereProvider == "":
		return fleet.Selection{}, noop, false, usageErr("-where-region needs -where-provider")
	}
	switch {
	case s.ids != "":
		var ids []string
		for _, id := range strings.Split(s.ids, ",") {
			if id = strings.TrimSpace(id); id != "" {
				ids = append(ids, id)
			}
		}
		return fleet.IDList(ids...), noop, true, nil
	case s.idsFile != "":
		r, closeFile := stdin, noop
		if s.idsFile != "-" {
			f, err := os.Open(s.idsFile)
			if err != nil {
				return fleet.Selection{}, noop, false, usageErr("%v", err)
			}
			r, closeFile = f, func() { _ = f.Close() }
		}
		return fleet.IDs(lines(r)), closeFile, true, nil
	case s.whereProvider != "":
		desc := "workspaces on " + s.whereProvider
		if s.whereRegion != "" {
			desc += " in " + s.whereRegion
		}
		return fleet.Where(desc, fleet.OnProvider(s.whereProvider, s.whereRegion)), noop, true, nil
	}
	return fleet.Where("every workspace", func(cloudswitch.Workspace) bool { return true }), noop, true, nil
}

// lines yields the non-empty lines of r, one at a time.
func lines(r io.Reader) iter.Seq[string] {
	return func(yield func(string) bool) {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if line := strings.TrimSpace(sc.Text()); line != "" && !yield(line) {
				return
			}
		}
	}
}

// targetFlags are the switch every selected workspace gets.
type targetFlags struct {
	compute cloudswitch.Compute
	confirm bool
}

func (t *targetFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&t.compute.Provider, "provider", "", "target provider (empty: keep each workspace's)")
	fs.StringVar(&t.compute.InstanceType, "type", "", "target instance type (empty: keep it, or the new provider's default)")
	fs.StringVar(&t.compute.Region, "region", "", "target region, zone or location (empty: keep it, or the driver's default)")
	fs.StringVar(&t.compute.Image, "image", "", "target image (empty: keep it, or the driver's default)")
	fs.BoolVar(&t.confirm, "confirm-recreate", false, "allow recreating VMs on another provider (required for a provider change)")
}

func (t *targetFlags) request() cloudswitch.Request {
	return cloudswitch.Request{Compute: t.compute, ConfirmRecreate: t.confirm}
}

// plan checks the target req, then returns the header and the steps of the
// plan that switches every workspace of selection to it. The steps are
// computed as they are read.
func (s *session) plan(ctx context.Context, selection fleet.Selection, req cloudswitch.Request) (fleet.Header, iter.Seq2[fleet.Step, error], error) {
	p, err := fleet.NewPlanner(s.store, s.drivers, fleet.WithAllowlist(s.allowlist), fleet.WithOwner(s.cfg.control.Owner))
	if err != nil {
		return fleet.Header{}, nil, err
	}
	if err := p.Check(req); err != nil {
		return fleet.Header{}, nil, refusedErr(fmt.Errorf("the target is refused: %w", err))
	}
	return p.Header(selection, req), p.Steps(ctx, selection, req), nil
}

func planCmd(ctx context.Context, args []string, std stdio) error {
	var sel selectFlags
	var target targetFlags
	var cfg config
	fs := cfg.flagSet("plan", std)
	sel.register(fs)
	target.register(fs)
	out := fs.String("out", "", "save the plan to this file (JSON lines), for apply -plan")
	asJSON := fs.Bool("json", false, "print the plan as JSON lines instead of a table")
	if err := parse(fs, args, std.getenv); err != nil {
		return err
	}
	s, selection, _, err := cfg.openSelected(ctx, &sel, true, std)
	if err != nil {
		return err
	}
	defer s.close()
	h, steps, err := s.plan(ctx, selection, target.request())
	if err != nil {
		return err
	}

	var counts fleet.Counts
	switch {
	case *out != "":
		f, err := os.Create(*out)
		if err != nil {
			return usageErr("%v", err)
		}
		counts, err = fleet.WritePlan(f, h, steps)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(std.err, "plan saved to %s: %s\n", *out, counts)
	case *asJSON:
		if counts, err = fleet.WritePlan(std.out, h, steps); err != nil {
			return err
		}
	default:
		if counts, err = fleet.WriteTable(std.out, h, steps); err != nil {
			return err
		}
	}
	if counts.Steps > 0 && counts.ByAction[fleet.ActionRefuse] == counts.Steps {
		return refusedErr(fmt.Errorf("every workspace of the plan is refused"))
	}
	return nil
}
