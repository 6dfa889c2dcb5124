package emulated

import (
	"errors"
	"fmt"
	"os"
	"sync"
)

// ErrStateInUse is the error of StartPersistent when another running Set,
// in this process or another, keeps its state in the same file. Two Sets on
// one file would each keep their own copy of the clouds, and the last to
// save would erase the other's VMs from it.
var ErrStateInUse = errors.New("emulated: the clouds' state file is in use by another running program " +
	"(the example server, or the cloudswitch command, with in-process emulators on the same database): " +
	"stop it first, or have both use one examples/emulators through -emulators")

// stateLock is the exclusive hold of a Set on its state file: a lock on
// a file beside it (the state file itself is replaced at every save, so a
// lock on it would not last). The operating system drops the lock when the
// process ends, however it ends.
type stateLock struct {
	once sync.Once
	f    *os.File
}

// lockState takes the exclusive lock of the state file at path, or fails
// with ErrStateInUse at once when another holder has it. Where the
// platform has no advisory file locks, nothing is locked.
func lockState(path string) (*stateLock, error) {
	name := path + ".lock"
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("emulated: locking the clouds' state: %w", err)
	}
	if err := lockFile(f); err != nil {
		_ = f.Close()
		if errors.Is(err, errLocked) {
			return nil, fmt.Errorf("%s: %w", name, ErrStateInUse)
		}
		return nil, fmt.Errorf("emulated: locking the clouds' state: %w", err)
	}
	return &stateLock{f: f}, nil
}

// release drops the lock. It may be called more than once.
func (l *stateLock) release() {
	l.once.Do(func() { _ = l.f.Close() }) // closing the file drops its lock
}
