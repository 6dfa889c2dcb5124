package cloudswitch

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/cloudswitch/cloudswitch/internal/redact"
)

// Sentinel errors. Test for them with errors.Is: the errors cloudswitch
// returns wrap them together with their cause.
var (
	// ErrNotFound: the workspace does not exist. Only a Store that is sure
	// returns it; "could not read" is never "not found".
	ErrNotFound = errors.New("cloudswitch: workspace not found")

	// ErrConflict: the workspace changed since it was read (a compare-and-swap
	// precondition failed); nothing was written.
	ErrConflict = errors.New("cloudswitch: workspace changed concurrently")

	// ErrInvalid: the requested compute is not allowed. The error is a
	// *ValidationError naming the field and the allowed values.
	ErrInvalid = errors.New("cloudswitch: invalid compute")

	// ErrConfirmRequired: the request changes the provider, which destroys
	// the workspace's VM, without Request.ConfirmRecreate.
	ErrConfirmRequired = errors.New("cloudswitch: changing the provider recreates the VM and needs ConfirmRecreate")

	// ErrSwitchInProgress: another switch of the workspace is in flight (or
	// was interrupted and awaits Resume). It matches ErrConflict too.
	ErrSwitchInProgress error = &childError{msg: "cloudswitch: a switch of this workspace is in progress", parent: ErrConflict}

	// ErrUnknownProvider: a provider name that is not allowed, or that no
	// driver was given for. cloudswitch never guesses what such a provider's
	// VM is doing.
	ErrUnknownProvider = errors.New("cloudswitch: unknown provider")

	// ErrInstanceNotFound: the provider does not know the VM. For a
	// deprovision it means the VM is gone, which is success.
	ErrInstanceNotFound = errors.New("cloudswitch: instance not found")

	// ErrTransient: a provider error that may go away when retried
	// (throttling, 5xx, timeouts, broken connections). Drivers wrap such
	// errors so that errors.Is(err, ErrTransient) holds; every other
	// provider error is permanent and is never retried.
	ErrTransient = errors.New("cloudswitch: transient provider error")

	// ErrRefused: the provider answered that it did not act on the call —
	// an authorization, validation, quota or throttling error returned
	// before the call took effect. It is the only proof a Switcher accepts
	// that a failed call changed nothing. An error that does not match it
	// leaves the outcome unknown, and the switch stays journaled: a 5xx, a
	// timeout, a broken connection, an error after the cloud accepted the
	// call, or any error a driver did not mark. Throttling matches both
	// ErrRefused and ErrTransient. Drivers mark a refusal with
	// fmt.Errorf("...: %w: %w", ErrRefused, cause) or Refused.
	ErrRefused = errors.New("cloudswitch: refused by the provider")

	// ErrNotOurs: a driver refused to destroy a VM because its ownership
	// tags name another workspace, owner or installation than the Instance
	// it was asked to destroy. It matches ErrRefused: nothing was done.
	ErrNotOurs error = &childError{msg: "cloudswitch: the VM's ownership tags name another workspace or installation", parent: ErrRefused}

	// ErrTokenSpent: Provision was given a token whose VM is gone for good
	// (destroyed, or dead on launch) and that cannot create another. No
	// live VM exists for the token and none will appear; the Switcher
	// journals a fresh token and provisions again. It is not a refusal: the
	// token did create a VM.
	ErrTokenSpent = errors.New("cloudswitch: the VM this idempotency token created is gone for good")

	// ErrHookRequired: the switch's journal says it needs the
	// BeforeDeprovision hook and it has not run yet, but this Switcher has
	// no hook. The switch is left as it was for a Switcher (or Reconciler)
	// configured with the hook to finish.
	ErrHookRequired = errors.New("cloudswitch: the switch requires the BeforeDeprovision hook, which this Switcher lacks")
)

// Refused marks err as a refusal: the provider answered that it did not act.
// The result matches ErrRefused and everything err matches. Refused(nil) is
// nil.
func Refused(err error) error {
	if err == nil || errors.Is(err, ErrRefused) {
		return err
	}
	return &refusedError{err: err}
}

