package main

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/providers/memprovider"
)

func TestEveryEndpointButHealthzNeedsTheToken(t *testing.T) {
	f := newFixture(t)
	f.create("ws-1", cloudswitch.AWS)
	for _, ep := range []struct{ method, path, body string }{
		{"GET", "/workspaces", ""},
		{"POST", "/workspaces", `{"id":"ws-2","compute":{"provider":"aws"}}`},
		{"GET", "/workspaces/ws-1", ""},
		{"PATCH", "/workspaces/ws-1/compute", `{"provider":"hetzner","confirm_recreate":true}`},
		{"POST", "/workspaces/ws-1/resume", ""},
		{"GET", "/nowhere", ""},
	} {
		r := f.send(ep.method, ep.path, ep.body)
		r.wantStatus(t, http.StatusUnauthorized)
		r.problem(t)
		if got := r.header.Get("WWW-Authenticate"); got != `Bearer realm="cloudswitch"` {
			t.Errorf("%s %s without a token: WWW-Authenticate %q", ep.method, ep.path, got)
		}
		r = f.send(ep.method, ep.path, ep.body, "Authorization", "Bearer wrong-"+testToken)
		r.wantStatus(t, http.StatusUnauthorized)
		if got := r.header.Get("WWW-Authenticate"); !strings.Contains(got, `error="invalid_token"`) {
			t.Errorf("%s %s with a wrong token: WWW-Authenticate %q", ep.method, ep.path, got)
		}
		if strings.Contains(string(r.body), testToken) {
			t.Errorf("%s %s: the answer repeats the token: %s", ep.method, ep.path, r.body)
		}
	}
	if n := f.store.Len(); n != 1 {
		t.Errorf("%d workspaces after unauthenticated requests, want 1", n)
	}
	if live := f.hetzner.Live(); len(live) != 0 {
		t.Errorf("an unauthenticated PATCH created Hetzner VMs: %v", live)
	}

	f.send("GET", "/healthz", "").wantStatus(t, http.StatusOK)
	f.send("GET", "/workspaces/ws-1", "", "Authorization", "bearer "+testToken).wantStatus(t, http.StatusOK)
}

func TestTheAuthorizeHookRefusesWith403(t *testing.T) {
	f := newFixture(t)
	ws := f.create("ws-1", cloudswitch.AWS)
	f.api.authorize = func(r *http.Request, req authzRequest) error {
		if req.Action == actionSwitch {
			return errors.New("only the workspace's owner may change its compute")
		}
		return nil
	}
	r := f.do("PATCH", "/workspaces/ws-1/compute", `{"provider":"hetzner","confirm_recreate":true}`)
	r.wantStatus(t, http.StatusForbidden)
	if p := r.problem(t); !strings.Contains(p.Detail, "owner") {
		t.Errorf("detail %q does not say why", p.Detail)
	}
	if got := f.do("GET", "/workspaces/ws-1", "").workspace(t); got.Version != ws.Version || got.Compute.Provider != cloudswitch.AWS {
		t.Errorf("a refused switch changed the workspace: %+v", got)
	}
}

func TestCreateRecordsTheWorkspaceAndItsFirstVM(t *testing.T) {
	f := newFixture(t)
	r := f.do("POST", "/workspaces", `{"id":"ws-1","compute":{"provider":"hetzner","region":"nbg1"}}`)
	r.wantStatus(t, http.StatusCreated)
	ws := r.workspace(t)
	if got := r.header.Get("Location"); got != "/workspaces/ws-1" {
		t.Errorf("Location %q", got)
	}
	if got := r.header.Get("ETag"); got != etag(ws.Version) {
		t.Errorf("ETag %q, body version %d", got, ws.Version)
	}
	if ws.Compute != (cloudswitch.Compute{Provider: "hetzner", InstanceType: "cpx31", Region: "nbg1"}) {
		t.Errorf("compute %+v: want the default instance type filled in", ws.Compute)
	}
	live := f.hetzner.Live()
	if ws.Instance == nil || len(live) != 1 || live[0].ID != ws.Instance.ID || ws.Pending != nil {
		t.Fatalf("instance %+v, pending %+v; live on hetzner: %v", ws.Instance, ws.Pending, live)
	}

	r = f.do("POST", "/workspaces", `{"id":"ws-1","compute":{"provider":"aws"}}`)
	r.wantStatus(t, http.StatusConflict)
	r.problem(t)
	if n := len(f.aws.Live()); n != 0 {
		t.Errorf("a refused create made %d AWS VMs", n)
	}
}

