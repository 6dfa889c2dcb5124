//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package emulated

import (
	"errors"
	"os"
)

// errLocked is the error of lockFile when another holder has the lock.
var errLocked = errors.New("locked")

// lockFile takes no lock here: this platform has no flock. Two programs
// on one state file are then not refused.
func lockFile(*os.File) error { return nil }
