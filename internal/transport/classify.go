package transport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"syscall"
)

// Classify returns the Verdict of err, the failure of a call made with ctx
// that is not an API's error answer (see the package doc). It looks through
// wrapped errors. A nil err is permanent and not refused; callers classify
// failures only. A dial, DNS or certificate failure is a refusal only when
// no request of the call was written before it: for a ctx that Watch
// returned, Written must be 0.
func Classify(ctx context.Context, err error) Verdict {
	switch {
	case ctx.Err() != nil:
		return Verdict{Cancelled: true}
	case err == nil:
		return Verdict{}
	case certificateFailure(err):
		// A handshake precedes its request, but not the requests of the
		// call written before it (see Watch).
		return Verdict{Refused: Written(ctx) == 0}
	case neverSent(err):
		return Verdict{Transient: true, Refused: Written(ctx) == 0}
	case brokenExchange(err):
		return Verdict{Transient: true}
	}
	return Verdict{}
}

// certificateFailure reports a TLS handshake that failed to verify the
// server: it precedes the request.
func certificateFailure(err error) bool {
	var (
		unknownCA x509.UnknownAuthorityError
		badHost   x509.HostnameError
		badCert   x509.CertificateInvalidError
		noRoots   x509.SystemRootsError
		verify    *tls.CertificateVerificationError
	)
	return errors.As(err, &unknownCA) || errors.As(err, &badHost) || errors.As(err, &badCert) ||
		errors.As(err, &noRoots) || errors.As(err, &verify)
}

// neverSent reports a failure to open the connection: a dial that failed
// (refused, timed out, unreachable), a failed proxy tunnel, a name that did
// not resolve. No byte of the request was written.
func neverSent(err error) bool {
	var (
		op  *net.OpError
		dns *net.DNSError
	)
	if errors.As(err, &op) && (op.Op == "dial" || op.Op == "proxyconnect") {
		return true
	}
	return errors.As(err, &dns) || errors.Is(err, syscall.ECONNREFUSED)
}

// brokenExchange reports a connection that failed under a request that may
// have been sent: timed out, reset, aborted, closed, cut short.
func brokenExchange(err error) bool {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNABORTED) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, context.DeadlineExceeded) { // an HTTP client's own timeout; the caller's context is alive
		return true
	}
	var ne net.Error
	return errors.As(err, &ne)
}
