package gcp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"cloud.google.com/go/compute/apiv1/computepb"
	"github.com/googleapis/gax-go/v2/apierror"
	"google.golang.org/api/googleapi"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/internal/redact"
	"github.com/cloudswitch/cloudswitch/internal/transport"
)

// OperationError is a Compute Engine operation that was accepted and then
// finished (DONE) with an error, such as an insert refused for
// QUOTA_EXCEEDED after the API had taken it. Provision reports a failed
// insert as a permanent *OperationError: no instance remains, and repeating
// the request would only replay the same operation (its requestId is the
// token's).
type OperationError struct {
	// Kind is the operation's type: "insert" or "delete".
	Kind string
	// Name is the operation's name.
	Name string
	// Target is the instance, "zones/ZONE/instances/NAME".
	Target string
	// HTTPStatus is the operation's httpErrorStatusCode (0 if it has none).
	HTTPStatus int
	// Codes are the codes of the operation's errors ("QUOTA_EXCEEDED",
	// "ZONE_RESOURCE_POOL_EXHAUSTED", …).
	Codes []string
	// Message is the operation's error messages, joined.
	Message string
}

// Error says which operation failed, on what, and why.
func (e *OperationError) Error() string {
	return fmt.Sprintf("gcp: %s of %s failed (operation %s): %d %s: %s",
		e.Kind, e.Target, e.Name, e.HTTPStatus, strings.Join(e.Codes, ","), e.Message)
}

// operationError returns the error a finished operation carries, or nil if
// it succeeded.
func operationError(kind, target string, op *computepb.Operation) *OperationError {
	status := int(op.GetHttpErrorStatusCode())
	failed := len(op.GetError().GetErrors()) > 0 || (op.HttpErrorStatusCode != nil && (status < 200 || status > 299))
	if !failed {
		return nil
	}
	e := &OperationError{Kind: kind, Name: op.GetName(), Target: target, HTTPStatus: status}
	var msgs []string
	if m := op.GetHttpErrorMessage(); m != "" {
		msgs = append(msgs, m)
	}
	for _, item := range op.GetError().GetErrors() {
		e.Codes = append(e.Codes, item.GetCode())
		if m := item.GetMessage(); m != "" {
			msgs = append(msgs, m)
		}
	}
	e.Message = strings.Join(msgs, "; ")
	return e
}

// class is what an error means for the caller.
type class int

const (
	// permanent: retrying cannot help.
	permanent class = iota
	// transient: may go away when retried (throttling, 5xx, broken
	// connections, timeouts).
	transient
	// notFound: the API says the instance does not exist.
	notFound
	// cancelled: the caller's context ended.
	cancelled
)

// reasonResourceNotReady is the 400 reason Compute Engine answers a call on
// an instance that has an operation running (a delete while its insert or
// another delete is in flight): try again once it has finished.
const reasonResourceNotReady = "resourceNotReady"

// rateLimitReasons are the 403 reasons that mean "slow down", not "no".
var rateLimitReasons = map[string]bool{
	"rateLimitExceeded":     true,
	"userRateLimitExceeded": true,
	"RATE_LIMIT_EXCEEDED":   true,
}

