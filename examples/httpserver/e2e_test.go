package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/internal/emulated"
	"github.com/cloudswitch/cloudswitch/internal/wiring/wiringtest"
	"github.com/cloudswitch/cloudswitch/providers/hetzner/hetznertest"
)

// The server as a user runs it: the binary, on a SQLite file, with the real
// drivers talking to the emulated clouds over HTTP. The emulators live in
// this test process, so that they — and the VMs in them, the ground truth —
// outlive the server when it is killed.
//
// The test runs the README's session as written (testREADMESession), then
// drives the API over HTTP, then kills the server with
// SIGKILL in the middle of a switch, restarts it on the same database, and
// checks that its background reconciler finishes the switch, leaving every
// VM pointed at by its record and no other.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server binary")
	}
	if runtime.GOOS == "windows" {
		t.Skip("needs SIGTERM")
	}
	bin := buildServer(t)
	t.Run("the README's session runs as written", func(t *testing.T) { testREADMESession(t, bin) })

	set, control := wiringtest.Emulators(t)
	db := filepath.Join(t.TempDir(), "ws.db")
	args := func(addr string) []string {
		return []string{"-addr", addr, "-db", db, "-emulators", control,
			"-lease", "3s", "-reconcile-interval", "300ms"}
	}

	srv := startServer(t, bin, args("127.0.0.1:0")...)
	first := srv
	c := &e2eClient{t: t, base: "http://" + srv.addr}

	// Authentication: every endpoint but /healthz needs the token.
	r := c.send("GET", "/workspaces", "", false)
	r.wantStatus(t, http.StatusUnauthorized)
	if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("401 without a Bearer challenge: %v", r.header)
	}
	r.problem(t)
	c.send("GET", "/healthz", "", false).wantStatus(t, http.StatusOK)

	// A workspace on AWS, with its VM in the emulated EC2.
	r = c.do("POST", "/workspaces", `{"id":"ws-1","compute":{"provider":"aws","instance_type":"t3.medium"}}`)
	r.wantStatus(t, http.StatusCreated)
	ws := r.workspace(t)
	if r.header.Get("Location") != "/workspaces/ws-1" || ws.Instance == nil || ws.Instance.Provider != cloudswitch.AWS {
		t.Fatalf("created: Location %q, %s", r.header.Get("Location"), r.body)
	}
	wantGroundTruth(t, set, []workspaceJSON{ws})

	r = c.do("GET", "/workspaces/ws-1", "")
	r.wantStatus(t, http.StatusOK)
	if got := r.header.Get("ETag"); got != fmt.Sprintf(`"%d"`, ws.Version) {
		t.Errorf("ETag %q, want the version %d", got, ws.Version)
	}

	// To Hetzner without confirming: 428, and nothing changed.
	r = c.do("PATCH", "/workspaces/ws-1/compute", `{"provider":"hetzner"}`)
	r.wantStatus(t, http.StatusPreconditionRequired)
	if p := r.problem(t); !strings.Contains(p.Detail, "confirm_recreate") {
		t.Errorf("428 detail: %q", p.Detail)
	}
	if got := c.get("ws-1"); got.Version != ws.Version || got.Instance.ID != ws.Instance.ID {
		t.Errorf("the 428 changed the workspace: %+v", got)
	}
	wantGroundTruth(t, set, []workspaceJSON{ws})

	// An instance type Hetzner does not have: 400 naming the field and the
	// allowed values.
	r = c.do("PATCH", "/workspaces/ws-1/compute", `{"provider":"hetzner","instance_type":"t3.medium","confirm_recreate":true}`)
	r.wantStatus(t, http.StatusBadRequest)
	if p := r.problem(t); p.Field != "instance_type" || !slices.Contains(p.Allowed, "cpx31") ||
		!strings.Contains(p.Detail, "cpx31") {
		t.Errorf("400: %s", r.body)
	}

	// A stale If-Match: 412.
	r = c.do("PATCH", "/workspaces/ws-1/compute", `{"provider":"hetzner","confirm_recreate":true}`,
		"If-Match", fmt.Sprintf(`"%d"`, ws.Version-1))
	r.wantStatus(t, http.StatusPreconditionFailed)
	r.problem(t)

	// Confirmed, with the current ETag: the workspace moves to Hetzner.
	r = c.do("PATCH", "/workspaces/ws-1/compute", `{"provider":"hetzner","confirm_recreate":true}`,
		"If-Match", fmt.Sprintf(`"%d"`, ws.Version))
	r.wantStatus(t, http.StatusOK)
	ws = r.workspace(t)
	if ws.Compute.Provider != cloudswitch.Hetzner || ws.Instance == nil || ws.Instance.Provider != cloudswitch.Hetzner || ws.Pending != nil {
		t.Fatalf("after the switch: %s", r.body)
	}
	wantGroundTruth(t, set, []workspaceJSON{ws})

	r = c.do("GET", "/workspaces", "")
	r.wantStatus(t, http.StatusOK)
	var page pageJSON
	if err := decodeStrict(r.body, &page); err != nil || len(page.Workspaces) != 1 || page.Workspaces[0].ID != "ws-1" ||
		page.Workspaces[0].Compute.Provider != cloudswitch.Hetzner {
		t.Errorf("list (%v): %s", err, r.body)
	}

	// With emulators of another process, the server serves no emulator
	// control endpoint; and a path longer than the header limit is refused
	// by the HTTP server itself.
	c.do("GET", "/emulator/vms", "").wantStatus(t, http.StatusNotFound)
	r = c.do("GET", "/workspaces/"+strings.Repeat("x", 1<<20), "")
	r.wantStatus(t, http.StatusRequestHeaderFieldsTooLarge)

	r = c.do("PATCH", "/workspaces/ws-1/compute", `{"provider":"gcp","confirm":true}`)
	r.wantStatus(t, http.StatusBadRequest)
	if p := r.problem(t); !strings.Contains(p.Detail, `"confirm"`) {
		t.Errorf("unknown field: %q", p.Detail)
	}

	r = c.do("GET", "/metrics", "")
	r.wantStatus(t, http.StatusOK)
	if !strings.Contains(string(r.body), `cloudswitch_switches_total{outcome="switched",resumed="false"} 2`) {
		t.Errorf("metrics do not count the two switches:\n%s", grepLines(r.body, "cloudswitch_switches_total"))
	}

	// Now kill the server in the middle of a switch to GCP: Hetzner's delete
	// of the old server is held up, and the server dies while it waits.
	remote := emulated.Remote{URL: control}
	require.NoError(t, remote.Inject(t.Context(), emulated.Fault{Provider: cloudswitch.Hetzner,
		Op: hetznertest.OpDeleteServer, Times: 1, Latency: 30 * time.Second}))
	deletes := set.Hetzner.CallCount(hetznertest.OpDeleteServer)
	patched := make(chan error, 1)
	go func() {
		// The answer never comes: the server dies first.
		r, err := c.try("PATCH", "/workspaces/ws-1/compute", `{"provider":"gcp","confirm_recreate":true}`, true)
		if err == nil {
			err = fmt.Errorf("answered %d: %s", r.status, r.body)
		}
		patched <- err
	}()
	eventually(t, 60*time.Second, "the switch to stop in Hetzner's delete", func() (bool, string) {
		got := c.get("ws-1")
		in := got.Pending
		return in != nil && in.Phase == cloudswitch.PhaseDeprovision && in.To.Provider == cloudswitch.GCP &&
				set.Hetzner.CallCount(hetznertest.OpDeleteServer) > deletes,
			fmt.Sprintf("pending %+v, Hetzner deletes %d", in, set.Hetzner.CallCount(hetznertest.OpDeleteServer))
	})
	srv.kill()
	t.Logf("the PATCH in flight when the server died: %v", <-patched)

	// A new server on the same database and address: its background
	// reconciler resumes the switch once its lease has expired.
	srv = startServer(t, bin, args(srv.addr)...)
	eventually(t, 90*time.Second, "the interrupted switch to be finished", func() (bool, string) {
		ws = c.get("ws-1")
		return ws.Pending == nil && ws.Compute.Provider == cloudswitch.GCP && ws.Instance != nil &&
			ws.Instance.Provider == cloudswitch.GCP, fmt.Sprintf("%+v", ws)
	})
	wantGroundTruth(t, set, []workspaceJSON{ws})
	eventually(t, 30*time.Second, "the metrics to count the resumed switch", func() (bool, string) {
		r := c.do("GET", "/metrics", "")
		lines := grepLines(r.body, "cloudswitch_switches_total")
		return strings.Contains(lines, `cloudswitch_switches_total{outcome="switched",resumed="true"} 1`), lines
	})

	// SIGTERM: a graceful stop.
	if code := srv.terminate(); code != 0 {
		t.Errorf("exit status %d after SIGTERM", code)
	}
	for _, s := range []*server{first, srv} {
		if strings.Contains(s.logs.String(), e2eToken) {
			t.Errorf("the server logged its bearer token")
		}
	}
}

