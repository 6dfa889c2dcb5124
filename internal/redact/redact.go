// Package redact removes credentials from text bound for error strings and
// log lines. It is the safety net behind the drivers' own care: a cloud SDK
// may echo a request (an Authorization header, a signed URL, a token in a
// query string) into an error, and that text must not reach an operator's
// logs.
package redact

import (
	"regexp"
	"slices"
	"strings"
)

// Mask replaces every secret String finds.
const Mask = "[REDACTED]"

var (
	// name=value and name: value pairs whose name says the value is secret.
	// The separator may be URL-encoded (token%3D…), and a quoted value is
	// masked whole, spaces included ('s3cr et', "abc def", \"x y\").
	pairs = regexp.MustCompile(`(?i)((?:authorization|x-amz-security-token|x-amz-credential|x-amz-signature|x-goog-signature|x-goog-credential|signature|\bsig|password|passwd|\bpwd|secret|client[_-]?secret|api[_-]?key|apikey|access[_-]?key(?:[_-]?id)?|secret[_-]?access[_-]?key|session[_-]?token|access[_-]?token|refresh[_-]?token|id[_-]?token|hcloud[_-]?token|token|credentials?|private[_-]?key)(?:"|\\"|%22)?\s*(?:[:=]|%3[aAdD])\s*)("[^"]*"|'[^']*'|\\"(?:[^\\]|\\[^"])*?\\"|%22.*?%22|[^\s"&,;)}\]]+)`)
	// Cookie and Set-Cookie headers: every cookie is a credential until
	// proven otherwise, so the whole header value goes.
	cookies = regexp.MustCompile(`(?i)\b((?:set-)?cookie"?\s*[:=]\s*)[^\r\n"]+`)
	// HTTP authorization schemes followed by their credential.
	schemes = regexp.MustCompile(`(?i)\b(bearer|basic|aws4-hmac-sha256)\s+[^\s"]+`)
	// AWS access key ids.
	awsKeys = regexp.MustCompile(`\b(?:AKIA|ASIA|AIDA|AROA)[0-9A-Z]{16}\b`)
	// JSON web tokens.
	jwts = regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*`)
	// user:password in URLs.
	// user:password in URLs; the password may itself hold '@' (the last
	// one before the host ends it).
	userinfo = regexp.MustCompile(`(://)[^/\s:@]+:[^/\s]*@`)
	// long runs that look like random key material.
	longRuns = regexp.MustCompile(`[A-Za-z0-9+/_-]{40,}`)
	// Google OAuth access tokens ("ya29.…") and API keys ("AIza…", 39
	// characters: too short for longRuns).
	googleCredentials = regexp.MustCompile(`\bya29\.[0-9A-Za-z_.-]+|\bAIza[0-9A-Za-z_-]{35}\b`)
	// An API key in a query string ("?key=…", "&key=…").
	queryKeys = regexp.MustCompile(`([?&]key=)[^&\s"]+`)
)

// String returns s with every credential it recognises replaced by Mask:
// values of secret-named fields (token=…, "password": …), Bearer and Basic
// credentials, AWS access key ids, Google OAuth access tokens and API keys,
// API keys in query strings, JSON web tokens, passwords in URLs, and long
// mixed-case alphanumeric runs that look like API keys. Identifiers
// cloudswitch itself writes (lowercase hex, instance ids) are left alone.
func String(s string) string {
	if s == "" {
		return s
	}
	s = schemes.ReplaceAllStringFunc(s, func(m string) string {
		scheme, _, _ := strings.Cut(m, " ")
		if scheme == m {
			scheme, _, _ = strings.Cut(m, "\t")
		}
		return scheme + " " + Mask
	})
	s = cookies.ReplaceAllString(s, "${1}"+Mask)
	s = googleCredentials.ReplaceAllString(s, Mask)
	s = queryKeys.ReplaceAllString(s, "${1}"+Mask)
	s = pairs.ReplaceAllString(s, "${1}"+Mask)
	s = awsKeys.ReplaceAllString(s, Mask)
	s = jwts.ReplaceAllString(s, Mask)
	s = userinfo.ReplaceAllString(s, "${1}"+Mask+"@")
	s = longRuns.ReplaceAllStringFunc(s, func(m string) string {
		if looksRandom(m) {
			return Mask
		}
		return m
	})
	return s
}

// looksRandom reports whether a long run mixes upper case, lower case and
// digits, as generated keys do and hex ids and words do not.
func looksRandom(s string) bool {
	var upper, lower, digit bool
	for _, r := range s {
		switch {
		case 'A' <= r && r <= 'Z':
			upper = true
		case 'a' <= r && r <= 'z':
			lower = true
		case '0' <= r && r <= '9':
			digit = true
		}
	}
	return upper && lower && digit
}

// Error returns err with its message redacted: every occurrence of each
// non-empty secret is masked, then String removes what it recognises. The
// secrets are credentials the caller holds and String cannot know by shape,
// such as an API token it was configured with. The result unwraps to err,
// so errors.Is and errors.As still reach every cause; nil stays nil.
// Redacting an error Error returned adds the new secrets to it instead of
// wrapping it again, and returns it unchanged when it already masks them.
func Error(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	r, ok := err.(*redacted)
	if !ok {
		return &redacted{err: err, secrets: merge(nil, secrets)}
	}
	all := merge(r.secrets, secrets)
	if len(all) == len(r.secrets) {
		return r
	}
	return &redacted{err: r.err, secrets: all}
}

// merge returns known with the non-empty secrets it lacks appended, longest
// first, so that a secret holding a shorter one is masked whole. known is
// never modified.
func merge(known, secrets []string) []string {
	out := known
	for _, s := range secrets {
		if s == "" || slices.Contains(out, s) {
			continue
		}
		if len(out) == len(known) {
			out = slices.Clone(known)
		}
		out = append(out, s)
	}
	if len(out) != len(known) {
		slices.SortStableFunc(out, func(a, b string) int { return len(b) - len(a) })
	}
	return out
}

// redacted is an error whose message is redacted.
type redacted struct {
	err     error
	secrets []string // longest first
}

func (r *redacted) Error() string {
	s := r.err.Error()
	for _, secret := range r.secrets {
		s = strings.ReplaceAll(s, secret, Mask)
	}
	return String(s)
}

func (r *redacted) Unwrap() error { return r.err }
