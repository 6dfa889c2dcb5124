package aws

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/smithy-go"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/internal/redact"
	"github.com/cloudswitch/cloudswitch/internal/transport"
)

// class is what an EC2 error means to the Switcher.
type class int

const (
	permanent class = iota // retrying cannot help
	transient              // may go away when retried
	notFound               // EC2 does not know the instance
)

func (c class) String() string {
	return [...]string{"permanent", "transient", "not_found"}[c]
}

// verdict is the class of an EC2 error and whether it is a refusal: EC2
// answered that it did not act on the call.
type verdict struct {
	class   class
	refused bool
}

// EC2 error codes by verdict (the "Error codes for the Amazon EC2 API" page
// of the EC2 API Reference). Codes in none of these sets are classified by
// their HTTP status as internal/transport classifies a bare status (408,
// 429 and 5xx transient, other statuses permanent), and never a refusal: an
// answer the driver does not know proves nothing about what EC2 did.
var (
	notFoundCodes = map[string]bool{
		"InvalidInstanceID.NotFound": true,
	}
	// throttlingCodes are EC2 refusing to serve the call for now: transient
	// and a refusal.
	throttlingCodes = map[string]bool{
		"RequestLimitExceeded":  true,
		"Throttling":            true,
		"ThrottlingException":   true,
		"EC2ThrottledException": true,
	}
	// transientCodes may go away when retried, and may come after EC2
	// acted (server errors; InsufficientInstanceCapacity is one of EC2's
	// server error codes): never a refusal.
	transientCodes = map[string]bool{
		"PriorRequestNotComplete":              true,
		"RequestTimeout":                       true,
		"RequestTimeoutException":              true,
		"InternalError":                        true,
		"InternalFailure":                      true,
		"ServiceUnavailable":                   true,
		"Unavailable":                          true,
		"InsufficientInstanceCapacity":         true,
		"InsufficientHostCapacity":             true,
		"InsufficientReservedInstanceCapacity": true,
		"InsufficientCapacity":                 true,
	}
	// refusedCodes are client errors EC2 answers before it acts:
	// authorization, validation, quotas, idempotency. Permanent.
	refusedCodes = map[string]bool{
		"UnauthorizedOperation":        true,
		"AuthFailure":                  true,
		"OptInRequired":                true,
		"Blocked":                      true,
		"PendingVerification":          true,
		"MissingParameter":             true,
		"MissingAction":                true,
		"IdempotentInstanceTerminated": true,
		"VcpuLimitExceeded":            true,
		"InstanceLimitExceeded":        true,
		"OperationNotPermitted":        true,
		"UnsupportedOperation":         true,
		"Unsupported":                  true,
		"IncorrectInstanceState":       true,
		"IncorrectState":               true,
		"DryRunOperation":              true,
	}
	// Every "Invalid…" code but InvalidInstanceID.NotFound is a validation
	// error (InvalidParameterValue, InvalidAMIID.NotFound,
	// InvalidSubnetID.Malformed, InvalidPaginationToken, …), and every
	// "…LimitExceeded" but RequestLimitExceeded a quota (TagLimitExceeded,
	// VolumeLimitExceeded, …).
	refusedPrefixes = []string{"Invalid"}
	refusedSuffixes = []string{"LimitExceeded"}
)

