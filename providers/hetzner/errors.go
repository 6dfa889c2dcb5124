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

// ErrNotOurs is cloudswitch.ErrNotOurs, which the driver returns when a
// server's labels name another workspace, installation, owner or token than
// the call was about: Deprovision then deletes nothing, and Provision never
// adopts a server that has the token's name but not its labels.
//
// Deprecated: test for cloudswitch.ErrNotOurs.
var ErrNotOurs = cloudswitch.ErrNotOurs

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
	"unavailable":                     true,
	// Capacity: the server type may be orderable in the location again
	// later; until then the create is refused.
	hcloud.ErrorCodeResourceUnavailable: true,
	hcloud.ErrorCodePlacementError:      true,
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
	hcloud.ErrorCodeResourceLocked:        true,
	"token_readonly":                      true,
	"method_not_allowed":                  true,
	hcloud.ErrorUnsupportedError:          true,
	hcloud.ErrorDeprecatedAPIEndpoint:     true,
}

// refusalCodes are the API error codes the Hetzner Cloud API reference
// ("Errors", and "Create a Server" for placement_error) documents as
// answered before the call took effect: authentication, permission,
// validation, quota, protection, capacity and rate limiting. Nothing else is
// a refusal: not server_error, service_error, unavailable, timeout or
// bad_gateway (the API may have acted before it failed), not locked or
// conflict (answered about a resource whose state moves), not an unknown
// code, not a bare status from something in front of the API.
var refusalCodes = map[hcloud.ErrorCode]bool{
	hcloud.ErrorCodeUnauthorized:          true,
	"token_readonly":                      true,
	hcloud.ErrorCodeForbidden:             true,
	hcloud.ErrorCodeInvalidInput:          true,
	hcloud.ErrorCodeJSONError:             true,
	hcloud.ErrorCodeUniquenessError:       true,
	hcloud.ErrorCodeResourceLimitExceeded: true,
	hcloud.ErrorCodeResourceUnavailable:   true,
	hcloud.ErrorCodePlacementError:        true,
	hcloud.ErrorCodeProtected:             true,
	hcloud.ErrorCodeResourceLocked:        true,
	hcloud.ErrorCodeRateLimitExceeded:     true,
	hcloud.ErrorCodeMaintenance:           true,
	hcloud.ErrorUnsupportedError:          true,
	hcloud.ErrorDeprecatedAPIEndpoint:     true,
	"method_not_allowed":                  true,
}

// refusal reports whether err is the API's documented answer that it did not
// act (see refusalCodes); not_found counts when the call was not about one
// server (a create naming an image or type that does not exist).
func refusal(err error, instance bool) bool {
	var apiErr hcloud.Error
	if !errors.As(err, &apiErr) {
		return false
	}
	if apiErr.Code == hcloud.ErrorCodeNotFound {
		return !instance
	}
	return refusalCodes[apiErr.Code]
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
// transient error, cloudswitch.ErrRefused for an answer the API documents
// as given before acting (see refusalCodes),
// cloudswitch.ErrInstanceNotFound for not_found when instance says the call
// was about one server (a missing image or type in a create is a refusal,
// not a missing instance), the context's error when ctx ended; and
// errors.As still reaches the hcloud error. The message never carries the
// API token.
func (d *Driver) fail(ctx context.Context, op string, instance bool, resp *hcloud.Response, err error) error {
	c := classify(ctx, resp, err)
	if c == cancelled {
		return d.cancelled(ctx, op, err)
	}
	if refusal(err, instance) {
		err = cloudswitch.Refused(err)
	}
	switch c {
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
