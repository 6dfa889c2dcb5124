package main

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"
)

// newHandler routes the API: GET /healthz for anyone, everything else —
// the workspace endpoints, and extra (pattern → handler: /metrics, the
// emulators' inspection API) — behind the bearer token. Every request gets
// a request id and is logged; every error, 404 and 405 included, is
// application/problem+json.
func newHandler(a *api, token string, ping func(context.Context) error, extra map[string]http.Handler, logger *slog.Logger) http.Handler {
	protected := http.NewServeMux()
	protected.HandleFunc("POST /workspaces", a.createWorkspace)
	protected.HandleFunc("GET /workspaces", a.listWorkspaces)
	protected.HandleFunc("GET /workspaces/{id}", a.getWorkspace)
	protected.HandleFunc("DELETE /workspaces/{id}", a.decommission)
	protected.HandleFunc("PATCH /workspaces/{id}/compute", a.patchCompute)
	protected.HandleFunc("POST /workspaces/{id}/resume", a.resume)
	// The same paths with any other method: 405, naming those allowed.
	protected.Handle("/workspaces", methodNotAllowed("GET, HEAD, POST"))
	protected.Handle("/workspaces/{id}", methodNotAllowed("DELETE, GET, HEAD"))
	protected.Handle("/workspaces/{id}/compute", methodNotAllowed("PATCH"))
	protected.Handle("/workspaces/{id}/resume", methodNotAllowed("POST"))
	for pattern, h := range extra {
		protected.Handle(pattern, h)
	}
	protected.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, problem{Type: typeNotFound, Title: "Not found", Status: http.StatusNotFound,
			Detail: "no such endpoint: go doc ./examples/httpserver lists the API"})
	}))
	root := http.NewServeMux()
	root.Handle("GET /healthz", healthz(ping))
	root.Handle("/healthz", methodNotAllowed("GET, HEAD"))
	root.Handle("/", requireToken(token, protected))
	return withRequestID(logRequests(logger, root))
}

// methodNotAllowed answers 405 with the Allow header.
func methodNotAllowed(allow string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		writeProblem(w, problem{Type: typeMethodNotAllowed, Title: "Method not allowed", Status: http.StatusMethodNotAllowed,
			Detail: r.Method + " is not allowed here; allowed: " + allow})
	})
}

// healthz answers 200 while the database answers, 503 otherwise. It needs
// no token, so that load balancers and orchestrators can call it.
func healthz(ping func(context.Context) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := ping(ctx); err != nil {
			writeProblem(w, problem{Type: typeUnavailable, Title: "Database unavailable", Status: http.StatusServiceUnavailable,
				Detail: "the workspace database does not answer"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}

// maxLoggedPath bounds the path a log line repeats: a request with a huge
// path must not write a huge log line, authenticated or not.
const maxLoggedPath = 256

// loggedPath is the request's path as a log line shows it: at most
// maxLoggedPath bytes, saying how long it really was when cut.
func loggedPath(r *http.Request) string {
	p := r.URL.EscapedPath()
	if len(p) <= maxLoggedPath {
		return p
	}
	return p[:maxLoggedPath] + "…(" + strconv.Itoa(len(p)) + " bytes)"
}

// logRequests logs each request's id, method, path (truncated), status and
// duration — never its headers, which carry the token, nor its body.
func logRequests(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("request_id", requestID(r)),
			slog.String("method", r.Method), slog.String("path", loggedPath(r)),
			slog.Int("status", rec.status), slog.Duration("duration", time.Since(start)))
	})
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