func TestCreateRefusesWhatCannotRun(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name, body, field string
		allowed           []string
	}{
		{"bad id", `{"id":"WS 1","compute":{"provider":"aws"}}`, "id", nil},
		{"no provider", `{"id":"ws-1","compute":{}}`, "provider", []string{"aws", "hetzner"}},
		{"unknown provider", `{"id":"ws-1","compute":{"provider":"azure"}}`, "provider", []string{"aws", "gcp", "hetzner"}},
		{"provider without a driver", `{"id":"ws-1","compute":{"provider":"gcp"}}`, "provider", []string{"aws", "hetzner"}},
		{"instance type of another provider", `{"id":"ws-1","compute":{"provider":"aws","instance_type":"cpx31"}}`, "instance_type", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := f.do("POST", "/workspaces", tc.body)
			r.wantStatus(t, http.StatusBadRequest)
			p := r.problem(t)
			if p.Field != tc.field {
				t.Errorf("field %q, want %q: %s", p.Field, tc.field, r.body)
			}
			if tc.allowed != nil && !slices.Equal(p.Allowed, tc.allowed) {
				t.Errorf("allowed %v, want %v", p.Allowed, tc.allowed)
			}
			if !strings.Contains(p.Detail, tc.field) {
				t.Errorf("detail %q does not name the field", p.Detail)
			}
		})
	}
	if n := f.store.Len(); n != 0 {
		t.Errorf("refused creates left %d records", n)
	}
}

func TestSwitchWithConfirmationAndIfMatch(t *testing.T) {
	f := newFixture(t)
	ws := f.create("ws-1", cloudswitch.AWS)
	old := ws.Instance.ID

	r := f.do("PATCH", "/workspaces/ws-1/compute", `{"provider":"hetzner"}`)
	r.wantStatus(t, http.StatusPreconditionRequired)
	if p := r.problem(t); !strings.Contains(p.Detail, "confirm_recreate") {
		t.Errorf("428 detail %q does not say how to confirm", p.Detail)
	}

	r = f.do("PATCH", "/workspaces/ws-1/compute", `{"provider":"hetzner","instance_type":"t3.large","confirm_recreate":true}`)
	r.wantStatus(t, http.StatusBadRequest)
	if p := r.problem(t); p.Field != "instance_type" || !slices.Contains(p.Allowed, "cpx31") {
		t.Errorf("400 names field %q, allowed %v", p.Field, p.Allowed)
	}

	r = f.do("PATCH", "/workspaces/ws-1/compute", `{"provider":"hetzner","confirm_recreate":true}`,
		"If-Match", etag(ws.Version-1))
	r.wantStatus(t, http.StatusPreconditionFailed)
	if p := r.problem(t); p.CurrentVersion != ws.Version {
		t.Errorf("412 current_version %d, want %d", p.CurrentVersion, ws.Version)
	}

	if got := f.do("GET", "/workspaces/ws-1", "").workspace(t); got.Version != ws.Version || !f.aws.Exists(old) {
		t.Fatalf("refused requests changed something: %+v, old VM exists: %v", got, f.aws.Exists(old))
	}

	r = f.do("PATCH", "/workspaces/ws-1/compute", `{"provider":"hetzner","confirm_recreate":true}`,
		"If-Match", etag(ws.Version))
	r.wantStatus(t, http.StatusOK)
	got := r.workspace(t)
	live := f.hetzner.Live()
	if got.Compute.Provider != cloudswitch.Hetzner || got.Instance == nil || len(live) != 1 ||
		got.Instance.ID != live[0].ID || f.aws.Exists(old) || got.Pending != nil {
		t.Fatalf("after the switch: %+v; hetzner live %v; old AWS VM exists: %v", got, live, f.aws.Exists(old))
	}
	if r.header.Get("ETag") != etag(got.Version) || got.Version <= ws.Version {
		t.Errorf("ETag %q, version %d after %d", r.header.Get("ETag"), got.Version, ws.Version)
	}
}

