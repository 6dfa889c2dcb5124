package hetzner_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"
	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/providers/hetzner"
	"github.com/cloudswitch/cloudswitch/providers/hetzner/hetznertest"
	"github.com/cloudswitch/cloudswitch/providers/providertest"
)

const owner = "cloudswitch-test"

// setup starts an emulator and a driver on it whose client makes no SDK
// retries, so that every injected fault reaches the driver.
func setup(t testing.TB, emulatorOpts []hetznertest.Option, opts ...hetzner.Option) (*hetznertest.Server, *hetzner.Driver) {
	t.Helper()
	srv := hetznertest.NewServer(t, emulatorOpts...)
	d, err := hetzner.New(srv.Client(hcloud.WithRetryOpts(hcloud.RetryOpts{MaxRetries: 0})), opts...)
	require.NoError(t, err)
	return srv, d
}

// request is a valid request for a VM of workspace with a fresh token.
func request(workspace string) cloudswitch.ProvisionRequest {
	return cloudswitch.ProvisionRequest{
		WorkspaceID: workspace, Token: token(), Owner: owner,
		Compute: cloudswitch.Compute{Provider: cloudswitch.Hetzner, InstanceType: "cpx21"},
	}
}

// token is a fresh idempotency token, as the Switcher makes them.
func token() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func provision(t testing.TB, d *hetzner.Driver, req cloudswitch.ProvisionRequest) cloudswitch.Instance {
	ctx := t.Context()
	t.Helper()
	inst, err := d.Provision(ctx, req)
	require.NoErrorf(t, err, "Provision(%+v)", req)
	return inst
}

// list collects Instances(owner), failing on an error.
func list(t testing.TB, d *hetzner.Driver, owner string) []cloudswitch.Instance {
	t.Helper()
	out, err := providertest.Listed(t.Context(), d, owner)
	require.NoErrorf(t, err, "Instances(%q)", owner)
	return out
}

// vmByID returns the ground truth of the server an Instance names.
func vmByID(t testing.TB, srv *hetznertest.Server, id string) (hetznertest.Instance, bool) {
	t.Helper()
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		t.Fatalf("instance id %q is not a number", id)
	}
	for _, vm := range srv.Instances() {
		if vm.ID == n {
			return vm, true
		}
	}
	return hetznertest.Instance{}, false
}

// apiCode returns the hcloud error code under err, or "".
func apiCode(err error) hcloud.ErrorCode {
	var apiErr hcloud.Error
	if errors.As(err, &apiErr) {
		return apiErr.Code
	}
	return ""
}

// proxy is the emulator behind a rewriting reverse proxy, for answers the
// emulator never gives (failed actions, a selector ignored, pagination
// going backwards).
type proxy struct {
	*httptest.Server
	// query rewrites the query of every request, if set.
	query func(path string, q url.Values)
	// body rewrites every JSON answer, decoded, if set.
	body func(path string, answer map[string]any)
}

// newProxy starts a proxy in front of srv and returns a driver using it.
func newProxy(t testing.TB, srv *hetznertest.Server, p *proxy, opts ...hetzner.Option) *hetzner.Driver {
	t.Helper()
	target, err := url.Parse(srv.URL())
	require.NoError(t, err)
	rp := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
		if p.query != nil {
			q := r.Out.URL.Query()
			p.query(r.Out.URL.Path, q)
			r.Out.URL.RawQuery = q.Encode()
		}
	}}
	rp.ModifyResponse = func(resp *http.Response) error {
		if p.body == nil || resp.Header.Get("Content-Type") != "application/json" {
			return nil
		}
		raw, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		var answer map[string]any
		if err := json.Unmarshal(raw, &answer); err != nil {
			return err
		}
		p.body(resp.Request.URL.Path, answer)
		raw, err = json.Marshal(answer)
		if err != nil {
			return err
		}
		resp.Body = io.NopCloser(bytes.NewReader(raw))
		resp.ContentLength = int64(len(raw))
		resp.Header.Set("Content-Length", strconv.Itoa(len(raw)))
		return nil
	}
	p.Server = httptest.NewServer(rp)
	t.Cleanup(p.Close)
	client := hcloud.NewClient(
		hcloud.WithEndpoint(p.URL), hcloud.WithToken(srv.Token()),
		hcloud.WithPollOpts(hcloud.PollOpts{BackoffFunc: hcloud.ConstantBackoff(time.Millisecond)}),
		hcloud.WithRetryOpts(hcloud.RetryOpts{MaxRetries: 0}),
	)
	d, err := hetzner.New(client, opts...)
	require.NoError(t, err)
	return d
}

// failActions makes every action of command fail in the answers that show
// it finished.
func failActions(command string) func(string, map[string]any) {
	fail := func(a any) {
		action, ok := a.(map[string]any)
		if ok && action["command"] == command && action["status"] == "success" {
			action["status"] = "error"
			action["error"] = map[string]any{"code": "action_failed", "message": "emulated failure"}
		}
	}
	return func(_ string, answer map[string]any) {
		fail(answer["action"])
		if list, ok := answer["actions"].([]any); ok {
			for _, a := range list {
				fail(a)
			}
		}
	}
}

func itoa(id int64) string { return strconv.FormatInt(id, 10) }

func serverRef(id int64) *hcloud.Server { return &hcloud.Server{ID: id} }
