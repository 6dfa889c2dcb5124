package wiringtest

import (
	"bytes"
	"sync"
)

// LogBuffer collects what a program logs. It is safe for concurrent
// writers, as a server's or a reconciler's log needs. The zero value is an
// empty buffer.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