func TestSameProviderEditsKeepTheVM(t *testing.T) {
	f := newFixture(t)
	ws := f.create("ws-1", cloudswitch.AWS)
	r := f.do("PATCH", "/workspaces/ws-1/compute", `{"instance_type":"t3.large"}`)
	r.wantStatus(t, http.StatusOK)
	got := r.workspace(t)
	if got.Compute.Provider != cloudswitch.AWS || got.Compute.InstanceType != "t3.large" ||
		got.Instance == nil || got.Instance.ID != ws.Instance.ID || !f.aws.Exists(ws.Instance.ID) {
		t.Errorf("an edit without a provider moved or lost the VM: %+v", got)
	}
}

func TestASwitchInProgressIs409WithRetryAfter(t *testing.T) {
	f := newFixture(t)
	f.create("ws-1", cloudswitch.AWS)
	// Another process's switch, leased for an hour.
	w, err := f.store.Get(t.Context(), "ws-1")
	require.NoError(t, err)
	w.Pending = &cloudswitch.Intent{ID: "0123456789abcdef0123456789abcdef", Strategy: cloudswitch.BreakBeforeMake,
		Phase: cloudswitch.PhaseDeprovision, From: w.Compute, To: cloudswitch.Compute{Provider: "hetzner", InstanceType: "cpx31"},
		Old: w.Instance, Provision: true, Token: "0123456789abcdef0123456789abcdef", Owner: cloudswitch.DefaultOwner,
		Holder: "someone-else", LeaseExpires: time.Now().Add(time.Hour), StartedAt: time.Now(), Claims: 1}
	_, err = f.store.Update(t.Context(), w)
	require.NoError(t, err)

	for _, req := range []struct{ method, path, body string }{
		{"PATCH", "/workspaces/ws-1/compute", `{"instance_type":"t3.large"}`},
		{"POST", "/workspaces/ws-1/resume", ""},
	} {
		r := f.do(req.method, req.path, req.body)
		r.wantStatus(t, http.StatusConflict)
		p := r.problem(t)
		if p.Intent != w.Pending.ID || p.LeaseExpires == nil {
			t.Errorf("%s %s: 409 does not name the switch: %s", req.method, req.path, r.body)
		}
		secs, err := strconv.Atoi(r.header.Get("Retry-After"))
		if err != nil || secs < 3000 {
			t.Errorf("%s %s: Retry-After %q, want about the lease's hour", req.method, req.path, r.header.Get("Retry-After"))
		}
	}
	r := f.do("GET", "/workspaces/ws-1", "")
	if got := r.workspace(t); got.Pending == nil || got.Pending.ID != w.Pending.ID || got.Pending.Phase != cloudswitch.PhaseDeprovision {
		t.Errorf("GET does not show the switch in flight: %s", r.body)
	}
}

func TestAProviderThatRefusesIs502AndNothingChanges(t *testing.T) {
	f := newFixture(t)
	ws := f.create("ws-1", cloudswitch.AWS)
	f.aws.FailNext(memprovider.OpDeprovision, 1, memprovider.ErrDenied)
	r := f.do("PATCH", "/workspaces/ws-1/compute", `{"provider":"hetzner","confirm_recreate":true}`)
	r.wantStatus(t, http.StatusBadGateway)
	if p := r.problem(t); !strings.Contains(p.Detail, "retrying is safe") || !strings.Contains(p.Detail, "refused") {
		t.Errorf("502 detail %q does not say what refused and the advice", p.Detail)
	}
	got := f.do("GET", "/workspaces/ws-1", "").workspace(t)
	if got.Compute.Provider != cloudswitch.AWS || got.Instance == nil || got.Instance.ID != ws.Instance.ID ||
		got.Pending != nil || len(f.hetzner.Live()) != 0 {
		t.Errorf("an aborted switch changed something: %+v; hetzner live %v", got, f.hetzner.Live())
	}
	// And a retry works.
	f.do("PATCH", "/workspaces/ws-1/compute", `{"provider":"hetzner","confirm_recreate":true}`).wantStatus(t, http.StatusOK)
}

