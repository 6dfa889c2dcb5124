package redact

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzStringHidesAPlantedSecret plants a secret after a secret-named field,
// in each of the forms an error text carries one, behind arbitrary text, and
// checks that it never survives; String must never panic on any input and
// must keep valid UTF-8 valid. The seeds run in plain go test; go test
// -fuzz=FuzzStringHidesAPlantedSecret ./internal/redact searches further.
func FuzzStringHidesAPlantedSecret(f *testing.F) {
	for _, seed := range []struct {
		prefix, secret string
		form           uint8
	}{
		{"", "hunter2hunter2", 0},
		{"dial tcp: ", "s3cr et", 1},
		{`{"user":"root",`, "abc def", 2},
		{"GET /x?a=1&", "topSecretValue", 3},
		{"postgres://", "p@ss@word", 4},
		{"Cookie: a=b; ", "session9value", 5},
		{"password=", "x", 0},
	} {
		f.Add(seed.prefix, seed.secret, seed.form)
	}
	f.Fuzz(func(t *testing.T, prefix, secret string, form uint8) {
		out := String(prefix + secret)
		if utf8.ValidString(prefix+secret) && !utf8.ValidString(out) {
			t.Fatalf("String made valid UTF-8 invalid: %q", out)
		}
		form %= 6
		if !plantable(prefix, secret, form == 1 || form == 2 || form == 5) {
			return
		}
		var in string
		switch form {
		case 0:
			in = prefix + " password=" + secret
		case 1:
			in = prefix + " password='" + secret + "'"
		case 2:
			in = prefix + ` "client_secret": "` + secret + `"`
		case 3:
			in = prefix + " token%3D" + secret
		case 4:
			in = prefix + " postgres://user:" + secret + "@db.internal/app"
		case 5:
			in = prefix + "\nCookie: session=" + secret
		}
		if out := String(in); strings.Contains(out, secret) {
			t.Fatalf("String(%q) = %q: the secret %q survived", in, out, secret)
		}
	})
}

// plantable reports whether a secret can be told from its surroundings:
// long enough to be unambiguous, free of the quotes, separators and line
// breaks that end a value (spaces only where the form quotes it), and
// absent from the text before it.
func plantable(prefix, secret string, spaces bool) bool {
	if len(secret) < 6 || strings.Contains(prefix, secret) || strings.Contains(secret, Mask) ||
		strings.ContainsAny(prefix, "\"'\\%\r\n") {
		return false
	}
	for _, r := range secret {
		if r < 0x21 && !(spaces && r == ' ') || strings.ContainsRune("\"'\\%&,;)}]/\x7f", r) || r > 0x7e {
			return false
		}
	}
	return true
}
