package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/internal/wiring"
	"github.com/cloudswitch/cloudswitch/internal/wiring/wiringtest"
	"github.com/cloudswitch/cloudswitch/providers/memprovider"
	"github.com/cloudswitch/cloudswitch/store/memstore"
)

// failingStore is a store whose reads fail with a database driver's text.
type failingStore struct {
	*memstore.Store
	err error
}

func (s failingStore) Get(ctx context.Context, id string) (cloudswitch.Workspace, error) {
	return cloudswitch.Workspace{}, s.err
}

func (s failingStore) List(ctx context.Context) iter.Seq2[cloudswitch.Workspace, error] {
	return func(yield func(cloudswitch.Workspace, error) bool) { yield(cloudswitch.Workspace{}, s.err) }
}

func TestProblemsNeverCarryDatabaseOrCloudTextButARequestIDTheLogHasToo(t *testing.T) {
	const dbText = "failed to connect to `user=postgres database=postgres`: 127.0.0.1:5432"
	f := newFixtureOn(t, failingStore{memstore.New(), errors.New(dbText)})
	for _, path := range []string{"/workspaces/ws-1", "/workspaces", "/workspaces/ws-1/resume"} {
		method := "GET"
		if strings.HasSuffix(path, "resume") {
			method = "POST"
		}
		r := f.do(method, path, "")
		require.GreaterOrEqual(t, r.status, 500, "%s %s: %s", method, path, r.body)
		p := r.problem(t)
		assert.NotContains(t, string(r.body), "postgres", "%s %s: the database's text reached the client", method, path)
		assert.NotContains(t, string(r.body), "127.0.0.1")
		require.NotEmpty(t, p.RequestID, "%s %s: no request id in the problem", method, path)
		assert.Equal(t, r.header.Get("X-Request-Id"), p.RequestID)
		assert.Contains(t, line(f.logs.String(), "request_id="+p.RequestID+" "), "postgres",
			"the log line with the request id does not give the cause")
	}

	const cloudText = "UnauthorizedOperation: You are not authorized. User: arn:aws:iam::123456789012:user/ops RequestID: 5e1f"
	f = newFixture(t)
	f.create("ws-1", cloudswitch.AWS)
	f.aws.FailNext(memprovider.OpDeprovision, 1, fmt.Errorf("%s: %w", cloudText, cloudswitch.ErrRefused))
	r := f.do("PATCH", "/workspaces/ws-1/compute", `{"provider":"hetzner","confirm_recreate":true}`)
	r.wantStatus(t, http.StatusBadGateway)
	p := r.problem(t)
	assert.NotContains(t, string(r.body), "arn:aws", "the cloud's text reached the client")
	assert.NotContains(t, string(r.body), "5e1f")
	assert.Contains(t, p.Detail, "refused")
	assert.Contains(t, line(f.logs.String(), "request_id="+p.RequestID+" "), "arn:aws")
}

// line returns the first line of log containing s.
func line(log, s string) string {
	for l := range strings.Lines(log) {
		if strings.Contains(l, s) && strings.Contains(l, "err=") {
			return l
		}
	}
	return ""
}

func TestPathIDsFollowTheCreateRule(t *testing.T) {
	f := newFixture(t)
	f.create("ws-1", cloudswitch.AWS)
	for _, path := range []string{"/workspaces/ws%00x", "/workspaces/WS-1", "/workspaces/-ws", "/workspaces/" + strings.Repeat("a", 64)} {
		for _, req := range []struct{ method, suffix, body string }{
			{"GET", "", ""}, {"PATCH", "/compute", `{}`}, {"POST", "/resume", ""},
		} {
			r := f.do(req.method, path+req.suffix, req.body)
			r.wantStatus(t, http.StatusBadRequest)
			assert.Empty(t, r.header.Get("Retry-After"), "%s %s: a malformed id is not worth retrying", req.method, path)
			assert.Equal(t, "Invalid workspace id", r.problem(t).Title)
		}
	}
}