// classify says what err, returned by an API call made with ctx about
// resource ("zones/ZONE/instances/NAME", or "" for a call about no one
// instance), means:
//
//   - cancelled when ctx has ended, whatever the error;
//   - for Compute Engine's own answers, those carrying an error reason:
//     notFound for a 404 that names resource: Compute Engine answers
//     "The resource 'projects/P/zones/Z/instances/N' was not found". A 404
//     about anything else — the project, the zone, an image or a machine
//     type an insert names — is permanent: a missing project must never
//     make a delete look done. Transient for 408, 429, 5xx, 403 with reason
//     rateLimitExceeded or userRateLimitExceeded and 400 resourceNotReady
//     (an operation runs on the instance); permanent for everything else:
//     400, 401, other 403s (quotaExceeded included), 409;
//   - for a status without a reason (a proxy's answer, an undecodable body)
//     and every other failure, what internal/transport says: broken
//     connections, refused connections, DNS failures, timeouts and a
//     call's own deadline expiring while ctx is alive are transient;
//     certificate errors and malformed answers permanent.
func classify(ctx context.Context, resource string, err error) class {
	if ctx.Err() != nil {
		return cancelled
	}
	if gerr, reasons, ok := apiAnswer(err); ok {
		return classifyStatus(gerr.Code, resource, gerr.Message, reasons)
	}
	var gerr *googleapi.Error
	if errors.As(err, &gerr) {
		return classOf(transport.Status(gerr.Code))
	}
	return classOf(transport.Classify(ctx, err))
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

// apiAnswer returns the API error in err and its reasons when it is Compute
// Engine's own answer: one that names at least one reason.
func apiAnswer(err error) (*googleapi.Error, []string, bool) {
	var gerr *googleapi.Error
	if !errors.As(err, &gerr) {
		return nil, nil, false
	}
	r := reasons(err, gerr)
	return gerr, r, len(r) > 0
}

// classifyStatus classifies an HTTP error status with its message and
// reasons.
func classifyStatus(status int, resource, message string, reasons []string) class {
	switch {
	case status == http.StatusNotFound:
		if resource != "" && strings.Contains(message, resource) {
			return notFound
		}
		return permanent
	case status == http.StatusRequestTimeout, status == http.StatusTooManyRequests, status >= 500,
		status == http.StatusBadRequest && slices.Contains(reasons, reasonResourceNotReady):
		return transient
	case status == http.StatusForbidden:
		for _, r := range reasons {
			if rateLimitReasons[r] {
				return transient
			}
		}
	}
	return permanent
}

// reasons returns the reasons of an API error: those of its errors[] items
// and that of its ErrorInfo detail.
func reasons(err error, gerr *googleapi.Error) []string {
	var out []string
	for _, item := range gerr.Errors {
		out = append(out, item.Reason)
	}
	var aerr *apierror.APIError
	if errors.As(err, &aerr) && aerr.Reason() != "" {
		out = append(out, aerr.Reason())
	}
	return out
}

// isAlreadyExists reports whether err is a 409 alreadyExists: the name is
// taken in the zone.
func isAlreadyExists(err error) bool {
	var gerr *googleapi.Error
	if !errors.As(err, &gerr) || gerr.Code != http.StatusConflict {
		return false
	}
	for _, item := range gerr.Errors {
		if item.Reason == "alreadyExists" {
			return true
		}
	}
	return false
}

// refused reports whether err, returned by an API call made with ctx about
// resource, says Compute Engine did not act on the call. Its own answers
// are refusals when they are a 4xx it sends before a request takes effect —
// 400 invalid or badRequest, 401, 403 forbidden, insufficientPermissions or
// quotaExceeded, 404 about anything but resource (a missing project, zone,
// image or machine type), 409, 412, and 429 or a 403 rate limit, which are
// also transient. Any other failure is a refusal when internal/transport
// says the request never left: a failed dial, a DNS failure, a certificate
// the handshake rejected.
//
// Never a refusal: a 5xx, 408, a 404 naming resource (the instance is gone,
// which is its own answer), 400 resourceNotReady (an operation is running on
// the instance: its outcome is not ours to claim), a status without a
// reason, an answer to a call watched by transport.Watch that wrote more
// than one request (net/http sends an HTTP/2 request again when the server
// resets its stream, and the first attempt may have acted), broken
// connections, timeouts, the caller's context ending, and
// every error met after a call was accepted, which callers report through
// uncertain or an *OperationError instead of fail.
func refused(ctx context.Context, resource string, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	if gerr, reasons, ok := apiAnswer(err); ok {
		return refusedStatus(gerr.Code, resource, gerr.Message, reasons) && !transport.Resent(ctx)
	}
	var gerr *googleapi.Error
	if errors.As(err, &gerr) {
		return transport.Status(gerr.Code).Refused
	}
	return transport.Classify(ctx, err).Refused
}

// refusedStatus is refused for an HTTP error status with its message and
// reasons.
func refusedStatus(status int, resource, message string, reasons []string) bool {
	switch {
	case slices.Contains(reasons, reasonResourceNotReady):
		return false
	case status == http.StatusNotFound:
		return classifyStatus(status, resource, message, reasons) != notFound
	case status == http.StatusRequestTimeout:
		return false
	}
	return status >= 400 && status < 500
}

// fail wraps err, which the API call named call failed with before it was
// accepted, so that the caller can tell what it means: the context's error
// when ctx ended, cloudswitch.ErrTransient for a transient error,
// cloudswitch.ErrInstanceNotFound when the API says resource does not
// exist, and cloudswitch.ErrRefused when Compute Engine answered that it did
// not act (see refused); errors.Is and errors.As still reach the cause. The
// message never carries a credential.
//
// Only the driver judges a refusal. A cause that matches
// cloudswitch.ErrRefused by itself (a rate-limiting transport refuses a
// request it has no token for) keeps that mark only while no request of the
// call was written (transport.Written) and ctx is alive: a later attempt's
// refusal says nothing of an earlier one's.
func fail(ctx context.Context, call, resource string, err error) error {
	if refused(ctx, resource, err) {
		if classify(ctx, resource, err) == transient {
			return scrub(fmt.Errorf("gcp: %s: %w: %w: %w", call, cloudswitch.ErrRefused, cloudswitch.ErrTransient, err))
		}
		return scrub(fmt.Errorf("gcp: %s: %w: %w", call, cloudswitch.ErrRefused, err))
	}
	out := classified(ctx, call, resource, err)
	if transport.Written(ctx) > 0 || ctx.Err() != nil {
		return cloudswitch.AfterEffect(out)
	}
	return out
}

// failUnrefused is fail without the refusal: for a call made after an
// earlier one took effect, whose refusal cannot mean that nothing changed.
// It never matches cloudswitch.ErrRefused, whatever err matches.
func failUnrefused(ctx context.Context, call, resource string, err error) error {
	return cloudswitch.AfterEffect(classified(ctx, call, resource, err))
}

// classified wraps err as its class says (see fail), with no refusal of
// its own.
func classified(ctx context.Context, call, resource string, err error) error {
	switch classify(ctx, resource, err) {
	case cancelled:
		if cause := ctx.Err(); !errors.Is(err, cause) {
			return scrub(fmt.Errorf("gcp: %s: %w: %w", call, cause, err))
		}
	case transient:
		return scrub(fmt.Errorf("gcp: %s: %w: %w", call, cloudswitch.ErrTransient, err))
	case notFound:
		return scrub(fmt.Errorf("gcp: %s: %w: %w", call, cloudswitch.ErrInstanceNotFound, err))
	}
	return scrub(fmt.Errorf("gcp: %s: %w", call, err))
}

// uncertain wraps an error that leaves the outcome of an accepted call
// unknown — polling its operation failed, or reading the instance it
// created —: transient (calling again settles it), or the context's error
// when ctx ended. Never permanent: a permanent error would claim nothing
// happened. Never a refusal either, whatever err matches: a poll a
// rate-limiting transport refused says nothing of the call it waits for.
func uncertain(ctx context.Context, call string, err error) error {
	if cause := ctx.Err(); cause != nil {
		if errors.Is(err, cause) {
			return scrub(cloudswitch.AfterEffect(fmt.Errorf("gcp: %s: %w", call, err)))
		}
		return scrub(cloudswitch.AfterEffect(fmt.Errorf("gcp: %s: %w: %w", call, cause, err)))
	}
	return scrub(cloudswitch.AfterEffect(fmt.Errorf("gcp: %s: %w: %w", call, cloudswitch.ErrTransient, err)))
}

// scrub hides anything that looks like a credential in err's message (an
// SDK or a proxy may echo a request: an Authorization header, an OAuth
// access token, an API key); errors.Is and errors.As still reach every
// cause. nil stays nil.
func scrub(err error) error { return redact.Error(err) }
