//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package emulated

import (
	"errors"
	"os"
	"syscall"
)

// errLocked is the error of lockFile when another holder has the lock.
var errLocked = errors.New("locked")

// lockFile takes an exclusive flock on f without waiting. The lock belongs
// to f's open file: a second open of the same file, in this process too,
// cannot take it.
func lockFile(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EWOULDBLOCK):
			return errLocked
		}
		return err
	}
}