// buildServer builds the server binary with the go command running this
// test: go test puts its own GOROOT/bin first in the test's PATH.
func buildServer(t *testing.T) string {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	require.NoError(t, err, "no go command in PATH")
	bin := filepath.Join(t.TempDir(), "httpserver")
	cmd := exec.Command(goCmd, "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

const e2eToken = "e2e-token-7d0e-5a3c9f"

// server is a running server process.
type server struct {
	t    *testing.T
	cmd  *exec.Cmd
	addr string
	logs *logWriter
	done chan struct{} // closed when the process has exited
}

var listening = regexp.MustCompile(`msg=listening addr=(\S+)`)

// startServer starts the binary with args and CLOUDSWITCH_TOKEN, and waits
// until it listens. Its log is shown if the test fails.
func startServer(t *testing.T, bin string, args ...string) *server {
	t.Helper()
	addr := make(chan string, 1)
	s := &server{t: t, done: make(chan struct{}), logs: &logWriter{onLine: func(line string) {
		if m := listening.FindStringSubmatch(line); m != nil {
			select {
			case addr <- m[1]:
			default:
			}
		}
	}}}
	s.cmd = exec.Command(bin, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CLOUDSWITCH_") {
			s.cmd.Env = append(s.cmd.Env, kv)
		}
	}
	s.cmd.Env = append(s.cmd.Env, "CLOUDSWITCH_TOKEN="+e2eToken)
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	require.NoError(t, s.cmd.Start())
	go func() {
		_ = s.cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		s.kill()
		if t.Failed() {
			t.Logf("log of the server %v:\n%s", args, s.logs.String())
		}
	})
	select {
	case s.addr = <-addr:
	case <-s.done:
		t.Fatalf("the server exited at start: %v\n%s", s.cmd.ProcessState, s.logs.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("the server did not start listening within a minute:\n%s", s.logs.String())
	}
	return s
}

// kill ends the server with SIGKILL and waits until it is gone.
func (s *server) kill() {
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Kill()
	<-s.done
}

// terminate sends SIGTERM and returns the exit status.
func (s *server) terminate() int {
	s.t.Helper()
	require.NoError(s.t, s.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-s.done:
	case <-time.After(60 * time.Second):
		s.t.Fatalf("the server did not stop within a minute of SIGTERM")
	}
	return s.cmd.ProcessState.ExitCode()
}

// logWriter keeps a process's output and calls onLine with each line.
type logWriter struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	partial []byte
	onLine  func(string)
}

