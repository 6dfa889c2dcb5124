package emulator

import (
	"errors"
	"fmt"
	"slices"
)

// ErrUnknownOp is the error of a Fault naming an operation the emulator does
// not serve. Such a fault would never apply, so an emulator refuses it
// rather than let a typo pass silently.
var ErrUnknownOp = errors.New("unknown operation")

// CheckOp returns nil if op is "" (every operation) or one of served, and
// otherwise an error matching ErrUnknownOp that names what served holds.
func CheckOp(op string, served []string) error {
	if op == "" || slices.Contains(served, op) {
		return nil
	}
	return fmt.Errorf("%w %q (want one of %v)", ErrUnknownOp, op, served)
}
