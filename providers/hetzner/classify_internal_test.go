package hetzner

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"syscall"
	"testing"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"
)

// TestClassifyErrorsNoEmulatorAnswerProduces covers the errors the driver
// tests cannot provoke through the emulator: transport failures of every
// kind, certificate errors, the SDK's argument errors, failed actions,
// bare statuses. Only a request that certainly never left is a refusal.
func TestClassifyErrorsNoEmulatorAnswerProduces(t *testing.T) {
	live := t.Context()
	dial := func(err error) error {
		return &url.Error{Op: "Post", URL: "https://api.hetzner.cloud/v1/servers", Err: &net.OpError{Op: "dial", Net: "tcp", Err: err}}
	}
	status := func(code int) *hcloud.Response { return &hcloud.Response{Response: &http.Response{StatusCode: code}} }
	for name, c := range map[string]struct {
		err     error
		resp    *hcloud.Response
		want    class
		refused bool
	}{
		"reset":                  {fmt.Errorf("read: %w", syscall.ECONNRESET), nil, transient, false},
		"refused":                {fmt.Errorf("dial: %w", syscall.ECONNREFUSED), nil, transient, true},
		"dial refused":           {dial(syscall.ECONNREFUSED), nil, transient, true},
		"no such host":           {dial(&net.DNSError{Err: "no such host", Name: "api.hetzner.cloud", IsNotFound: true}), nil, transient, true},
		"broken pipe":            {fmt.Errorf("write: %w", syscall.EPIPE), nil, transient, false},
		"truncated body":         {fmt.Errorf("reading body: %w", io.ErrUnexpectedEOF), nil, transient, false},
		"client timeout":         {fmt.Errorf("awaiting headers: %w", context.DeadlineExceeded), nil, transient, false},
		"unknown authority":      {fmt.Errorf("tls: %w", x509.UnknownAuthorityError{}), nil, permanent, true},
		"bad argument":           {hcloud.ArgumentError("missing field [Name]"), nil, permanent, false},
		"failed action":          {hcloud.ActionError{Code: "action_failed", Message: "no"}, nil, permanent, false},
		"bare status, no reply":  {fmt.Errorf("hcloud: %w 503", hcloud.ErrStatusCode), nil, permanent, false},
		"bare 503":               {fmt.Errorf("hcloud: %w 503", hcloud.ErrStatusCode), status(503), transient, false},
		"bare 501":               {fmt.Errorf("hcloud: %w 501", hcloud.ErrStatusCode), status(501), transient, false},
		"bare 408":               {fmt.Errorf("hcloud: %w 408", hcloud.ErrStatusCode), status(408), transient, false},
		"bare 429":               {fmt.Errorf("hcloud: %w 429", hcloud.ErrStatusCode), status(429), transient, false},
		"bare 403":               {fmt.Errorf("hcloud: %w 403", hcloud.ErrStatusCode), status(403), permanent, false},
		"bare 404":               {fmt.Errorf("hcloud: %w 404", hcloud.ErrStatusCode), status(404), permanent, false},
		"anything else":          {errors.New("hcloud: error reading response meta data"), nil, permanent, false},
		"unknown code, no reply": {hcloud.Error{Code: "a_new_code"}, nil, permanent, false},
	} {
		if got := classify(live, c.resp, c.err); got != c.want {
			t.Errorf("%s: classify(%v) = %d; want %d", name, c.err, got, c.want)
		}
		if got := refusal(live, c.err, true); got != c.refused {
			t.Errorf("%s: refusal(%v) = %v; want %v", name, c.err, got, c.refused)
		}
	}
	ended, cancel := context.WithCancel(live)
	cancel()
	if got := classify(ended, nil, hcloud.Error{Code: hcloud.ErrorCodeForbidden}); got != cancelled {
		t.Errorf("with the context ended, classify = %d; want cancelled whatever the error", got)
	}
	if refusal(ended, dial(syscall.ECONNREFUSED), false) {
		t.Error("with the context ended, a failed dial is the context's error, not a refusal")
	}
}