func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		w.onLine(string(w.partial[:i]))
		w.partial = w.partial[i+1:]
	}
	return len(p), nil
}

func (w *logWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// e2eClient calls the server over HTTP.
type e2eClient struct {
	t    *testing.T
	base string
}

// try sends a request, with the token if auth.
func (c *e2eClient) try(method, path, body string, auth bool, headers ...string) (reply, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return reply{}, err
	}
	if auth {
		req.Header.Set("Authorization", "Bearer "+e2eToken)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, header: resp.Header, body: b}, err
}

func (c *e2eClient) send(method, path, body string, auth bool, headers ...string) reply {
	c.t.Helper()
	r, err := c.try(method, path, body, auth, headers...)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	return r
}

// do sends a request with the token.
func (c *e2eClient) do(method, path, body string, headers ...string) reply {
	c.t.Helper()
	return c.send(method, path, body, true, headers...)
}

// get reads a workspace.
func (c *e2eClient) get(id string) workspaceJSON {
	c.t.Helper()
	r := c.do("GET", "/workspaces/"+id, "")
	r.wantStatus(c.t, http.StatusOK)
	return r.workspace(c.t)
}

// wantGroundTruth checks the emulators against the records: every live VM
// carrying the owner's tag is the one its workspace's record names, and every
// record's VM is live — no VM is running that no record points at.
func wantGroundTruth(t *testing.T, set *emulated.Set, records []workspaceJSON) {
	t.Helper()
	state := ""
	ok := func() bool {
		var live []emulated.VM
		for _, vm := range set.VMs() {
			if vm.Live {
				live = append(live, vm)
			}
		}
		b, _ := json.Marshal(live)
		state = string(b)
		for _, vm := range live {
			if vm.Owner != cloudswitch.DefaultOwner {
				return false
			}
			i := slices.IndexFunc(records, func(w workspaceJSON) bool { return w.ID == vm.WorkspaceID })
			if i < 0 || records[i].Instance == nil || records[i].Instance.Provider != vm.Provider || records[i].Instance.ID != vm.ID {
				return false // a VM no record points at
			}
		}
		for _, w := range records {
			if w.Instance != nil && !slices.ContainsFunc(live, func(vm emulated.VM) bool {
				return vm.Provider == w.Instance.Provider && vm.ID == w.Instance.ID
			}) {
				return false // a record pointing at nothing
			}
		}
		return true
	}
	// A deleted VM may take a moment to leave the ground truth.
	eventually(t, 30*time.Second, "the ground truth to match the records", func() (bool, string) {
		b, _ := json.Marshal(records)
		return ok(), fmt.Sprintf("live VMs %s\nrecords %s", state, b)
	})
}

// eventually polls cond until it holds, or fails the test after timeout with
// cond's last description of the state.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s; last state: %s", timeout, what, state)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// grepLines returns the lines of b that contain s.
func grepLines(b []byte, s string) string {
	var out []string
	for line := range strings.Lines(string(b)) {
		if strings.Contains(line, s) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "")
}
