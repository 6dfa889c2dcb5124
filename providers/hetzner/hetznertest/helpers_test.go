package hetznertest_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"
	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch/providers/hetzner/hetznertest"
)

// createOpts is a valid create request for a server named name.
func createOpts(name string, labels map[string]string) hcloud.ServerCreateOpts {
	return hcloud.ServerCreateOpts{
		Name: name, ServerType: &hcloud.ServerType{Name: "cpx31"}, Image: &hcloud.Image{Name: "ubuntu-24.04"},
		Location: &hcloud.Location{Name: "nbg1"}, Labels: labels,
	}
}

// create creates a server and waits for its actions.
func create(t *testing.T, c *hcloud.Client, name string, labels map[string]string) *hcloud.Server {
	ctx := t.Context()
	t.Helper()
	res, _, err := c.Server.Create(ctx, createOpts(name, labels))
	require.NoErrorf(t, err, "creating %s", name)
	require.NoErrorf(t, c.Action.WaitFor(ctx, append([]*hcloud.Action{res.Action}, res.NextActions...)...), "waiting for %s", name)
	return res.Server
}

// wantAPIError fails unless err is an API error with this code and status.
func wantAPIError(t *testing.T, err error, code hcloud.ErrorCode, status int) hcloud.Error {
	t.Helper()
	var apiErr hcloud.Error
	if !errors.As(err, &apiErr) {
		t.Fatalf("got %v; want API error %s", err, code)
	}
	if apiErr.Code != code {
		t.Fatalf("got code %s (%v); want %s", apiErr.Code, err, code)
	}
	if got := apiErr.Response().StatusCode; got != status {
		t.Fatalf("%s answered with status %d; want %d", code, got, status)
	}
	return apiErr
}

// call makes a raw request and returns the status, content type and
// decoded JSON body.
func call(t *testing.T, srv *hetznertest.Server, method, path, token string, body string) (int, string, map[string]any) {
	ctx := t.Context()
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, srv.URL()+path, r)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoErrorf(t, err, "%s %s", method, path)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var out map[string]any
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s %s: answer is not JSON: %v: %s", method, path, err, raw)
		}
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), out
}

// names returns the names of servers.
func names(servers []*hcloud.Server) []string {
	var out []string
	for _, s := range servers {
		out = append(out, s.Name)
	}
	return out
}
