package emulated

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sync"

	"github.com/cloudswitch/cloudswitch/providers/aws/awstest"
	"github.com/cloudswitch/cloudswitch/providers/gcp/gcptest"
	"github.com/cloudswitch/cloudswitch/providers/hetzner/hetznertest"
)

// state is what a persistent Set keeps in its file: each emulator's own,
// under its provider's name.
type state struct {
	AWS     awstest.State     `json:"aws"`
	Hetzner hetznertest.State `json:"hetzner"`
	GCP     gcptest.State     `json:"gcp"`
}

// persistence keeps a Set's state in a file, which it holds exclusively.
type persistence struct {
	path string
	lock *stateLock
	mu   sync.Mutex
}

// StartPersistent starts a Set as Start does, whose state lives in the file
// at path: loaded from it when it exists (restored reports whether it did),
// and written back after every call the drivers of Set.Drivers make, before
// the driver sees the answer. A process killed at any moment therefore
// finds, when it starts again, a cloud that had every effect its drivers
// saw — and perhaps the effect of a call whose answer it never got, as a
// real cloud may.
//
// The Set holds the file exclusively until Close (or the end of the
// process): while it runs, StartPersistent on the same path — in this
// process or another — fails with ErrStateInUse, on the platforms with
// advisory file locks (Linux, the BSDs, macOS). The lock is a file beside
// the state, path + ".lock".
func StartPersistent(addrs Addrs, path string) (_ *Set, restored bool, err error) {
	lock, err := lockState(path)
	if err != nil {
		return nil, false, err
	}
	defer func() {
		if err != nil {
			lock.release()
		}
	}()
	var st state
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, false, fmt.Errorf("emulated: reading the clouds' state: %w", err)
	default:
		if err := json.Unmarshal(b, &st); err != nil {
			return nil, false, fmt.Errorf("emulated: %s does not hold the emulated clouds' state: %w", path, err)
		}
		restored = true
	}
	s, err := Start(addrs)
	if err != nil {
		return nil, false, err
	}
	if restored {
		var errs []error
		for _, c := range cloudTable() {
			errs = append(errs, c.restore(s, &st))
		}
		if err := errors.Join(errs...); err != nil {
			s.Close()
			return nil, false, fmt.Errorf("emulated: restoring %s: %w", path, err)
		}
	}
	s.persist = &persistence{path: path, lock: lock}
	if err := s.Save(); err != nil {
		s.Close()
		return nil, false, err
	}
	return s, restored, nil
}

// Save writes the Set's state to its file, atomically (a new file renamed
// over the old one). It does nothing for a Set that is not persistent.
func (s *Set) Save() error {
	if s.persist == nil {
		return nil
	}
	s.persist.mu.Lock()
	defer s.persist.mu.Unlock()
	var st state
	for _, c := range cloudTable() {
		c.save(s, &st)
	}
	b, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("emulated: encoding the clouds' state: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(s.persist.path), filepath.Base(s.persist.path)+".*")
	if err != nil {
		return fmt.Errorf("emulated: saving the clouds' state: %w", err)
	}
	_, err = tmp.Write(b)
	err = errors.Join(err, tmp.Close())
	if err == nil {
		err = os.Rename(tmp.Name(), s.persist.path)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("emulated: saving the clouds' state: %w", err)
	}
	return nil
}

// savingTransport saves the Set after every call, before its answer
// reaches the driver.
type savingTransport struct {
	set  *Set
	next http.RoundTripper
}

func (t savingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	// The whole answer first: the emulator has then finished the call.
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if err := t.set.Save(); err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}