func TestDecodeErrorsNameTheFieldInTheAPIsWords(t *testing.T) {
	f := newFixture(t)
	for body, field := range map[string]string{
		`{"id":"ws-1","compute":{"provider":5}}`:    `"compute.provider" must be a string, not number`,
		`{"id":7}`:                                  `"id" must be a string, not number`,
		`{"id":"ws-1","compute":"aws"}`:             `"compute" must be an object`,
		`{"id":"ws-1","compute":{"zone":"x"}}`:      `unknown field "compute.zone"`,
		`{"id":"ws-1","compute":{"provider":"aws"}`: `not valid JSON`,
		`["ws-1"]`: `must be a JSON object`,
		`{"id":"ws-1","compute":{"provider":true}} `: `"compute.provider" must be a string, not bool`,
	} {
		r := f.do("POST", "/workspaces", body)
		r.wantStatus(t, http.StatusBadRequest)
		p := r.problem(t)
		assert.Contains(t, p.Detail, field, body)
		for _, goName := range []string{"cloudswitch.", "main.", "struct", "Go value", "json:"} {
			assert.NotContains(t, p.Detail, goName, "%s: a Go name in the detail", body)
		}
	}
	r := f.do("PATCH", "/workspaces/ws-1/compute", `{"confirm_recreate":"yes"}`)
	r.wantStatus(t, http.StatusBadRequest)
	assert.Contains(t, r.problem(t).Detail, `"confirm_recreate" must be true or false, not string`)
}

func TestUnknownPathsAndMethodsAreProblems(t *testing.T) {
	f := newFixture(t)
	f.create("ws-1", cloudswitch.AWS)
	r := f.do("GET", "/nowhere", "")
	r.wantStatus(t, http.StatusNotFound)
	r.problem(t)
	for _, req := range []struct{ method, path, allow string }{
		{"PUT", "/workspaces/ws-1", "DELETE, GET, HEAD"},
		{"PUT", "/workspaces", "GET, HEAD, POST"},
		{"GET", "/workspaces/ws-1/compute", "PATCH"},
		{"GET", "/workspaces/ws-1/resume", "POST"},
		{"POST", "/healthz", "GET, HEAD"},
	} {
		r := f.do(req.method, req.path, "")
		r.wantStatus(t, http.StatusMethodNotAllowed)
		r.problem(t)
		assert.Equal(t, req.allow, r.header.Get("Allow"), "%s %s", req.method, req.path)
	}
}

func TestListsArePagedWithACursor(t *testing.T) {
	f := newFixture(t)
	for _, id := range []string{"ws-e", "ws-b", "ws-a", "ws-d", "ws-c"} {
		f.create(id, cloudswitch.Hetzner)
	}
	var ids []string
	cursor, pages := "", 0
	for {
		path := "/workspaces?limit=2"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		r := f.do("GET", path, "")
		r.wantStatus(t, http.StatusOK)
		var page pageJSON
		require.NoError(t, decodeStrict(r.body, &page), string(r.body))
		require.LessOrEqual(t, len(page.Workspaces), 2)
		for _, w := range page.Workspaces {
			ids = append(ids, w.ID)
			assert.NotNil(t, w.Instance, "%s without its VM", w.ID)
		}
		pages++
		if cursor = page.NextCursor; cursor == "" {
			break
		}
		require.Less(t, pages, 5, "the cursor does not advance")
	}
	assert.Equal(t, []string{"ws-a", "ws-b", "ws-c", "ws-d", "ws-e"}, ids)
	assert.Equal(t, 3, pages)

	r := f.do("GET", "/workspaces", "")
	var page pageJSON
	require.NoError(t, decodeStrict(r.body, &page))
	assert.Len(t, page.Workspaces, 5, "the default page holds a small list whole")
	assert.Empty(t, page.NextCursor)

	for _, q := range []string{"limit=0", "limit=1001", "limit=abc", "limit=+2", "cursor=WS%00"} {
		r := f.do("GET", "/workspaces?"+q, "")
		r.wantStatus(t, http.StatusBadRequest)
		r.problem(t)
	}
}

