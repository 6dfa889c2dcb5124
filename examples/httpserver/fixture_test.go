package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/internal/wiring/wiringtest"
	"github.com/cloudswitch/cloudswitch/providers/memprovider"
	"github.com/cloudswitch/cloudswitch/store/memstore"
)

const testToken = "test-token-5f1c"

// fixture is the server's handler on an in-memory store and in-memory AWS
// and Hetzner (GCP is off), reached over HTTP.
type fixture struct {
	t       *testing.T
	srv     *httptest.Server
	store   *memstore.Store
	aws     *memprovider.Provider
	hetzner *memprovider.Provider
	api     *api
	logs    *wiringtest.LogBuffer // the server's log
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureOn(t, nil)
}

// newFixtureOn is newFixture on store (nil: an in-memory one).
func newFixtureOn(t *testing.T, store workspaceStore) *fixture {
	t.Helper()
	f := &fixture{t: t, store: memstore.New(), logs: &wiringtest.LogBuffer{},
		aws: memprovider.New(cloudswitch.AWS), hetzner: memprovider.New(cloudswitch.Hetzner)}
	if store == nil {
		store = f.store
	}
	logger := slog.New(slog.NewTextHandler(f.logs, nil))
	drivers := map[string]cloudswitch.Provider{cloudswitch.AWS: f.aws, cloudswitch.Hetzner: f.hetzner}
	sw, err := cloudswitch.New(store, drivers,
		cloudswitch.WithLogger(logger),
		cloudswitch.WithLease(time.Minute),
		cloudswitch.WithRetryPolicy(cloudswitch.RetryPolicy{InitialInterval: time.Millisecond,
			MaxInterval: time.Millisecond, MaxElapsedTime: time.Second, MaxAttempts: 3}))
	require.NoError(t, err)
	f.api = &api{store: store, switcher: sw, allowlist: cloudswitch.DefaultAllowlist(),
		providers: []string{cloudswitch.AWS, cloudswitch.Hetzner}, authorize: authorize, logger: logger,
		timeout: 2 * time.Minute}
	ping := func(context.Context) error { return nil }
	f.srv = httptest.NewServer(newHandler(f.api, testToken, ping, nil, logger))
	t.Cleanup(f.srv.Close)
	return f
}

// reply is an answer of the server.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request with the token; headers are name, value pairs.
func (f *fixture) do(method, path, body string, headers ...string) reply {
	f.t.Helper()
	return f.send(method, path, body, append([]string{"Authorization", "Bearer " + testToken}, headers...)...)
}

// send sends a request with only the headers given.
func (f *fixture) send(method, path, body string, headers ...string) reply {
	f.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, f.srv.URL+path, rd)
	require.NoError(f.t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		f.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatalf("%s %s: reading the body: %v", method, path, err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

// create makes workspace id on provider through the API.
func (f *fixture) create(id, provider string) workspaceJSON {
	f.t.Helper()
	r := f.do("POST", "/workspaces", `{"id":"`+id+`","compute":{"provider":"`+provider+`"}}`)
	r.wantStatus(f.t, http.StatusCreated)
	return r.workspace(f.t)
}

func (r reply) wantStatus(t *testing.T, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body: %s", r.status, status, r.body)
	}
}

// problem decodes a problem+json answer.
func (r reply) problem(t *testing.T) problem {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" && r.status >= 400 {
		t.Fatalf("Content-Type %q, want application/problem+json; body: %s", ct, r.body)
	}
	var p problem
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("not a problem: %v: %s", err, r.body)
	}
	if p.Status != r.status || p.Type == "" || p.Title == "" || p.Detail == "" {
		t.Fatalf("incomplete problem for status %d: %s", r.status, r.body)
	}
	return p
}

// workspace decodes a workspace answer.
func (r reply) workspace(t *testing.T) workspaceJSON {
	t.Helper()
	var w workspaceJSON
	if err := decodeStrict(r.body, &w); err != nil {
		t.Fatalf("not a workspace: %v: %s", err, r.body)
	}
	return w
}

// decodeStrict decodes one JSON value, refusing unknown fields.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}