// AfterEffect marks err as an error met after the call had acted (a step of
// a multi-step operation took effect, or the cloud accepted the call): it
// never matches ErrRefused, whatever err matches, so that no Switcher takes
// it for "nothing changed". Every other class (ErrTransient,
// ErrInstanceNotFound, ErrNotOurs) and errors.As still reach the cause.
// AfterEffect(nil) is nil.
func AfterEffect(err error) error {
	if err == nil || !errors.Is(err, ErrRefused) {
		return err
	}
	return &actedError{err: err}
}

// actedError has no Unwrap, which would let errors.Is reach the refusal
// mark: Is and As answer for the cause instead, ErrRefused excepted.
type actedError struct{ err error }

func (e *actedError) Error() string { return e.err.Error() }

func (e *actedError) Is(target error) bool {
	return target != ErrRefused && errors.Is(e.err, target)
}

func (e *actedError) As(target any) bool { return errors.As(e.err, target) }

type refusedError struct{ err error }

func (e *refusedError) Error() string        { return e.err.Error() }
func (e *refusedError) Unwrap() error        { return e.err }
func (e *refusedError) Is(target error) bool { return target == ErrRefused }

// childError is a sentinel that also matches a more general sentinel.
type childError struct {
	msg    string
	parent error
}

func (e *childError) Error() string        { return e.msg }
func (e *childError) Is(target error) bool { return target == e.parent }

// Stage names a step of a switch. Errors and observer events carry the stage
// they come from.
type Stage string

// The stages of a switch, in the order a BreakBeforeMake switch runs them.
const (
	StageValidate    Stage = "validate"    // checking the request against the allowlist and the record
	StageRead        Stage = "read"        // reading the workspace
	StageClaim       Stage = "claim"       // writing the intent (or, on the same provider, the new compute)
	StageHook        Stage = "hook"        // the BeforeDeprovision hook
	StageDeprovision Stage = "deprovision" // destroying the old VM
	StageCommit      Stage = "commit"      // writing the new compute
	StageProvision   Stage = "provision"   // creating the new VM
	StageRecord      Stage = "record"      // writing the new VM and clearing the intent
	StageRollback    Stage = "rollback"    // destroying the new VM of a switch given up
	StagePreflight   Stage = "preflight"   // asking the target provider whether it would create the VM
	StageResize      Stage = "resize"      // changing the VM's instance type in place
	StageDelete      Stage = "delete"      // deleting the record of a decommissioned workspace
)

// ValidationError says which field of a Compute is not allowed and what
// would be. It matches ErrInvalid, and ErrUnknownProvider when the provider
// is the problem.
type ValidationError struct {
	Field   string   // "provider", "instance_type", "region" or "image"
	Value   string   // the rejected value
	Allowed []string // the allowed values, when there is a finite set
	Reason  string   // why, in words, when Allowed does not say it
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "cloudswitch: invalid compute: %s %q", e.Field, e.Value)
	if e.Reason != "" {
		b.WriteString(" ")
		b.WriteString(e.Reason)
	} else {
		b.WriteString(" is not allowed")
	}
	if len(e.Allowed) > 0 {
		fmt.Fprintf(&b, " (allowed: %s)", strings.Join(e.Allowed, ", "))
	}
	return b.String()
}

// Is reports whether target is ErrInvalid, or ErrUnknownProvider for a
// rejected provider.
func (e *ValidationError) Is(target error) bool {
	return target == ErrInvalid || (target == ErrUnknownProvider && e.Field == "provider")
}

// AbortError reports a switch that stopped before it changed the workspace:
// the record's compute and instance are as they were, no intent is left
// behind, any VM the switch created was destroyed again, and calling Switch
// again is safe. Returned as *AbortError; it unwraps to its cause.
//
// A switch aborts only when it knows nothing changed. The read failed, the
// hook refused, or a provider refused a call: every attempt's error matched
// ErrRefused, such as a 403, or throttling until the retries ran out. And no
// earlier run of the same switch could have acted. The outcome of a call
// may be unknown instead: a 5xx, a timeout, an error the driver did not mark
// as a refusal, a switch resumed after a crash. Then a VM may be gone or
// created after all, so the switch stays journaled and returns
// *IncompleteError.
type AbortError struct {
	Stage       Stage
	WorkspaceID string
	Err         error
}

