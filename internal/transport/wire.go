package transport

import (
	"context"
	"net/http/httptrace"
	"sync/atomic"
)

// wire counts the requests of one API call that were written to a
// connection.
type wire struct{ written atomic.Int32 }

type wireKey struct{}

// Watch returns ctx for one API call, watched so that Classify and Resent
// know how many of the call's HTTP requests were written to a connection.
// A client may send a request more than once within one call. net/http
// sends again an HTTP/2 request whose stream the server reset, and the
// request may have been processed before the reset. The error the call
// returns then speaks only of the last attempt, such as a failed dial.
// A driver watches every call that may act: a create, a delete, a change of
// state. The count relies on net/http's client trace (WroteHeaders), which
// every transport built on net/http reports.
func Watch(ctx context.Context) context.Context {
	w := &wire{}
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteHeaders: func() { w.written.Add(1) },
	})
	return context.WithValue(ctx, wireKey{}, w)
}

// Written returns how many requests made with ctx, a context Watch
// returned, were written to a connection: their headers went out, so the
// server may have acted on them. It is 0 for a context Watch did not
// return.
func Written(ctx context.Context) int {
	w, _ := ctx.Value(wireKey{}).(*wire)
	if w == nil {
		return 0
	}
	return int(w.written.Load())
}

// Resent reports whether more than one request of the call watched by ctx
// was written. An API's answer then speaks of the last request only: an
// earlier one may have acted, so no answer of the call is a refusal.
func Resent(ctx context.Context) bool { return Written(ctx) > 1 }