// watchedStore records whether a List is still being read.
type watchedStore struct {
	*memstore.Store
	mu      sync.Mutex
	reading bool
}

func (s *watchedStore) List(ctx context.Context) iter.Seq2[cloudswitch.Workspace, error] {
	return func(yield func(cloudswitch.Workspace, error) bool) {
		s.setReading(true)
		defer s.setReading(false)
		for w, err := range s.Store.List(ctx) {
			if !yield(w, err) {
				return
			}
		}
	}
}

func (s *watchedStore) setReading(on bool) {
	s.mu.Lock()
	s.reading = on
	s.mu.Unlock()
}

// stalledWriter is a client that does not read: each Write reports whether
// the store was still being read at that moment.
type stalledWriter struct {
	httptest.ResponseRecorder
	store         *watchedStore
	readingWhile  bool
	writesStarted bool
}

func (w *stalledWriter) Write(b []byte) (int, error) {
	w.store.mu.Lock()
	w.readingWhile = w.readingWhile || w.store.reading
	w.store.mu.Unlock()
	w.writesStarted = true
	return w.ResponseRecorder.Write(b)
}

func TestASlowReaderHoldsNoDatabaseReadWhileItsPageIsWritten(t *testing.T) {
	store := &watchedStore{Store: memstore.New()}
	for i := range 250 {
		_, err := store.Create(t.Context(), cloudswitch.Workspace{ID: fmt.Sprintf("ws-%03d", i),
			Compute: cloudswitch.Compute{Provider: cloudswitch.AWS, InstanceType: "t3.medium"}})
		require.NoError(t, err)
	}
	f := newFixtureOn(t, store)
	w := &stalledWriter{ResponseRecorder: *httptest.NewRecorder(), store: store}
	f.api.listWorkspaces(w, httptest.NewRequest("GET", "/workspaces", nil))
	require.True(t, w.writesStarted)
	assert.False(t, w.readingWhile, "the page was written while the store was still being read: a slow client pins a connection")
	var page pageJSON
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &page))
	assert.Len(t, page.Workspaces, defaultPageSize)
	assert.Equal(t, "ws-099", page.NextCursor)
}

