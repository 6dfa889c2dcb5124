package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/creack/pty"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds the command once, for the tests that run it as a process.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "cloudswitch-cli-test")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "cloudswitch")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = errors.New(string(out))
		}
	})
	require.NoError(t, buildErr)
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		_ = os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// screen collects what a program writes to its terminal.
type screen struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	more chan struct{}
}

func (s *screen) Write(p []byte) (int, error) {
	s.mu.Lock()
	s.buf.Write(p)
	s.mu.Unlock()
	select {
	case s.more <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (s *screen) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// waitFor waits until the screen shows text, or the program ended.
func (s *screen) waitFor(text string, ended <-chan struct{}) bool {
	for {
		if strings.Contains(s.String(), text) {
			return true
		}
		select {
		case <-s.more:
		case <-ended:
			return strings.Contains(s.String(), text)
		}
	}
}

// startOnTerminal runs the command on a pseudo-terminal; the test is
// skipped where the machine has none.
func startOnTerminal(t *testing.T, args ...string) (*os.File, *screen, *exec.Cmd, <-chan struct{}) {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Env = append(os.Environ(), "TERM=xterm")
	ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 160})
	if err != nil {
		t.Skipf("no pseudo-terminal on this machine (%v): the progress bar cannot be tested", err)
	}
	t.Cleanup(func() { _ = ptmx.Close() })
	sc := &screen{more: make(chan struct{}, 1)}
	ended := make(chan struct{})
	go func() {
		_, _ = io.Copy(sc, ptmx) // ends with EIO once the program exits
		close(ended)
	}()
	return ptmx, sc, cmd, ended
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

func TestApplyOnATerminalShowsAProgressBar(t *testing.T) {
	db := seedDB(t, 20)
	_, sc, cmd, ended := startOnTerminal(t, "apply", "-db", db, "-all", "-provider", "hetzner", "-confirm-recreate",
		"-concurrency", "4")
	<-ended
	require.Equal(t, 0, exitCode(cmd.Wait()), sc.String())
	out := sc.String()
	if os.Getenv("CLOUDSWITCH_SHOW_SCREEN") != "" {
		t.Logf("%q", out)
	}
	assert.Contains(t, out, "done 20 failed 0 skipped 0 refused 0", "the bar's description counts the outcomes")
	assert.Contains(t, out, "20 done, 0 failed, 0 skipped, 0 refused", "the summary line")
	assert.NotContains(t, out, `"event"`, "no JSON on a terminal")
}

func TestCtrlCOnATerminalStopsStartingSwitchesAndLetsInFlightOnesFinish(t *testing.T) {
	db := seedDB(t, 60)
	ptmx, sc, cmd, ended := startOnTerminal(t, "apply", "-db", db, "-all", "-provider", "hetzner", "-confirm-recreate",
		"-concurrency", "2", "-rate", "hetzner=20")
	require.True(t, sc.waitFor("done 3 ", ended), "the apply never reported 3 done: %s", sc.String())
	_, err := ptmx.Write([]byte{3}) // Ctrl-C
	require.NoError(t, err)
	<-ended
	code := exitCode(cmd.Wait())
	out := sc.String()
	assert.Equal(t, exitPartial, code, out)
	assert.Contains(t, out, "stopping: no new switch starts")
	assert.Contains(t, out, "stopped (cancelled")
	assert.Contains(t, out, "0 failed", "in-flight switches finished rather than failing")
}

func TestCtrlCWithoutATerminalEndsTheJSONLinesWithASummary(t *testing.T) {
	db := seedDB(t, 60)
	cmd := exec.Command(binary(t), "apply", "-db", db, "-all", "-provider", "hetzner", "-confirm-recreate",
		"-concurrency", "2", "-rate", "hetzner=20")
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	var events []map[string]any
	done := 0
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		var ev map[string]any
		require.NoError(t, json.Unmarshal(lines.Bytes(), &ev), lines.Text())
		events = append(events, ev)
		if ev["event"] == "done" {
			if done++; done == 3 {
				require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
			}
		}
	}
	code := exitCode(cmd.Wait())
	assert.Equal(t, exitPartial, code, stderr.String())
	require.NotEmpty(t, events)
	last := events[len(events)-1]
	require.Equal(t, "summary", last["event"])
	sum := last["summary"].(map[string]any)
	assert.Equal(t, "cancelled", sum["stopped"])
	assert.Equal(t, sum["started"], sum["done"], "every started switch finished")
	assert.Less(t, sum["done"].(float64), 60.0, "the stop held back the rest")
	assert.Contains(t, stderr.String(), "stopping")
}

