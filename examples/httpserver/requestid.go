package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
)

// requestIDHeader carries a request's id in every answer. A problem repeats
// it as request_id, and the log line about the cause of an error carries it:
// a client quotes it, an operator finds the cause.
const requestIDHeader = "X-Request-Id"

type requestIDKey struct{}

// withRequestID gives every request a fresh random id — never one the
// client sent, which could forge or flood log lines — in its context and in
// the X-Request-Id header of its answer.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b [8]byte
		_, _ = rand.Read(b[:])
		id := hex.EncodeToString(b[:])
		w.Header().Set(requestIDHeader, id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
	})
}

// requestID returns the id withRequestID gave r ("" outside it).
func requestID(r *http.Request) string {
	id, _ := r.Context().Value(requestIDKey{}).(string)
	return id
}