func TestOneUndecodableRowIsSkippedAndReported(t *testing.T) {
	ctx := t.Context()
	db, err := wiring.OpenDB(ctx, filepath.Join(t.TempDir(), "ws.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	for _, id := range []string{"ws-a", "ws-b", "ws-c"} {
		_, err := db.Store.Create(ctx, cloudswitch.Workspace{ID: id,
			Compute: cloudswitch.Compute{Provider: cloudswitch.AWS, InstanceType: "t3.medium"}})
		require.NoError(t, err)
	}
	_, err = db.SQL.ExecContext(ctx, `UPDATE cloudswitch_workspaces SET compute = '{"provider": 5}' WHERE id = 'ws-b'`)
	require.NoError(t, err)

	f := newFixtureOn(t, db.Store)
	r := f.do("GET", "/workspaces", "")
	r.wantStatus(t, http.StatusOK)
	var page pageJSON
	require.NoError(t, decodeStrict(r.body, &page), "the answer is not valid JSON: %s", r.body)
	var ids []string
	for _, w := range page.Workspaces {
		ids = append(ids, w.ID)
	}
	assert.Equal(t, []string{"ws-a", "ws-c"}, ids, "the rows after the bad one must still be listed")
	require.Len(t, page.Skipped, 1)
	assert.Equal(t, "ws-b", page.Skipped[0].ID)
	assert.NotContains(t, page.Skipped[0].Detail, "provider", "the decoder's text reached the client")
	assert.Contains(t, f.logs.String(), "ws-b", "the skipped row is not logged")
}

func TestInputIsStrict(t *testing.T) {
	f := newFixture(t)
	ws := f.create("ws-1", cloudswitch.AWS)

	r := f.do("POST", "/workspaces", `{"ID":"ws-2","compute":{"provider":"aws"}}`)
	r.wantStatus(t, http.StatusBadRequest)
	assert.Contains(t, r.problem(t).Detail, `unknown field "ID"`, "keys are case-sensitive")

	r = f.do("POST", "/workspaces", `{"id":"ws-a","id":"ws-b","compute":{"provider":"aws"}}`)
	r.wantStatus(t, http.StatusBadRequest)
	assert.Contains(t, r.problem(t).Detail, `duplicate key "id"`)
	r = f.do("PATCH", "/workspaces/ws-1/compute", `{"provider":"aws","provider":"hetzner","confirm_recreate":true}`)
	r.wantStatus(t, http.StatusBadRequest)
	assert.Equal(t, 1, f.store.Len(), "a body with a duplicate key created a workspace")
	assert.Empty(t, f.hetzner.Live(), "a body with a duplicate key switched the workspace")

	for _, ct := range []string{"", "text/plain", "application/x-www-form-urlencoded"} {
		r := f.do("POST", "/workspaces", `{"id":"ws-2","compute":{"provider":"aws"}}`, "Content-Type", ct)
		r.wantStatus(t, http.StatusUnsupportedMediaType)
		assert.Contains(t, r.problem(t).Detail, "Content-Type: application/json")
	}
	f.do("POST", "/workspaces", `{"id":"ws-2","compute":{"provider":"aws"}}`,
		"Content-Type", "application/json; charset=utf-8").wantStatus(t, http.StatusCreated)

	for _, h := range []string{`"+3"`, `"03"`, `" 3"`, `"3 "`, fmt.Sprintf(`"%d"`, ws.Version) + ","} {
		r := f.do("PATCH", "/workspaces/ws-1/compute", `{}`, "If-Match", h)
		r.wantStatus(t, http.StatusBadRequest)
		assert.Contains(t, r.problem(t).Title, "If-Match", h)
	}
	f.do("PATCH", "/workspaces/ws-1/compute", `{}`, "If-Match", fmt.Sprintf(`"%d"`, ws.Version)).wantStatus(t, http.StatusOK)
}

func TestLoggedPathsAreTruncated(t *testing.T) {
	f := newFixture(t)
	long := "/" + strings.Repeat("x", 12<<10)
	f.send("GET", long, "").wantStatus(t, http.StatusUnauthorized)
	for l := range strings.Lines(f.logs.String()) {
		assert.Less(t, len(l), 1024, "a log line repeats a long path whole")
	}
	assert.Contains(t, f.logs.String(), fmt.Sprintf("(%d bytes)", len(long)))
}

func TestTheAuthorizeHookGetsTheDecodedRequest(t *testing.T) {
	f := newFixture(t)
	f.api.regions = map[string][]string{cloudswitch.AWS: {"us-east-1", "eu-west-1"}}
	var seen []authzRequest
	f.api.authorize = func(r *http.Request, req authzRequest) error {
		seen = append(seen, req)
		if req.Target != nil && req.Target.Region == "eu-west-1" {
			return errors.New("this team may not run VMs in eu-west-1")
		}
		return nil
	}
	r := f.do("POST", "/workspaces", `{"id":"ws-1","compute":{"provider":"aws","region":"eu-west-1"}}`)
	r.wantStatus(t, http.StatusForbidden)
	assert.Contains(t, r.problem(t).Detail, "eu-west-1")
	assert.Zero(t, f.store.Len(), "a refused create recorded a workspace")
	require.Len(t, seen, 1)
	assert.Equal(t, authzRequest{Action: actionCreate, WorkspaceID: "ws-1",
		Target: &cloudswitch.Compute{Provider: "aws", InstanceType: "t3.medium", Region: "eu-west-1"}}, seen[0],
		"the hook sees the compute the workspace would get, defaults filled in")

	f.create("ws-1", cloudswitch.AWS)
	seen = nil
	f.do("PATCH", "/workspaces/ws-1/compute", `{"provider":"hetzner","region":"fsn1","confirm_recreate":true}`).
		wantStatus(t, http.StatusOK)
	require.NotEmpty(t, seen)
	assert.Equal(t, authzRequest{Action: actionSwitch, WorkspaceID: "ws-1",
		Target: &cloudswitch.Compute{Provider: "hetzner", Region: "fsn1"}, ConfirmRecreate: true}, seen[0])
}

func TestVMsAreCreatedOnlyInRegionsTheReconcilerLists(t *testing.T) {
	f := newFixture(t)
	f.api.regions = map[string][]string{cloudswitch.AWS: {"eu-west-1", "us-east-1"}}
	r := f.do("POST", "/workspaces", `{"id":"ws-1","compute":{"provider":"aws","region":"ap-south-1"}}`)
	r.wantStatus(t, http.StatusBadRequest)
	p := r.problem(t)
	assert.Equal(t, "region", p.Field)
	assert.Equal(t, []string{"eu-west-1", "us-east-1"}, p.Allowed)
	assert.Zero(t, f.store.Len())

	f.create("ws-1", cloudswitch.AWS)
	r = f.do("PATCH", "/workspaces/ws-1/compute", `{"region":"ap-south-1"}`)
	r.wantStatus(t, http.StatusBadRequest)
	assert.Equal(t, "region", r.problem(t).Field)
	r = f.do("PATCH", "/workspaces/ws-1/compute", `{"region":"eu-west-1"}`)
	r.wantStatus(t, http.StatusPreconditionRequired) // a region change recreates the VM
	assert.Contains(t, r.problem(t).Detail, "region")
	f.do("PATCH", "/workspaces/ws-1/compute", `{"region":"eu-west-1","confirm_recreate":true}`).wantStatus(t, http.StatusOK)
}

func TestAGeneratedTokenNeverReachesTheLog(t *testing.T) {
	const token = "generated-token-0123456789abcdef"
	var log, stderr wiringtest.LogBuffer
	logger := slog.New(slog.NewTextHandler(&log, nil))

	require.NoError(t, announceToken(token, "", &stderr, true, logger))
	assert.Contains(t, stderr.String(), token, "on a terminal, the token is shown there")
	assert.Empty(t, log.String())

	file := filepath.Join(t.TempDir(), "token")
	stderr = wiringtest.LogBuffer{}
	require.NoError(t, announceToken(token, file, &stderr, false, logger))
	assert.NotContains(t, log.String(), token, "the token reached the log")
	assert.Empty(t, stderr.String())
	assert.Contains(t, log.String(), file, "the log does not say where the token is")
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	assert.Equal(t, token+"\n", string(b))
	st, err := os.Stat(file)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "the token file is readable by others")
}

