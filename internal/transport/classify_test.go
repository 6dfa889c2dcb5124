package transport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"syscall"
	"testing"
)

// timeoutError is a net.Error that timed out, as a deadline on a
// connection reports.
type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

var (
	cancelled = Verdict{Cancelled: true}
	permanent = Verdict{}
	transient = Verdict{Transient: true}
	neverLeft = Verdict{Transient: true, Refused: true}
	badTLS    = Verdict{Refused: true}
)

// failures are the transport failures a driver meets, with their verdicts.
var failures = []struct {
	name string
	err  error
	want Verdict
}{
	{"dial refused", &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, neverLeft},
	{"dial timeout", &net.OpError{Op: "dial", Net: "tcp", Err: timeoutError{}}, neverLeft},
	{"dial unreachable", &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ENETUNREACH)}, neverLeft},
	{"proxy tunnel", &net.OpError{Op: "proxyconnect", Net: "tcp", Err: errors.New("EOF")}, neverLeft},
	{"bare connection refused", syscall.ECONNREFUSED, neverLeft},
	{"dns not found", &net.DNSError{Err: "no such host", Name: "api.example", IsNotFound: true}, neverLeft},
	{"dns timeout", &net.DNSError{Err: "i/o timeout", Name: "api.example", IsTimeout: true}, neverLeft},
	{"dns not found in a dial", &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", IsNotFound: true}}, neverLeft},
	{"unknown authority", x509.UnknownAuthorityError{}, badTLS},
	{"wrong host name", x509.HostnameError{Host: "api.example"}, badTLS},
	{"expired certificate", x509.CertificateInvalidError{Reason: x509.Expired}, badTLS},
	{"no system roots", x509.SystemRootsError{}, badTLS},
	{"verification", &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}, badTLS},
	{"read reset", &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}, transient},
	{"read timeout", &net.OpError{Op: "read", Net: "tcp", Err: timeoutError{}}, transient},
	{"write broken pipe", &net.OpError{Op: "write", Net: "tcp", Err: os.NewSyscallError("write", syscall.EPIPE)}, transient},
	{"connection aborted", syscall.ECONNABORTED, transient},
	{"reset", syscall.ECONNRESET, transient},
	{"eof", io.EOF, transient},
	{"unexpected eof", io.ErrUnexpectedEOF, transient},
	{"closed connection", net.ErrClosed, transient},
	{"client timeout", context.DeadlineExceeded, transient},
	{"other net error", timeoutError{}, transient},
	{"unknown", errors.New("malformed answer"), permanent},
}

func TestClassifyGivesEachTransportFailureItsVerdict(t *testing.T) {
	live := t.Context()
	for _, f := range failures {
		forms := map[string]error{
			"bare":    f.err,
			"wrapped": fmt.Errorf("send: %w", f.err),
			"url":     &url.Error{Op: "Post", URL: "https://api.example/servers", Err: f.err},
			"both":    fmt.Errorf("sdk: %w", &url.Error{Op: "Post", URL: "https://api.example/servers", Err: fmt.Errorf("round trip: %w", f.err)}),
		}
		for form, err := range forms {
			want := f.want
			if want == permanent && (form == "url" || form == "both") {
				// A *url.Error is a net.Error: the exchange failed, the
				// request may have been sent.
				want = transient
			}
			if got := Classify(live, err); got != want {
				t.Errorf("%s, %s: Classify(%v) = %+v; want %+v", f.name, form, err, got, want)
			}
		}
	}
}

func TestClassifyAnEndedContextIsCancelledWhateverTheError(t *testing.T) {
	ended, cancel := context.WithCancel(t.Context())
	cancel()
	for _, f := range failures {
		if got := Classify(ended, f.err); got != cancelled {
			t.Errorf("%s with the context ended: Classify = %+v; want cancelled", f.name, got)
		}
	}
	expired, cancel := context.WithTimeout(t.Context(), 0)
	defer cancel()
	<-expired.Done()
	if got := Classify(expired, context.DeadlineExceeded); got != cancelled {
		t.Errorf("past the caller's deadline: Classify = %+v; want cancelled, not a client timeout", got)
	}
}

func TestClassifyADialIsRefusedAndAReadIsNot(t *testing.T) {
	live := t.Context()
	cause := os.NewSyscallError("connect", syscall.ETIMEDOUT)
	dial := Classify(live, &net.OpError{Op: "dial", Net: "tcp", Err: cause})
	read := Classify(live, &net.OpError{Op: "read", Net: "tcp", Err: cause})
	if !dial.Refused || !dial.Transient {
		t.Errorf("a failed dial: %+v; want transient and refused (the request never left)", dial)
	}
	if read.Refused || !read.Transient {
		t.Errorf("a failed read: %+v; want transient, not refused (the request may have been sent)", read)
	}
}

func TestClassifyNil(t *testing.T) {
	if got := Classify(t.Context(), nil); got != permanent {
		t.Errorf("Classify(nil) = %+v; want the zero Verdict", got)
	}
}

func TestStatusGivesEachBareStatusItsVerdict(t *testing.T) {
	for status, want := range map[int]Verdict{
		408: transient, 429: transient,
		500: transient, 501: transient, 502: transient, 503: transient, 504: transient, 507: transient, 599: transient,
		400: permanent, 401: permanent, 403: permanent, 404: permanent, 409: permanent, 412: permanent, 418: permanent,
		0: permanent, 200: permanent, 302: permanent,
	} {
		if got := Status(status); got != want {
			t.Errorf("Status(%d) = %+v; want %+v", status, got, want)
		}
		if Status(status).Refused {
			t.Errorf("Status(%d) is a refusal; a bare status never proves the API did not act", status)
		}
	}
}
