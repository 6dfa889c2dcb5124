package redact

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestStringRemovesCredentials(t *testing.T) {
	secrets := map[string]string{
		"bearer header":    "request failed: Authorization: Bearer hc_9fQ2xLmP0aZ7Kd3",
		"bare bearer":      "sent Bearer s3cr3tV4lue to the api",
		"query token":      "GET https://api.example.com/x?token=abcd1234secret&page=2",
		"json password":    `{"user":"root","password":"hunter2hunter2"}`,
		"aws key id":       "signature does not match for AKIAIOSFODNN7EXAMPLE",
		"aws secret pair":  "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		"session token":    "X-Amz-Security-Token: FwoGZXIvYXdzEBYaDHVzZXItc2Vzc2lvbg",
		"jwt":              "id token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJl rejected",
		"url userinfo":     "dial postgres://admin:pa55word@db.internal:5432/app failed",
		"hetzner-like key": "invalid key jEheVytlAoFl7F8MqUQ7jAo2hOXASztX9hNqQ2WUUdFyLrdhjr2TvPNJCZk3NjQ4",
		"sigv4 credential": "Authorization=AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/ec2/aws4_request",
		"single-quoted":    "connect: password='s3cr et' host=db",
		"double-quoted":    `{"client_secret": "abc def"}`,
		"escaped quotes":   `error body "{\"password\": \"hunter two\"}"`,
		"at in password":   "dial postgres://user:p@ss@host:5432/db failed",
		"url-encoded":      "GET /cb?token%3DtopSecretValue%26next%3D1",
		"cookie header":    "request had Cookie: session=abcSESSION1; theme=dark",
		"set-cookie":       "response Set-Cookie: sid=abcSESSION2; Path=/; HttpOnly",
		"sas signature":    "GET https://acct.blob.core.windows.net/c/b?sv=2020&sig=SIGabc123%2Fxyz&se=1",
		"apostrophe value": "password=it'sSecret rejected",
		"google token":     "oauth2: got ya29.a0AfB_byPlantedToken42 from the metadata server",
		"google api key":   "request with AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q rejected",
		"query key":        "GET https://compute.googleapis.com/x?alt=json&key=plantedQueryKey&prettyPrint=false",
	}
	planted := map[string]string{
		"bearer header":    "hc_9fQ2xLmP0aZ7Kd3",
		"bare bearer":      "s3cr3tV4lue",
		"query token":      "abcd1234secret",
		"json password":    "hunter2hunter2",
		"aws key id":       "AKIAIOSFODNN7EXAMPLE",
		"aws secret pair":  "wJalrXUtnFEMI",
		"session token":    "FwoGZXIvYXdzEBYaDHVzZXItc2Vzc2lvbg",
		"jwt":              "eyJhbGciOiJSUzI1NiJ9",
		"url userinfo":     "pa55word",
		"hetzner-like key": "jEheVytlAoFl7F8MqUQ7jAo2hOXASztX9hNqQ2WUUdFyLrdhjr2TvPNJCZk3NjQ4",
		"sigv4 credential": "AKIDEXAMPLE/20150830",
		"single-quoted":    "et'",
		"double-quoted":    "def",
		"escaped quotes":   "two",
		"at in password":   "ss@",
		"url-encoded":      "topSecretValue",
		"cookie header":    "abcSESSION1",
		"set-cookie":       "abcSESSION2",
		"sas signature":    "SIGabc123",
		"apostrophe value": "sSecret",
		"google token":     "a0AfB_byPlantedToken42",
		"google api key":   "SyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q",
		"query key":        "plantedQueryKey",
	}
	for name, in := range secrets {
		t.Run(name, func(t *testing.T) {
			out := String(in)
			if strings.Contains(out, planted[name]) {
				t.Errorf("String(%q) = %q: the secret %q survived", in, out, planted[name])
			}
			if !strings.Contains(out, Mask) {
				t.Errorf("String(%q) = %q: no %s marker says what was removed", in, out, Mask)
			}
		})
	}
}

func TestStringKeepsIdentifiers(t *testing.T) {
	for _, in := range []string{
		"instance i-0abc123def4567890 not found",
		"workspace ws-42 switched from aws to hetzner",
		"intent 3f2a9c0d1e4b5a6978c0d1e2f3a4b5c6 at phase deprovision",
		"server cs-3f2a9c0d1e4b5a6978c0d1e2f3a4b5c63f2a9c0d1e4b5a69 already exists",
		"projects/my-project/zones/europe-west1-b/instances/cs-3f2a9c0d",
		"the token was rejected",
		"",
	} {
		if out := String(in); out != in {
			t.Errorf("String(%q) = %q: an identifier without secrets was changed", in, out)
		}
	}
}

func TestErrorRedactsTextButKeepsChain(t *testing.T) {
	cause := errors.New("denied: token=abc123SECRET")
	err := Error(fmt.Errorf("deprovision: %w", cause))
	if strings.Contains(err.Error(), "abc123SECRET") {
		t.Fatalf("Error(...).Error() = %q: the secret survived", err)
	}
	if !errors.Is(err, cause) {
		t.Fatal("errors.Is no longer reaches the cause through a redacted error")
	}
	if Error(nil) != nil {
		t.Fatal("Error(nil) must be nil")
	}
	if Error(err) != err {
		t.Fatal("redacting twice must not wrap twice")
	}
}

func TestErrorMasksTheSecretsItIsGiven(t *testing.T) {
	cause := errors.New("login as root with hunter2 failed")
	if out := String(cause.Error()); !strings.Contains(out, "hunter2") {
		t.Fatalf("String(%q) = %q: the test needs a secret String alone does not catch", cause, out)
	}
	err := Error(fmt.Errorf("provision: %w", cause), "hunter2", "")
	if strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("Error(..., %q).Error() = %q: the secret survived", "hunter2", err)
	}
	if !strings.Contains(err.Error(), Mask) || !strings.Contains(err.Error(), "login as root") {
		t.Fatalf("Error(...).Error() = %q: want the secret masked and the rest kept", err)
	}
	if !errors.Is(err, cause) {
		t.Fatal("errors.Is no longer reaches the cause through an error redacted with secrets")
	}
	if Error(err, "hunter2") != err || Error(err) != err {
		t.Fatal("redacting again with secrets it already masks must not wrap again")
	}
	more := Error(err, "root")
	if strings.Contains(more.Error(), "root") || strings.Contains(more.Error(), "hunter2") {
		t.Fatalf("adding a secret: %q; want both secrets masked", more)
	}
	if !errors.Is(more, cause) || errors.Unwrap(more) != errors.Unwrap(err) {
		t.Fatal("adding a secret must keep the chain and not wrap twice")
	}
	if !strings.Contains(err.Error(), "as root with") {
		t.Fatalf("the first error changed when a secret was added to a copy: %q", err)
	}
}

func TestErrorMasksALongerSecretWhole(t *testing.T) {
	err := Error(errors.New("token abc and abcdef given"), "abc", "abcdef")
	if got, want := err.Error(), "token "+Mask+" and "+Mask+" given"; got != want {
		t.Fatalf("Error(...).Error() = %q; want %q", got, want)
	}
}