func (e *AbortError) Error() string {
	return fmt.Sprintf("cloudswitch: switch of workspace %q aborted at %s, nothing changed: %s",
		e.WorkspaceID, e.Stage, errText(e.Err))
}

func (e *AbortError) Unwrap() error { return e.Err }

// IncompleteError reports a switch that stopped part-way with its intent
// journaled in the record: Resume (or the Reconciler, once the lease has
// expired) finishes it or undoes it. It is also returned when the outcome of
// a write or a provider call is unknown, since it may have taken effect.
// Returned as *IncompleteError; it unwraps to its cause.
type IncompleteError struct {
	Stage       Stage
	WorkspaceID string
	IntentID    string
	Err         error
}

func (e *IncompleteError) Error() string {
	return fmt.Sprintf("cloudswitch: switch %s of workspace %q incomplete at %s (journaled; Resume finishes it): %s",
		e.IntentID, e.WorkspaceID, e.Stage, errText(e.Err))
}

func (e *IncompleteError) Unwrap() error { return e.Err }

// errText is the redacted text of err, for error strings and logs.
func errText(err error) string {
	if err == nil {
		return "<nil>"
	}
	return redact.String(err.Error())
}

// errorClass names the kind of an error for logs and observers: a handful of
// stable words an operator can filter on.
func errorClass(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrSwitchInProgress):
		return "in_progress"
	case errors.Is(err, ErrConflict):
		return "conflict"
	case errors.Is(err, ErrNotFound):
		return "not_found"
	case errors.Is(err, ErrInvalid), errors.Is(err, ErrConfirmRequired):
		return "invalid"
	case errors.Is(err, ErrUnknownProvider):
		return "unknown_provider"
	case errors.Is(err, ErrHookRequired):
		return "hook_required"
	case errors.Is(err, ErrNotOurs):
		return "not_ours"
	case errors.Is(err, ErrTransient):
		return "transient"
	case errors.Is(err, ErrRefused):
		return "refused"
	case errors.Is(err, ErrInstanceNotFound):
		return "instance_not_found"
	case errors.Is(err, context.DeadlineExceeded):
		return "deadline"
	case errors.Is(err, context.Canceled):
		return "canceled"
	default:
		return "permanent"
	}
}

// foreignCause hides, in the error of a provider or a hook, the sentinels
// that speak of the switch itself. A driver's *ValidationError, or a hook's
// error wrapping ErrNotFound, met after a switch claimed its workspace,
// would otherwise tell a caller that the request was invalid or the
// workspace missing, when in truth the switch stopped part-way. The
// provider classes (transient, refused, not ours, instance not found) and
// context errors stay visible; the text is kept whole.
func foreignCause(err error) error {
	if err == nil {
		return nil
	}
	for _, s := range switchSentinels {
		if errors.Is(err, s) {
			return &foreignError{err: err}
		}
	}
	var abort *AbortError
	var incomplete *IncompleteError
	if errors.As(err, &abort) || errors.As(err, &incomplete) {
		// Another switch's outcome, inside a hook's error, is not this
		// one's: errors.As must not find it.
		return &foreignError{err: err}
	}
	return err
}

var switchSentinels = []error{ErrInvalid, ErrNotFound, ErrConflict, ErrConfirmRequired, ErrUnknownProvider, ErrHookRequired}

type foreignError struct{ err error }

func (e *foreignError) Error() string { return e.err.Error() }

func (e *foreignError) Is(target error) bool {
	switch target {
	case ErrTransient, ErrRefused, ErrNotOurs, ErrInstanceNotFound, context.Canceled, context.DeadlineExceeded:
		return errors.Is(e.err, target)
	}
	return false
}
