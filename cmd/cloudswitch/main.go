// Command cloudswitch is the operator's tool for moving fleets of
// workspaces between clouds: it plans a switch over a selection of
// workspaces, applies it with rate limits, a canary and a failure budget,
// shows where every workspace is, resumes interrupted switches and
// reconciles the clouds with the database.
//
//	go install github.com/cloudswitch/cloudswitch/cmd/cloudswitch@latest
//
//	cloudswitch plan   -where-provider aws -provider hetzner -confirm-recreate -out move.plan
//	cloudswitch apply  -plan move.plan -concurrency 16 -rate aws=10,hetzner=5 -canary 5
//	cloudswitch status -where-provider hetzner
//	cloudswitch resume
//	cloudswitch reconcile
//
// It reads the same database and reaches the same clouds as the example
// server: -db (a SQLite file or a postgres:// URL), -aws/-hetzner/-gcp
// (emulated by default, real with the SDKs' usual credentials, or off),
// -owner, -lease and -allowlist; each of these falls back to an
// environment variable CLOUDSWITCH_<FLAG>. What to select and what to do
// are flags only.
//
// Emulated clouds started in this process keep their VMs in a file beside
// a SQLite database, <db>.clouds — the file the example server keeps
// them in, so the command and the server see the same clouds. One program
// at a time may run in-process emulators on a database: each would keep
// its own copy of the clouds, and the last to save would erase the other's
// VMs. A second one is refused (exit code 2) while the first runs; to run
// the server and the command at once, start examples/emulators and pass
// both -emulators. The command also refuses (exit code 2) emulated clouds
// that do not know the VMs the database records — fresh ones, such as
// in-process emulators whose .clouds file is gone, or a new
// examples/emulators — before it acts: they would take a recorded VM for
// gone, leaving the real one running with no record, and hand its id out
// again. Delete the database and its .clouds file to start afresh.
//
// On a terminal apply shows a progress bar; otherwise it writes one JSON
// object per event. Ctrl-C stops: no new switch starts and the ones in
// flight finish; a second Ctrl-C cuts their waits short. Exit codes: 0
// success, 1 partial failure (some switches failed, or the apply stopped
// early), 2 a usage or configuration error, 3 refused (nothing was done:
// the target, the plan or every workspace was refused).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes.
const (
	exitOK      = 0
	exitPartial = 1
	exitUsage   = 2
	exitRefused = 3
)

// exitError carries an exit code with its message.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageErr(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

func refusedErr(err error) error { return &exitError{code: exitRefused, err: err} }

const usage = `cloudswitch moves fleets of workspaces between clouds.

Commands:
  plan       compute what switching a selection of workspaces would do; print it or save it (-out)
  apply      carry out a saved plan (-plan FILE) or plan and apply inline
  status     list workspaces: compute, VM, pending switch (alias: list)
  resume     finish or undo interrupted switches
  reconcile  one reconciler pass: resume expired switches, report (or delete) orphaned VMs

Run cloudswitch COMMAND -h for a command's flags.
`

// io is what a command reads and writes, so tests drive it as a user does.
type stdio struct {
	in            io.Reader
	out, err      io.Writer
	outIsTerminal bool
	getenv        func(string) string
}

func main() {
	ctx, stop, abort := interrupts()
	defer stop()
	std := stdio{in: os.Stdin, out: os.Stdout, err: os.Stderr, outIsTerminal: isTerminal(os.Stdout), getenv: os.Getenv}
	os.Exit(run(ctx, abort, os.Args[1:], std))
}

// interrupts returns a context cancelled by the first SIGINT or SIGTERM
// (stop) and one cancelled by the second (abort).
func interrupts() (stopCtx context.Context, release func(), abortCtx context.Context) {
	stopCtx, stopCancel := context.WithCancel(context.Background())
	abortCtx, abortCancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		n := 0
		for range ch {
			n++
			if n == 1 {
				fmt.Fprintln(os.Stderr, "\nstopping: no new switch starts, the ones in flight finish; Ctrl-C again to cut their waits short")
				stopCancel()
				continue
			}
			fmt.Fprintln(os.Stderr, "\naborting the switches in flight")
			abortCancel()
			signal.Stop(ch)
			return
		}
	}()
	return stopCtx, func() { signal.Stop(ch); stopCancel(); abortCancel() }, abortCtx
}

// run runs one command and returns its exit code.
func run(ctx, abort context.Context, args []string, std stdio) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(std.err, usage)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	var err error
	switch cmd, rest := args[0], args[1:]; cmd {
	case "plan":
		err = planCmd(ctx, rest, std)
	case "apply":
		err = applyCmd(ctx, abort, rest, std)
	case "status", "list":
		err = statusCmd(ctx, rest, std)
	case "resume":
		err = resumeCmd(ctx, rest, std)
	case "reconcile":
		err = reconcileCmd(ctx, rest, std)
	default:
		fmt.Fprintf(std.err, "cloudswitch: unknown command %q\n\n%s", cmd, usage)
		return exitUsage
	}
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil && ee.err.Error() != "" {
			fmt.Fprintln(std.err, "cloudswitch:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(std.err, "cloudswitch:", err)
	return exitPartial
}
