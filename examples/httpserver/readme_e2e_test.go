package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sessionStep is one command of the README's session whose output the
// README shows.
type sessionStep struct {
	command string
	want    string // the output shown, "..." standing for any text
}

// readmeSession returns the README's curl session as it is written: the
// script (every command, in order) and the steps whose output it shows.
func readmeSession(t *testing.T) (script []string, steps []sessionStep) {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	_, section, ok := strings.Cut(string(b), "## A session with the example server")
	require.True(t, ok, "the README has no session section")
	_, block, ok := strings.Cut(section, "```sh\n")
	require.True(t, ok)
	block, _, ok = strings.Cut(block, "```\n")
	require.True(t, ok)
	for line := range strings.Lines(block) {
		line = strings.TrimRight(line, "\n")
		switch {
		case strings.HasPrefix(line, "{") || strings.HasPrefix(line, "["):
			require.NotEmpty(t, script, "output before any command")
			steps = append(steps, sessionStep{command: script[len(script)-1], want: line})
		case strings.HasPrefix(line, " "):
			require.NotEmpty(t, steps, "a continuation line before any output")
			steps[len(steps)-1].want += strings.TrimPrefix(line, " ")
		default:
			script = append(script, line)
		}
	}
	return script, steps
}

// testREADMESession runs the README's session — copied from the README, not
// retyped — with bash and curl against the server binary bin, stop and
// start included, and checks every output the README shows. Only the port
// changes (a free one instead of 8080), and the build line copies bin.
// TestEndToEnd runs it, with the binary it built.
func testREADMESession(t *testing.T, bin string) {
	for _, tool := range []string{"bash", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s: %v", tool, err)
		}
	}
	lines, steps := readmeSession(t)
	require.NotEmpty(t, steps)
	dir := t.TempDir()
	port := freePort(t)

	var script strings.Builder
	script.WriteString("trap 'kill -KILL $(jobs -p) 2>/dev/null' EXIT\n")
	script.WriteString(`go() { cp "$E2E_BIN" httpserver; }` + "\n") // the build: done once, by this test
	shown := map[string]bool{}
	for _, s := range steps {
		shown[s.command] = true
	}
	for _, line := range lines {
		line = strings.ReplaceAll(line, "localhost:8080", "localhost:"+port)
		if shown[strings.ReplaceAll(line, "localhost:"+port, "localhost:8080")] {
			line = "{ " + line + "\n} ; printf '\\n@@@\\n'"
		}
		script.WriteString(line + "\n")
	}

	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script.String())
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CLOUDSWITCH_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "E2E_BIN="+bin, "CLOUDSWITCH_ADDR=127.0.0.1:"+port)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the script:\n%s\nits output:\n%s\nits error output (the servers' logs):\n%s", script.String(), stdout.String(), stderr.String())
		}
	})
	require.NoError(t, err, "the session did not run to its end")

	outputs := strings.Split(stdout.String(), "\n@@@\n")
	require.Len(t, outputs, len(steps)+1, "not every command of the session answered")
	for i, s := range steps {
		assert.Regexp(t, pattern(s.want), strings.TrimSpace(outputs[i]), "the README's output of\n%s", s.command)
	}
	assert.NotContains(t, stderr.String(), "local-demo-token", "a server logged the bearer token")
	assert.FileExists(t, filepath.Join(dir, "cloudswitch-example.db.clouds"), "the emulated clouds were not kept beside the database")
}

// pattern is the regular expression of an output the README shows: the text
// itself, "..." matching anything.
func pattern(shown string) *regexp.Regexp {
	parts := strings.Split(shown, "...")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return regexp.MustCompile(`^` + strings.Join(parts, `.*`) + `$`)
}

// freePort returns a loopback port nothing listens on now.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}
