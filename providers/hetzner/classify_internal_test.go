package hetzner

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"syscall"
	"testing"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"
)

// TestClassifyErrorsNoEmulatorAnswerProduces covers the errors the driver
// tests cannot provoke through the emulator: transport failures of every
// kind, certificate errors, the SDK's argument errors, failed actions.
func TestClassifyErrorsNoEmulatorAnswerProduces(t *testing.T) {
	live := context.Background()
	for name, c := range map[string]struct {
		err  error
		resp *hcloud.Response
		want class
	}{
		"reset":                  {fmt.Errorf("read: %w", syscall.ECONNRESET), nil, transient},
		"refused":                {fmt.Errorf("dial: %w", syscall.ECONNREFUSED), nil, transient},
		"broken pipe":            {fmt.Errorf("write: %w", syscall.EPIPE), nil, transient},
		"truncated body":         {fmt.Errorf("reading body: %w", io.ErrUnexpectedEOF), nil, transient},
		"client timeout":         {fmt.Errorf("awaiting headers: %w", context.DeadlineExceeded), nil, transient},
		"unknown authority":      {fmt.Errorf("tls: %w", x509.UnknownAuthorityError{}), nil, permanent},
		"bad argument":           {hcloud.ArgumentError("missing field [Name]"), nil, permanent},
		"failed action":          {hcloud.ActionError{Code: "action_failed", Message: "no"}, nil, permanent},
		"bare status, no reply":  {fmt.Errorf("hcloud: %w 503", hcloud.ErrStatusCode), nil, permanent},
		"bare 503":               {fmt.Errorf("hcloud: %w 503", hcloud.ErrStatusCode), &hcloud.Response{Response: &http.Response{StatusCode: 503}}, transient},
		"anything else":          {errors.New("hcloud: error reading response meta data"), nil, permanent},
		"unknown code, no reply": {hcloud.Error{Code: "a_new_code"}, nil, permanent},
	} {
		if got := classify(live, c.resp, c.err); got != c.want {
			t.Errorf("%s: classify(%v) = %d; want %d", name, c.err, got, c.want)
		}
	}
	ended, cancel := context.WithCancel(live)
	cancel()
	if got := classify(ended, nil, hcloud.Error{Code: hcloud.ErrorCodeForbidden}); got != cancelled {
		t.Errorf("with the context ended, classify = %d; want cancelled whatever the error", got)
	}
}
