package transport

import "net/http"

// Status returns the Verdict of a bare HTTP status, one that carries no API
// error code (see the package doc): 408, 429 and every 5xx are transient,
// everything else is permanent, and none is a refusal.
func Status(status int) Verdict {
	switch {
	case status == http.StatusRequestTimeout, status == http.StatusTooManyRequests, status >= 500:
		return Verdict{Transient: true}
	}
	return Verdict{}
}