// classify is the one place an EC2 call's error becomes the driver's: it
// matches cloudswitch.ErrInstanceNotFound for an instance EC2 does not know,
// cloudswitch.ErrTransient for throttling, 5xx answers, timeouts and broken
// connections, cloudswitch.ErrRefused for the answers EC2 gives before it
// acts (authorization, validation, quotas, a reused ClientToken, throttling)
// and for a request internal/transport says never left (a failed dial or
// DNS lookup, a rejected certificate), and nothing else for anything else. An error while ctx is done is the
// context's error, neither transient nor refused. The SDK's error stays
// reachable with errors.As; its text is redacted.
//
// classify is for calls whose failure means the call itself failed. An
// error after EC2 accepted a change (a poll of a wait) goes through
// afterAccepted instead.
//
// Only the driver judges a refusal. A cause that matches
// cloudswitch.ErrRefused by itself (a rate-limiting transport refuses a
// request it has no token for) keeps that mark only while no request of the
// call was written (transport.Written) and ctx is alive: a later attempt's
// refusal says nothing of an earlier one's.
func classify(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	safe := redact.Error(err)
	if cerr := ctx.Err(); cerr != nil {
		return cloudswitch.AfterEffect(fmt.Errorf("aws: %s: %w: %w", op, cerr, safe))
	}
	v := verdictOf(ctx, err)
	var out error
	switch v.class {
	case notFound:
		out = fmt.Errorf("aws: %s: %w: %w", op, cloudswitch.ErrInstanceNotFound, safe)
	case transient:
		out = fmt.Errorf("aws: %s: %w: %w", op, cloudswitch.ErrTransient, safe)
	default:
		out = fmt.Errorf("aws: %s: %w", op, safe)
	}
	switch {
	case v.refused:
		out = cloudswitch.Refused(out)
	case transport.Written(ctx) > 0:
		out = cloudswitch.AfterEffect(out)
	}
	return out
}

// afterAccepted is the error of a call made after EC2 accepted a change
// (RunInstances or TerminateInstances answered, and the driver is waiting
// for the instance): whatever it says, the change may be under way, so it is
// transient — calling again with the same token or id finds out — and never
// a refusal, whatever err matches. A context that ended stays the context's
// error.
func afterAccepted(ctx context.Context, what string, err error) error {
	safe := redact.Error(err)
	if cerr := ctx.Err(); cerr != nil {
		return cloudswitch.AfterEffect(fmt.Errorf("aws: %s: %w: %w", what, cerr, safe))
	}
	return cloudswitch.AfterEffect(fmt.Errorf("aws: %s (after EC2 accepted the change): %w: %w", what, cloudswitch.ErrTransient, safe))
}

// classOf returns the class of an error of an EC2 call made with ctx.
func classOf(ctx context.Context, err error) class { return verdictOf(ctx, err).class }

// verdictOf returns the class of an error of an EC2 call and whether it is
// a refusal. EC2's own codes decide first; an unknown code is classified by
// its HTTP status and is never a refusal; a status without a code, and
// every failure without a status, are internal/transport's to classify.
// EC2's answer speaks of the last request only: for a call made with a ctx
// that transport.Watch returned, it is no refusal once more than one
// request of the call was written (transport.Resent).
func verdictOf(ctx context.Context, err error) verdict {
	v := codeVerdict(ctx, err)
	v.refused = v.refused && !transport.Resent(ctx)
	return v
}

// codeVerdict is verdictOf before the resent requests are counted.
func codeVerdict(ctx context.Context, err error) verdict {
	var ae smithy.APIError
	hasCode := errors.As(err, &ae) && ae.ErrorCode() != ""
	if hasCode {
		code := ae.ErrorCode()
		switch {
		case notFoundCodes[code]:
			return verdict{class: notFound}
		case throttlingCodes[code]:
			return verdict{class: transient, refused: true}
		case transientCodes[code]:
			return verdict{class: transient}
		case refusedCodes[code] || hasAnyPrefix(code, refusedPrefixes) || hasAnySuffix(code, refusedSuffixes):
			return verdict{class: permanent, refused: true}
		}
	}
	var (
		status interface{ HTTPStatusCode() int }
		v      verdict
	)
	if errors.As(err, &status) && status.HTTPStatusCode() >= 400 {
		v = verdictOfTransport(transport.Status(status.HTTPStatusCode()))
	} else {
		v = verdictOfTransport(transport.Classify(ctx, err))
	}
	v.refused = v.refused && !hasCode
	return v
}

// verdictOfTransport is the verdict of a verdict of internal/transport. A
// context that ended is no class of its own here: classify tests ctx first.
func verdictOfTransport(v transport.Verdict) verdict {
	if v.Transient {
		return verdict{class: transient, refused: v.Refused}
	}
	return verdict{class: permanent, refused: v.Refused}
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

func hasAnySuffix(s string, suffixes []string) bool {
	for _, p := range suffixes {
		if strings.HasSuffix(s, p) {
			return true
		}
	}
	return false
}
