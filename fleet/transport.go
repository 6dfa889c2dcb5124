package fleet

import (
	"net/http"

	"golang.org/x/time/rate"
)

// OpAPICall is the Op of a token a rate-limited transport took for one HTTP
// request to a cloud's API.
const OpAPICall Op = "api"

// LimitTransport returns next behind the token bucket lim: every HTTP
// request sent through the returned RoundTripper first waits for one token
// from lim, as long as the request's context allows. Install it as the
// transport of a driver's SDK client (the AWS SDK's HTTPClient, hcloud's
// WithHTTPClient, Google's option.WithHTTPClient under its authentication),
// and every API call the driver makes — a launch, each poll of its wait,
// each page of a listing, every retry — takes a token: the bucket bounds what
// the cloud receives, which is what its API limits count. (RateLimit, by
// contrast, takes one token per driver call, whatever the calls to the cloud
// it makes.) Share one bucket between every client that reaches the same
// cloud account. next nil means http.DefaultTransport.
//
// A request that cannot get a token in time (its context ended, or it would
// wait past its deadline) is not sent: RoundTrip returns an error matching
// cloudswitch.ErrRefused. The drivers of this module keep that mark only on
// a call none of whose requests was sent. They drop it from the error of a
// call that had sent a request before, that the cloud had accepted (a poll
// of its wait), or whose context ended: there the Switcher treats it as it
// treats a broken connection, and the switch stays journaled for Resume.
// name labels the provider in Grants (WithGrants).
func LimitTransport(name string, next http.RoundTripper, lim *rate.Limiter, opts ...RateLimitOption) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	l := &limited{name: name, lim: lim}
	for _, o := range opts {
		if o != nil {
			o(l)
		}
	}
	return &limitedTransport{l: l, next: next}
}

// limitedTransport is an http.RoundTripper behind a token bucket.
type limitedTransport struct {
	l    *limited
	next http.RoundTripper
}

// RoundTrip waits for a token, then sends req through the next transport.
func (t *limitedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := t.l.wait(req.Context(), OpAPICall); err != nil {
		if req.Body != nil {
			_ = req.Body.Close() // a RoundTripper closes the body, even on error
		}
		return nil, err
	}
	return t.next.RoundTrip(req)
}
