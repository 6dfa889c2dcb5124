package main

import (
	"context"
	"log/slog"
	"net/http"
	"time"
)

// newHandler routes the API: GET /healthz for anyone, everything else —
// the workspace endpoints, and extra (pattern → handler: /metrics, the
// emulators' control API) — behind the bearer token. Every request is
// logged.
func newHandler(a *api, token string, ping func(context.Context) error, extra map[string]http.Handler, logger *slog.Logger) http.Handler {
	protected := http.NewServeMux()
	protected.HandleFunc("POST /workspaces", a.createWorkspace)
	protected.HandleFunc("GET /workspaces", a.listWorkspaces)
	protected.HandleFunc("GET /workspaces/{id}", a.getWorkspace)
	protected.HandleFunc("PATCH /workspaces/{id}/compute", a.patchCompute)
	protected.HandleFunc("POST /workspaces/{id}/resume", a.resume)
	for pattern, h := range extra {
		protected.Handle(pattern, h)
	}
	root := http.NewServeMux()
	root.Handle("GET /healthz", healthz(ping))
	root.Handle("/", requireToken(token, protected))
	return logRequests(logger, root)
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

// logRequests logs each request's method, path, status and duration —
// never its headers, which carry the token.
func logRequests(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
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

// Unwrap lets http.ResponseController reach the underlying writer (to
// flush a streamed list).
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
