package hetzner

import (
	"context"
	"errors"
	"fmt"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/internal/redact"
	"github.com/cloudswitch/cloudswitch/internal/transport"
)

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

// refusal reports whether err, returned by an API call made with ctx, says
// the API did not act: an answer the API documents as given before acting
// (see refusalCodes; not_found counts when instance says the call was not
// about one server, as a create naming an image or type that does not
// exist), or a failure internal/transport says the request never left with
// (a failed dial or DNS lookup, a rejected certificate). A bare status is
// never one. Like a code, a transport refusal speaks of the SDK's last
// attempt at the call (see ClientOptions for the SDK's retries), and of
// net/http's last attempt: for a call made with a ctx that
// transport.Watch returned, no answer is a refusal once more than one
// request of the call was written (transport.Resent).
func refusal(ctx context.Context, err error, instance bool) bool {
	if ctx.Err() != nil {
		return false
	}
	var apiErr hcloud.Error
	if errors.As(err, &apiErr) {
		if transport.Resent(ctx) {
			return false
		}
		if apiErr.Code == hcloud.ErrorCodeNotFound {
			return !instance
		}
		return refusalCodes[apiErr.Code]
	}
	if errors.Is(err, hcloud.ErrStatusCode) || sdkFailure(err) {
		return false
	}
	return transport.Classify(ctx, err).Refused
}

// classify says what err, returned by an API call made with ctx (resp is
// the call's response, possibly nil), means for the caller:
//
//   - cancelled when ctx has ended, whatever the error;
//   - notFound for the API error not_found;
//   - transient for the codes in transientCodes;
//   - permanent for the codes in permanentCodes, for failed actions and
//     invalid arguments;
//   - for other codes and for bare answers (hcloud.ErrStatusCode), what
//     internal/transport says of their status: 408, 429 and 5xx transient,
//     any other permanent (a bare 404 is not the API saying "no such
//     server"); permanent when there is no status;
//   - for every other failure, what internal/transport says: broken,
//     reset or refused connections, DNS failures and timeouts are
//     transient; certificate errors and malformed answers permanent.
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
			return classOf(transport.Status(r.StatusCode))
		}
		return permanent
	}
	if errors.Is(err, hcloud.ErrStatusCode) {
		if resp != nil && resp.Response != nil {
			return classOf(transport.Status(resp.StatusCode))
		}
		return permanent
	}
	if sdkFailure(err) {
		return permanent
	}
	return classOf(transport.Classify(ctx, err))
}

// sdkFailure reports the SDK's own failures that are no transport's: an
// action that failed, an argument the SDK rejected.
func sdkFailure(err error) bool {
	var (
		actionErr   hcloud.ActionError
		argumentErr hcloud.ArgumentError
	)
	return errors.As(err, &actionErr) || errors.As(err, &argumentErr)
}

// classOf is the class of a verdict of internal/transport.
func classOf(v transport.Verdict) class {
	switch {
	case v.Cancelled:
		return cancelled
	case v.Transient:
		return transient
	}
	return permanent
}

// fail wraps err, which the API call op failed with, so that the caller can
// tell what it means: errors.Is(err, cloudswitch.ErrTransient) for a
// transient error, cloudswitch.ErrRefused for an answer the API documents
// as given before acting or a request that never left (see refusal),
// cloudswitch.ErrInstanceNotFound for not_found when instance says the call
// was about one server (a missing image or type in a create is a refusal,
// not a missing instance), the context's error when ctx ended; and
// errors.As still reaches the hcloud error. The message never carries the
// API token.
//
// Only the driver judges a refusal. A cause that matches
// cloudswitch.ErrRefused by itself (a rate-limiting transport refuses a
// request it has no token for) keeps that mark only while no request of the
// call was written (transport.Written): a later attempt's refusal says
// nothing of an earlier one's.
func (d *Driver) fail(ctx context.Context, op string, instance bool, resp *hcloud.Response, err error) error {
	c := classify(ctx, resp, err)
	if c == cancelled {
		return d.cancelled(ctx, op, err)
	}
	if refusal(ctx, err, instance) {
		err = cloudswitch.Refused(err)
	} else if transport.Written(ctx) > 0 {
		err = cloudswitch.AfterEffect(err)
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
// matches the context's error and is never a refusal, whatever err matches.
func (d *Driver) cancelled(ctx context.Context, op string, err error) error {
	if cause := ctx.Err(); !errors.Is(err, cause) {
		return d.scrub(cloudswitch.AfterEffect(fmt.Errorf("hetzner: %s: %w: %w", op, cause, err)))
	}
	return d.scrub(cloudswitch.AfterEffect(fmt.Errorf("hetzner: %s: %w", op, err)))
}

// uncertain wraps an error that leaves the outcome of an accepted call
// unknown — waiting for its action failed —: transient (calling again
// settles it), or the context's error when ctx ended. Never permanent: a
// permanent error would claim nothing happened. Never a refusal either,
// whatever err matches: a poll a rate-limiting transport refused says
// nothing of the call it waits for.
func (d *Driver) uncertain(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil {
		return d.cancelled(ctx, op, err)
	}
	return d.scrub(cloudswitch.AfterEffect(fmt.Errorf("hetzner: %s: %w: %w", op, cloudswitch.ErrTransient, err)))
}

// scrub hides the API token, and anything else that looks like a
// credential, in err's message; errors.Is and errors.As still reach every
// cause. nil stays nil.
func (d *Driver) scrub(err error) error { return redact.Error(err, d.secret) }
