package main

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/cloudswitch/cloudswitch"
)

// FuzzDecodeJSON checks the request body decoder on any input: it never
// panics; it accepts a body only if encoding/json reads the same value from
// it and no object of it repeats a key; and its refusals name no Go type.
// The seeds run in plain go test; go test -fuzz=FuzzDecodeJSON
// ./examples/httpserver searches further.
func FuzzDecodeJSON(f *testing.F) {
	for _, seed := range []string{
		`{"id":"ws-1","compute":{"provider":"aws","instance_type":"t3.medium"}}`,
		`{"id":"a","id":"b"}`, `{"ID":"a"}`, `{"compute":{"provider":5}}`, `{"compute":[]}`, `[]`, `{} {}`,
		`{"id":"ws-1","compute":{"provider":"aws","provider":"gcp"}}`, `{"id":"\u0000"}`, `{"compute":null}`, ` `,
		`{"provider":"hetzner","confirm_recreate":true}`, `{"confirm_recreate":"yes"}`, `{"image":1e400}`,
	} {
		f.Add([]byte(seed))
	}
	type createBody struct {
		ID      string              `json:"id"`
		Compute cloudswitch.Compute `json:"compute"`
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var create createBody
		checkDecode(t, body, &create)
		var patch switchBody
		checkDecode(t, body, &patch)
	})
}

func checkDecode[T any](t *testing.T, body []byte, v *T) {
	err := decodeJSON(body, v)
	if err != nil {
		var bad *errBody
		if !errors.As(err, &bad) {
			t.Fatalf("decodeJSON(%q): an error the client cannot be shown: %v", body, err)
		}
		for _, goName := range []string{"cloudswitch.", "main.", "Go value", "json: ", "reflect"} {
			if strings.Contains(err.Error(), goName) {
				t.Fatalf("decodeJSON(%q) = %q: a Go name in the message", body, err)
			}
		}
		return
	}
	var plain T
	if jerr := json.Unmarshal(body, &plain); jerr != nil {
		t.Fatalf("decodeJSON accepted %q, which encoding/json refuses: %v", body, jerr)
	}
	a, _ := json.Marshal(*v)
	b, _ := json.Marshal(plain)
	if string(a) != string(b) {
		t.Fatalf("decodeJSON(%q) read %s, encoding/json %s", body, a, b)
	}
	if repeatsAKey(json.NewDecoder(strings.NewReader(string(body)))) {
		t.Fatalf("decodeJSON accepted %q, an object of which repeats a key", body)
	}
}

// repeatsAKey reports whether an object of the JSON value dec reads has a
// key twice: a second opinion on checkKeys.
func repeatsAKey(dec *json.Decoder) bool {
	tok, err := dec.Token()
	if err != nil {
		return false
	}
	switch tok {
	case json.Delim('{'):
		seen := map[string]bool{}
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return false
			}
			key, _ := k.(string)
			if seen[key] || repeatsAKey(dec) {
				return true
			}
			seen[key] = true
		}
		_, _ = dec.Token()
	case json.Delim('['):
		for dec.More() {
			if repeatsAKey(dec) {
				return true
			}
		}
		_, _ = dec.Token()
	}
	return false
}

// FuzzIfVersion checks If-Match parsing on any header: only the canonical
// form of a positive version, quoted, is taken (or none, or *), and it
// means exactly that version.
func FuzzIfVersion(f *testing.F) {
	for _, seed := range []string{``, `*`, `"3"`, `"+3"`, `"03"`, `3`, `W/"3"`, `"3", "4"`, `"9223372036854775807"`, `"-1"`, `"0"`, ` "7" `} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, header string) {
		v, err := ifVersion(header)
		if err != nil || v == 0 {
			return
		}
		if want := `"` + strconv.FormatInt(v, 10) + `"`; strings.TrimSpace(header) != want || v < 1 {
			t.Fatalf("ifVersion(%q) = %d: only %s means that version", header, v, want)
		}
	})
}
