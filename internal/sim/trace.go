package sim

import (
	"fmt"
	"hash/fnv"
	"regexp"
	"strings"
)

// trace is the record of one run: a hash over every step, and the last
// steps in full for a failure report. Random identifiers (intent ids,
// tokens, holders, installation ids) are replaced by their order of first
// appearance, so that two runs of one seed hash alike although the library
// mints those ids with crypto/rand.
type trace struct {
	hash   uint64
	ring   []string
	next   int
	full   bool
	canon  map[string]string
	nCanon int
	all    []string // every step, when the full trace is kept
	keep   bool
}

const traceTail = 30

func newTrace() *trace {
	h := fnv.New64a()
	return &trace{hash: h.Sum64(), ring: make([]string, traceTail), canon: make(map[string]string)}
}

// randomID matches what the library and memstore mint at random: 32 hex
// digits (intent ids, tokens, holders) and memstore's installation ids.
var randomID = regexp.MustCompile(`[0-9a-f]{32}|mem-[0-9a-f]{16}`)

// id returns the canonical name of a raw random id.
func (t *trace) id(raw string) string {
	if raw == "" {
		return ""
	}
	if c, ok := t.canon[raw]; ok {
		return c
	}
	t.nCanon++
	c := fmt.Sprintf("#%d", t.nCanon)
	t.canon[raw] = c
	return c
}

// canonical replaces every random id in s by its canonical name.
func (t *trace) canonical(s string) string {
	if !strings.ContainsAny(s, "0123456789") {
		return s
	}
	return randomID.ReplaceAllStringFunc(s, t.id)
}

// add appends one step.
func (t *trace) add(line string) {
	line = t.canonical(line)
	h := t.hash
	for i := 0; i < len(line); i++ {
		h ^= uint64(line[i])
		h *= 1099511628211
	}
	h ^= '\n'
	h *= 1099511628211
	t.hash = h
	if t.keep {
		t.all = append(t.all, line)
	}
	t.ring[t.next] = line
	t.next = (t.next + 1) % traceTail
	if t.next == 0 {
		t.full = true
	}
}

// tail returns the last steps, oldest first.
func (t *trace) tail() []string {
	if !t.full {
		return append([]string(nil), t.ring[:t.next]...)
	}
	return append(append([]string(nil), t.ring[t.next:]...), t.ring[:t.next]...)
}
