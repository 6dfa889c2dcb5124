package sim

import (
	"fmt"
	"hash/fnv"
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

// id returns the canonical name of a raw random id.
func (t *trace) id(raw string) string {
	if c, ok := t.canon[raw]; ok {
		return c
	}
	t.nCanon++
	c := fmt.Sprintf("#%d", t.nCanon)
	t.canon[raw] = c
	return c
}

func isHex(b byte) bool { return '0' <= b && b <= '9' || 'a' <= b && b <= 'f' }

// canonical replaces every random id in s — what the library and memstore
// mint at random: 32 hex digits (intent ids, tokens, holders) and
// memstore's "mem-" and 16 hex digits (installation ids) — by its
// canonical name.
func (t *trace) canonical(s string) string {
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); {
		if !isHex(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isHex(s[j]) {
			j++
		}
		start := i
		switch {
		case j-i == 32 && (i == 0 || !isHex(s[i-1])):
		case j-i == 16 && i >= 4 && s[i-4:i] == "mem-":
			start = i - 4
		default:
			i = j
			continue
		}
		if b.Len() == 0 {
			b.Grow(len(s))
		}
		b.WriteString(s[last:start])
		b.WriteString(t.id(s[start:j]))
		last, i = j, j
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
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
