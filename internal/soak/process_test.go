package soak

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// proc is a worker process the parent started: its own test binary, running
// TestSoakWorker.
type proc struct {
	name    string
	cmd     *exec.Cmd
	stdout  bytes.Buffer  // the test binary's verdict; read once done is closed
	reached chan struct{} // closed when it begins switch number killAt
	killAt  int
	done    chan struct{} // closed once it exited and its stderr was read

	mu        sync.Mutex
	begun     int      // switches begun, from its markers
	lastBegin string   // "<round> <workspace>" of the last one
	said      []string // the lines relayed to the test log
	summary   *tally   // nil until it wrote one
	err       error    // from Wait
}

// procs are the worker processes of a run.
type procs struct {
	t   *testing.T
	all []*proc
}

// start runs a worker with cfg. If killAt > 0, reached is closed when the
// worker begins its killAt-th switch.
func (ps *procs) start(cfg workerConfig, killAt int) (*proc, error) {
	env, err := cfg.environ()
	if err != nil {
		return nil, err
	}
	// -test.timeout dumps every goroutine of a worker stuck past the guard.
	timeout := time.Until(cfg.Deadline) + 30*time.Second
	p := &proc{name: cfg.Name, killAt: killAt, reached: make(chan struct{}), done: make(chan struct{})}
	p.cmd = exec.Command(os.Args[0], "-test.run=^TestSoakWorker$", "-test.count=1", "-test.timeout="+timeout.String())
	p.cmd.Env = env
	p.cmd.Stdout = &p.stdout
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		return nil, fmt.Errorf("starting %s: %w", cfg.Name, err)
	}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", cfg.Name, err)
	}
	ps.all = append(ps.all, p)
	go p.read(ps.t, stderr)
	return p, nil
}

// read relays the worker's stderr to the test log, line by line, keeping
// the markers for itself, then waits for the worker to exit.
func (p *proc) read(t *testing.T, stderr io.Reader) {
	defer close(p.done)
	sc := bufio.NewScanner(stderr)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, beginMarker+" "):
			p.mu.Lock()
			p.begun++
			p.lastBegin = strings.TrimPrefix(line, beginMarker+" ")
			if p.begun == p.killAt {
				close(p.reached)
			}
			p.mu.Unlock()
		case strings.HasPrefix(line, summaryMarker+" "):
			s, err := parseSummary(strings.TrimPrefix(line, summaryMarker+" "))
			if err != nil {
				t.Errorf("%s: %v", p.name, err)
				continue
			}
			t.Logf("%s: done: %s", p.name, s)
			p.mu.Lock()
			p.summary = &s
			p.mu.Unlock()
		default:
			t.Logf("%s: %s", p.name, line)
			p.mu.Lock()
			p.said = append(p.said, line)
			p.mu.Unlock()
		}
	}
	if err := sc.Err(); err != nil {
		t.Errorf("%s: reading its stderr: %v", p.name, err)
	}
	err := p.cmd.Wait()
	p.mu.Lock()
	p.err = err
	p.mu.Unlock()
}

// kill sends SIGKILL.
func (p *proc) kill() error {
	if err := p.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("killing %s: %w", p.name, err)
	}
	return nil
}

// progress returns how many switches it began, and the last one.
func (p *proc) progress() (int, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.begun, p.lastBegin
}

// result returns its summary and how it ended; call it once done is closed.
func (p *proc) result() (*tally, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.summary, p.err
}

// killedBySignal reports whether it ended by a signal rather than by
// exiting; call it once done is closed.
func (p *proc) killedBySignal() bool {
	st := p.cmd.ProcessState
	return st != nil && !st.Exited()
}

// verdict is the tail of its test output, for failure messages.
func (p *proc) verdict() string {
	out := p.stdout.String()
	if len(out) > 8<<10 {
		out = "…" + out[len(out)-8<<10:]
	}
	return strings.TrimSpace(out)
}

// about returns what the workers said about workspace id, in the order each
// said it, each line prefixed with the worker's name.
func (ps *procs) about(id string) []string {
	word := regexp.MustCompile(`\b` + regexp.QuoteMeta(id) + `\b`)
	var out []string
	for _, p := range ps.all {
		p.mu.Lock()
		for _, line := range p.said {
			if word.MatchString(line) {
				out = append(out, p.name+": "+line)
			}
		}
		p.mu.Unlock()
	}
	return out
}

// waitAll waits for every worker until deadline; then it kills those left
// and fails.
func (ps *procs) waitAll(deadline time.Time) {
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	for _, p := range ps.all {
		select {
		case <-p.done:
		case <-timer.C:
			n, last := p.progress()
			ps.t.Errorf("%s had not finished by the guard deadline (%d switches begun, the last %q): killing every worker left", p.name, n, last)
			ps.stopAll()
			return
		}
	}
}

// stopAll kills every worker still running and waits until all are gone
// and their output is read, so that nothing logs after the test ends.
func (ps *procs) stopAll() {
	for _, p := range ps.all {
		select {
		case <-p.done:
		default:
			if err := p.kill(); err != nil {
				ps.t.Error(err)
			}
		}
	}
	for _, p := range ps.all {
		<-p.done
	}
}