func TestShortTokensAndHalfTLSAreRefused(t *testing.T) {
	_, err := parseConfig(nil, func(k string) string {
		if k == "CLOUDSWITCH_TOKEN" {
			return "secret"
		}
		return ""
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "at least 16")
	assert.NotContains(t, err.Error(), "secret")

	_, err = parseConfig([]string{"-tls-cert", "cert.pem"}, func(string) string { return "" })
	require.Error(t, err)
}

func TestListeningBeyondLoopbackWithoutTLSIsLoud(t *testing.T) {
	for _, tc := range []struct {
		addr string
		ip   string
		tls  bool
		warn bool
	}{
		{"127.0.0.1:8080", "127.0.0.1", false, false},
		{"localhost:8080", "127.0.0.1", false, false},
		{"[::1]:8080", "::1", false, false},
		{":8080", "::", false, true},
		{"0.0.0.0:8080", "0.0.0.0", false, true},
		{"192.0.2.7:8080", "192.0.2.7", false, true},
		{":8443", "::", true, false},
	} {
		var log wiringtest.LogBuffer
		bound := &net.TCPAddr{IP: net.ParseIP(tc.ip), Port: 8080}
		warnIfExposed(tc.addr, bound, tc.tls, slog.New(slog.NewTextHandler(&log, nil)))
		assert.Equal(t, tc.warn, strings.Contains(log.String(), "WITHOUT TLS"), "%s tls=%v: %s", tc.addr, tc.tls, log.String())
	}
}