func TestCanaryOnATerminalAsksBeforeTheRest(t *testing.T) {
	for _, tc := range []struct {
		answer string
		code   int
		want   string
	}{
		{"y", exitOK, "12 done, 0 failed"},
		{"n", exitPartial, "stopped (canary check refused: the operator said no)"},
	} {
		t.Run(tc.answer, func(t *testing.T) {
			db := seedDB(t, 12)
			ptmx, sc, cmd, ended := startOnTerminal(t, "apply", "-db", db, "-all", "-provider", "hetzner", "-confirm-recreate",
				"-concurrency", "4", "-canary", "2")
			require.True(t, sc.waitFor("Continue with the rest? [y/N]", ended), "no question after the canary: %s", sc.String())
			assert.Contains(t, sc.String(), "2 canary switches done")
			_, err := ptmx.Write([]byte(tc.answer + "\r"))
			require.NoError(t, err)
			<-ended
			assert.Equal(t, tc.code, exitCode(cmd.Wait()), sc.String())
			assert.Contains(t, sc.String(), tc.want)
		})
	}
}

func TestASecondCtrlCCutsTheInFlightWaitsShort(t *testing.T) {
	db := seedDB(t, 8)
	// The plan is made first, without a limit: its preflights are API
	// calls too, which -rate would space 10 s apart before any switch starts.
	planFile := filepath.Join(t.TempDir(), "move.plan")
	r := cli(t, "plan", "-db", db, "-all", "-provider", "hetzner", "-confirm-recreate", "-out", planFile)
	require.Equal(t, exitOK, r.code, r.err)
	// One Hetzner API call every 10 s: the switches in flight wait for tokens.
	cmd := exec.Command(binary(t), "apply", "-db", db, "-plan", planFile,
		"-concurrency", "4", "-rate", "hetzner=0.1")
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	stderrPipe, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	// The second Ctrl-C comes once the first was heard (signals of one
	// kind sent together arrive as one).
	var stderr strings.Builder
	stderrDone := make(chan struct{})
	go func() {
		defer close(stderrDone)
		sc := bufio.NewScanner(stderrPipe)
		for sc.Scan() {
			stderr.WriteString(sc.Text() + "\n")
			if strings.HasPrefix(sc.Text(), "stopping") {
				_ = cmd.Process.Signal(syscall.SIGINT) // abort
			}
		}
	}()
	var last map[string]any
	started := 0
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		var ev map[string]any
		require.NoError(t, json.Unmarshal(lines.Bytes(), &ev), lines.Text())
		last = ev
		if ev["event"] == "started" {
			if started++; started == 4 {
				require.NoError(t, cmd.Process.Signal(syscall.SIGINT)) // stop
			}
		}
	}
	<-stderrDone
	assert.Equal(t, exitPartial, exitCode(cmd.Wait()), stderr.String())
	require.Equal(t, "summary", last["event"])
	sum := last["summary"].(map[string]any)
	assert.Equal(t, 4.0, sum["started"], "nothing started after the stop")
	assert.Positive(t, sum["failed"].(float64), "the waits were cut short, so the switches stopped")
	assert.Equal(t, sum["started"], sum["done"].(float64)+sum["failed"].(float64), "every started switch reported its end")
	assert.Contains(t, stderr.String(), "aborting the switches in flight")
}
