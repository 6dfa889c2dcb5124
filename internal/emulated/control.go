package emulated

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Handler serves the control API of s:
//
//	GET    /endpoints  Endpoints, as JSON
//	GET    /vms        every VM the emulators hold, as JSON
//	POST   /faults     inject a Fault (JSON body)
//	DELETE /faults     clear every fault
func (s *Set) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /endpoints", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, s.Endpoints())
	})
	mux.HandleFunc("GET /vms", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, s.VMs())
	})
	mux.HandleFunc("POST /faults", func(w http.ResponseWriter, r *http.Request) {
		var f Fault
		dec := json.NewDecoder(io.LimitReader(r.Body, 1<<16))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			http.Error(w, "bad fault: "+err.Error(), http.StatusBadRequest)
			return
		}
		if err := s.Inject(f); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("DELETE /faults", func(w http.ResponseWriter, r *http.Request) {
		s.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

// InspectHandler serves the part of the control API that a program may
// expose to its users: GET /vms, POST /faults and DELETE /faults — never
// /endpoints, whose answer carries the emulators' credentials.
func (s *Set) InspectHandler() http.Handler {
	full := s.Handler()
	mux := http.NewServeMux()
	mux.Handle("GET /vms", full)
	mux.Handle("POST /faults", full)
	mux.Handle("DELETE /faults", full)
	return mux
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// Remote is a client of a Set's control API served in another process.
type Remote struct {
	URL    string // the control API's base URL, "http://127.0.0.1:8089"
	Client *http.Client
}

func (r Remote) client() *http.Client {
	if r.Client != nil {
		return r.Client
	}
	return http.DefaultClient
}

func (r Remote) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(r.URL, "/")+path, rd)
	if err != nil {
		return err
	}
	resp, err := r.client().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<12))
		return fmt.Errorf("emulated: %s %s: %s: %s", method, path, resp.Status, strings.TrimSpace(string(msg)))
	}
	if out != nil {
		return json.NewDecoder(resp.Body).Decode(out)
	}
	return nil
}

// Endpoints fetches the endpoints of the remote Set.
func (r Remote) Endpoints(ctx context.Context) (Endpoints, error) {
	var e Endpoints
	err := r.do(ctx, http.MethodGet, "/endpoints", nil, &e)
	return e, err
}

// VMs fetches the ground truth of the remote Set.
func (r Remote) VMs(ctx context.Context) ([]VM, error) {
	var vms []VM
	err := r.do(ctx, http.MethodGet, "/vms", nil, &vms)
	return vms, err
}

// Inject injects a fault into the remote Set.
func (r Remote) Inject(ctx context.Context, f Fault) error {
	return r.do(ctx, http.MethodPost, "/faults", f, nil)
}

// ClearFaults clears every fault of the remote Set.
func (r Remote) ClearFaults(ctx context.Context) error {
	return r.do(ctx, http.MethodDelete, "/faults", nil, nil)
}