func TestASwitchThatCannotFinishIs202AndResumeFinishesIt(t *testing.T) {
	f := newFixture(t)
	ws := f.create("ws-1", cloudswitch.AWS)
	f.aws.FailNext(memprovider.OpDeprovision, 100, memprovider.ErrUnavailable)
	r := f.do("PATCH", "/workspaces/ws-1/compute", `{"provider":"hetzner","confirm_recreate":true}`)
	r.wantStatus(t, http.StatusAccepted)
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("202 Content-Type %q", ct)
	}
	if got := r.header.Get("Location"); got != "/workspaces/ws-1" {
		t.Errorf("202 Location %q", got)
	}
	p := r.problem(t)
	pending := f.do("GET", "/workspaces/ws-1", "").workspace(t).Pending
	if pending == nil || p.Intent != pending.ID || !strings.Contains(p.Detail, "/workspaces/ws-1/resume") {
		t.Fatalf("202 %s; pending %+v", r.body, pending)
	}

	f.aws.ClearFaults()
	r = f.do("POST", "/workspaces/ws-1/resume", "")
	r.wantStatus(t, http.StatusOK)
	got := r.workspace(t)
	live := f.hetzner.Live()
	if got.Pending != nil || got.Compute.Provider != cloudswitch.Hetzner || got.Instance == nil ||
		len(live) != 1 || live[0].ID != got.Instance.ID || f.aws.Exists(ws.Instance.ID) {
		t.Errorf("after resume: %+v; hetzner live %v; old VM exists %v", got, live, f.aws.Exists(ws.Instance.ID))
	}

	// Resume on a settled workspace changes nothing.
	again := f.do("POST", "/workspaces/ws-1/resume", "")
	again.wantStatus(t, http.StatusOK)
	if v := again.workspace(t).Version; v != got.Version {
		t.Errorf("resume without a switch in flight wrote version %d after %d", v, got.Version)
	}
}

func TestACreateWhoseVMFailsSaysHowToRetry(t *testing.T) {
	f := newFixture(t)
	f.aws.FailNext(memprovider.OpProvision, 1, memprovider.ErrQuota)
	r := f.do("POST", "/workspaces", `{"id":"ws-1","compute":{"provider":"aws"}}`)
	r.wantStatus(t, http.StatusBadGateway)
	if p := r.problem(t); p.Type != typeProvisionAborted || !strings.Contains(p.Detail, "PATCH /workspaces/ws-1/compute") {
		t.Errorf("problem %+v", p)
	}
	r = f.do("PATCH", "/workspaces/ws-1/compute", `{}`)
	r.wantStatus(t, http.StatusOK)
	if ws := r.workspace(t); ws.Instance == nil || len(f.aws.Live()) != 1 {
		t.Errorf("PATCH {} did not give the workspace its VM: %+v", ws)
	}
}

func TestBodiesAreCheckedStrictly(t *testing.T) {
	f := newFixture(t)
	f.create("ws-1", cloudswitch.AWS)
	for _, tc := range []struct {
		name, body string
		status     int
		detail     string
	}{
		{"unknown field", `{"provider":"hetzner","confirm":true}`, http.StatusBadRequest, `unknown field "confirm"`},
		{"empty", ` `, http.StatusBadRequest, "empty"},
		{"not JSON", `provider=hetzner`, http.StatusBadRequest, "not valid JSON"},
		{"two values", `{} {}`, http.StatusBadRequest, "more than one"},
		{"wrong type", `{"confirm_recreate":"yes"}`, http.StatusBadRequest, "confirm_recreate"},
		{"too large", `{"image":"` + strings.Repeat("x", maxBody) + `"}`, http.StatusRequestEntityTooLarge, "64 KiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := f.do("PATCH", "/workspaces/ws-1/compute", tc.body)
			r.wantStatus(t, tc.status)
			if p := r.problem(t); !strings.Contains(p.Detail, tc.detail) {
				t.Errorf("detail %q does not mention %q", p.Detail, tc.detail)
			}
		})
	}
	for _, h := range []string{`3`, `W/"3"`, `"3", "4"`, `"x"`} {
		r := f.do("PATCH", "/workspaces/ws-1/compute", `{}`, "If-Match", h)
		r.wantStatus(t, http.StatusBadRequest)
		r.problem(t)
	}
}

func TestMissingWorkspacesAre404(t *testing.T) {
	f := newFixture(t)
	for _, req := range []struct{ method, path, body string }{
		{"GET", "/workspaces/nope", ""},
		{"PATCH", "/workspaces/nope/compute", `{"instance_type":"t3.large"}`},
		{"POST", "/workspaces/nope/resume", ""},
	} {
		r := f.do(req.method, req.path, req.body)
		r.wantStatus(t, http.StatusNotFound)
		if p := r.problem(t); p.Workspace != "nope" {
			t.Errorf("%s %s: problem does not name the workspace: %s", req.method, req.path, r.body)
		}
	}
}
