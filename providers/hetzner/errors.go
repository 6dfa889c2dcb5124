package hetzner

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/internal/redact"
)

// ErrNotOurs is returned by Provision when the server name derived from the
// request's token is taken by a server whose labels do not say it was
// created for that token and owner. That server is never adopted nor
// touched: someone else's server, or a token reused by mistake. The error
// is permanent.
var ErrNotOurs = errors.New("hetzner: a server with the token's name exists but its labels do not say it was created for this token and owner")

// class is what an error means for the caller.
type class int

const (
	// permanent: retrying cannot help.
	permanent class = iota
	// transient: may go away when retried (throttling, 5xx, broken
	// connections, timeouts).
	transient
	// notFound: the API says the resource does not exist.
	notFound
	// cancelled: the caller's context ended.
	cancelled
)

// transientCodes are the API error codes that may go away when retried.
// hcloud-go retries conflict, rate_limit_exceeded, bad_gateway and timeout
// itself, but not the others.
var transientCodes = map[hcloud.ErrorCode]bool{
	hcloud.ErrorCodeRateLimitExceeded: true,
	hcloud.ErrorCodeConflict:          true,
	hcloud.ErrorCodeLocked:            true,
	hcloud.ErrorCodeServerError:       true,
	hcloud.ErrorCodeServiceError:      true,
	hcloud.ErrorCodeMaintenance:       true,
	hcloud.ErrorCodeTimeout:           true,
	hcloud.ErrorCodeBadGateway:        true,
	hcloud.ErrorCodeRobotUnavailable:  true,
}

// permanentCodes are the API error codes retrying cannot help with.
var permanentCodes = map[hcloud.ErrorCode]bool{
	hcloud.ErrorCodeUnauthorized:          true,
	hcloud.ErrorCodeForbidden:             true,
	hcloud.ErrorCodeInvalidInput:          true,
	hcloud.ErrorCodeJSONError:             true,
	hcloud.ErrorCodeUniquenessError:       true,
	hcloud.ErrorCodeResourceLimitExceeded: true,
	hcloud.ErrorCodeProtected:             true,
	hcloud.ErrorCodeResourceUnavailable:   true,
	hcloud.ErrorCodeResourceLocked:        true,
	hcloud.ErrorUnsupportedError:          true,
	hcloud.ErrorDeprecatedAPIEndpoint:     true,
}

// classify says what err, returned by an API call made with ctx (resp is
// the call's response, possibly nil), means for the caller:
//
//   - cancelled when ctx has ended, whatever the error;
//   - notFound for the API error not_found;
//   - transient for the codes in transientCodes, for other codes and bare
//     answers (hcloud.ErrStatusCode) with status 429, 500, 502, 503 or 504,
//     and for broken connections, resets, refused connections and network
//     timeouts;
//   - permanent otherwise: the codes in permanentCodes, other 4xx answers —
//     a bare 404 included, which is not the API saying "no such server" —,
//     certificate errors, failed actions, malformed answers, invalid
//     arguments.
func classify(ctx context.Context, resp *hcloud.Response, err error) class {
	if ctx.Err() != nil {
		return cancelled
	}
	var apiErr hcloud.Error
	if errors.As(err, &apiErr) {
		switch {
		case apiErr.Code == hcloud.ErrorCodeNotFound:
			return notFound
		case transientCodes[apiErr.Code]:
			return transient
		case permanentCodes[apiErr.Code]:
			return permanent
		}
		if r := apiErr.Response(); r != nil && r.Response != nil {
			return classifyStatus(r.StatusCode)
		}
		return permanent
	}
	if errors.Is(err, hcloud.ErrStatusCode) {
		if resp != nil && resp.Response != nil {
			return classifyStatus(resp.StatusCode)
		}
		return permanent
	}
	var (
		actionErr   hcloud.ActionError
		unknownCA   x509.UnknownAuthorityError
		badHost     x509.HostnameError
		badCert     x509.CertificateInvalidError
		verifyErr   *tls.CertificateVerificationError
		netErr      net.Error
		argumentErr hcloud.ArgumentError
	)
	switch {
	case errors.As(err, &actionErr), errors.As(err, &argumentErr),
		errors.As(err, &unknownCA), errors.As(err, &badHost), errors.As(err, &badCert), errors.As(err, &verifyErr):
		return permanent
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNABORTED), errors.Is(err, syscall.EPIPE),
		errors.Is(err, context.DeadlineExceeded), // an HTTP client timeout, the caller's context being alive
		errors.As(err, &netErr):
		return transient
	}
	return permanent
}

// classifyStatus classifies an HTTP status without an API error code.
func classifyStatus(status int) class {
	switch status {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return transient
	}
	return permanent
}

// fail wraps err, which the API call op failed with, so that the caller can
// tell what it means: errors.Is(err, cloudswitch.ErrTransient) for a
// transient error, cloudswitch.ErrInstanceNotFound for not_found when
// instance says the call was about one server (a missing image or type in
// a create is a permanent error, not a missing instance), the context's
// error when ctx ended; and errors.As still reaches the hcloud error. The
// message never carries the API token.
func (d *Driver) fail(ctx context.Context, op string, instance bool, resp *hcloud.Response, err error) error {
	switch classify(ctx, resp, err) {
	case cancelled:
		return d.cancelled(ctx, op, err)
	case transient:
		return d.scrub(fmt.Errorf("hetzner: %s: %w: %w", op, cloudswitch.ErrTransient, err))
	case notFound:
		if instance {
			return d.scrub(fmt.Errorf("hetzner: %s: %w: %w", op, cloudswitch.ErrInstanceNotFound, err))
		}
	}
	return d.scrub(fmt.Errorf("hetzner: %s: %w", op, err))
}

// cancelled wraps err, which op failed with after ctx ended, so that it
// matches the context's error.
func (d *Driver) cancelled(ctx context.Context, op string, err error) error {
	if cause := ctx.Err(); !errors.Is(err, cause) {
		return d.scrub(fmt.Errorf("hetzner: %s: %w: %w", op, cause, err))
	}
	return d.scrub(fmt.Errorf("hetzner: %s: %w", op, err))
}

// uncertain wraps an error that leaves the outcome of an accepted call
// unknown — waiting for its action failed —: transient (calling again
// settles it), or the context's error when ctx ended. Never permanent: a
// permanent error would claim nothing happened.
func (d *Driver) uncertain(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil {
		return d.cancelled(ctx, op, err)
	}
	return d.scrub(fmt.Errorf("hetzner: %s: %w: %w", op, cloudswitch.ErrTransient, err))
}

// scrub hides the API token, and anything else that looks like a
// credential, in err's message; errors.Is and errors.As still reach every
// cause.
func (d *Driver) scrub(err error) error {
	if err == nil {
		return nil
	}
	return &scrubbed{err: err, secret: d.secret}
}

// scrubbed is an error whose message is redacted.
type scrubbed struct {
	err    error
	secret string
}

func (e *scrubbed) Error() string {
	s := e.err.Error()
	if e.secret != "" {
		s = strings.ReplaceAll(s, e.secret, redact.Mask)
	}
	return redact.String(s)
}

func (e *scrubbed) Unwrap() error { return e.err }
