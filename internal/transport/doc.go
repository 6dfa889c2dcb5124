// Package transport classifies, once for every HTTP-based driver, the
// failures that are not an API's own error answer: the caller's context
// ending, a transport failure under the HTTP exchange, and a bare HTTP
// status that carries no API error code. Each driver maps its own API's
// error codes (EC2 codes, hcloud codes, Compute Engine reasons) and defers
// to this package for everything else, so that the drivers agree.
//
// A Verdict says two things. Transient: the same call may succeed when
// retried. Refused: the cloud certainly did not act on the call, in the
// sense of cloudswitch.ErrRefused. A refusal is claimed only where the
// request certainly never left this process; anything after the request may
// have been sent leaves the outcome unknown.
//
// The classes, in the order Classify tries them:
//
//   - The caller's context ended: Cancelled. The driver reports the
//     context's error, neither transient nor refused.
//   - A TLS or certificate verification failure (unknown authority, wrong
//     host name, invalid certificate, no system roots): permanent and
//     refused. The handshake precedes the request, and retrying meets the
//     same certificate.
//   - A dial failure (a *net.OpError of op "dial" or "proxyconnect",
//     connection refused) or a DNS failure: transient and refused. The
//     connection never opened, so the request never left. A DNS "no such
//     host" is kept transient too: a resolver or a split-horizon view can
//     flap, and the caller's retries are bounded.
//   - Neither of the two above is a refusal when an earlier request of the
//     same call was written (see Watch). net/http sends an HTTP/2 request
//     again when the server resets its stream, and the server may have
//     processed it first: a dial that fails for the second attempt says
//     nothing of the first.
//   - A timeout, a reset or aborted connection, a broken pipe, an EOF, a
//     closed connection, and any other net.Error (which includes every
//     *url.Error an http.Client returns): transient, not refused. The
//     request may have been sent and acted on.
//   - Anything else: permanent, not refused. Nothing is known of it.
//
// Status classifies a bare HTTP status, one without the API's error code
// (a proxy's or a load balancer's answer, an undecodable body):
//
//   - 429: transient, not refused;
//   - 408: transient, not refused;
//   - every 5xx: transient, not refused;
//   - every other status: permanent, not refused.
//
// An API's own answer that the driver reads as a refusal speaks of the
// last request only. When Resent says the call wrote more than one, the
// driver claims no refusal.
//
// No bare status is a refusal. A status alone is not the API's documented
// answer that it did not act, and whatever answered may stand in front of
// an API that did. A 429 with the API's own throttling code is a refusal,
// and the driver that knows that code says so.
package transport
