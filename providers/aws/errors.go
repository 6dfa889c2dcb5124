package aws

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/internal/redact"
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

// EC2 error codes by class. Codes in none of these sets are classified by
// their HTTP status: 5xx and 429 transient, other 4xx permanent.
var (
	notFoundCodes = map[string]bool{
		"InvalidInstanceID.NotFound": true,
	}
	transientCodes = map[string]bool{
		"RequestLimitExceeded":    true,
		"Throttling":              true,
		"ThrottlingException":     true,
		"EC2ThrottledException":   true,
		"PriorRequestNotComplete": true,
		"RequestTimeout":          true,
		"RequestTimeoutException": true,
		"InternalError":           true,
		"InternalFailure":         true,
		"ServiceUnavailable":      true,
		"Unavailable":             true,
	}
	permanentCodes = map[string]bool{
		"UnauthorizedOperation":       true,
		"AuthFailure":                 true,
		"OptInRequired":               true,
		"Blocked":                     true,
		"MissingParameter":            true,
		"IdempotentParameterMismatch": true,
		"VcpuLimitExceeded":           true,
		"InstanceLimitExceeded":       true,
		"InvalidInstanceID.Malformed": true,
		"OperationNotPermitted":       true,
		"UnsupportedOperation":        true,
	}
	permanentPrefixes = []string{"InvalidParameter", "InvalidAMIID."}
)

// classify is the one place an EC2 call's error becomes the driver's: it
// matches cloudswitch.ErrInstanceNotFound for an instance EC2 does not know,
// cloudswitch.ErrTransient for throttling, 5xx answers, timeouts and broken
// connections, and neither for anything else (authorization, validation,
// quotas, a reused ClientToken: permanent). An error while ctx is done is the
// context's error, neither transient nor swallowed. The SDK's error stays
// reachable with errors.As; its text is redacted.
func classify(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	safe := redact.Error(err)
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("aws: %s: %w: %w", op, cerr, safe)
	}
	switch classOf(err) {
	case notFound:
		return fmt.Errorf("aws: %s: %w: %w", op, cloudswitch.ErrInstanceNotFound, safe)
	case transient:
		return fmt.Errorf("aws: %s: %w: %w", op, cloudswitch.ErrTransient, safe)
	default:
		return fmt.Errorf("aws: %s: %w", op, safe)
	}
}

// classOf returns the class of an error of an EC2 call.
func classOf(err error) class {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code := ae.ErrorCode()
		switch {
		case notFoundCodes[code]:
			return notFound
		case transientCodes[code]:
			return transient
		case permanentCodes[code] || hasAnyPrefix(code, permanentPrefixes):
			return permanent
		}
	}
	var status interface{ HTTPStatusCode() int }
	if errors.As(err, &status) {
		switch s := status.HTTPStatusCode(); {
		case s >= 500, s == http.StatusTooManyRequests:
			return transient
		case s >= 400:
			return permanent
		}
	}
	if retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err).Bool() || brokenConnection(err) {
		return transient
	}
	return permanent
}

// brokenConnection reports a connection that failed under a call: closed,
// reset, refused, or timed out.
func brokenConnection(err error) bool {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
