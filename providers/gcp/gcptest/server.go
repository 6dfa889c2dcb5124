package gcptest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	compute "cloud.google.com/go/compute/apiv1"
	"google.golang.org/api/option"
	"google.golang.org/protobuf/proto"

	"github.com/cloudswitch/cloudswitch/providers/emulator"
)

// maxBody bounds a request body; the calls the emulator serves are small.
const maxBody = 1 << 20

// Server is a Compute Engine emulator: an HTTP server speaking the Compute
// Engine v1 REST API for the instance and zone operation calls the
// cloudswitch GCP driver makes, with its state in memory. It serves one
// project and a fixed set of zones. It is safe for concurrent use.
type Server struct {
	ts        *httptest.Server
	closeOnce sync.Once
	opts      options
	faults    emulator.Injector
	t         testing.TB // reports misuse; nil for Start
	now       func() time.Time

	mu         sync.Mutex
	salt       uint32 // makes ids differ between servers
	seq        int    // operations started
	ids        uint64 // numeric ids issued
	zones      map[string]*zoneState
	zoneNames  []string               // sorted
	requestIDs map[string]seenRequest // requestIds seen, for the window, until ExpireRequestIDs
	caller     string                 // the project of the callers' credentials; "" for the served one
	images     map[string]bool        // known image paths, "projects/P/global/images/[family/]NAME"
	pending    []*operation           // operations not yet DONE, oldest first
	opFailures []*opFailure
	pageSize   int
}

// NewServer starts an emulator on 127.0.0.1 at a random port and closes it
// when t's test ends. Misuse of the server (an unknown operation in a
// Fault, AddInstance into an unknown zone, …) is reported through t.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s, err := Start("127.0.0.1:0", opts...)
	if err != nil {
		t.Fatalf("gcptest: %v", err)
	}
	s.t = t
	t.Cleanup(s.Close)
	return s
}

// Start starts an emulator listening on addr ("127.0.0.1:0" for a random
// port, or a fixed one), for programs that are not tests. Close stops it.
func Start(addr string, opts ...Option) (*Server, error) {
	o := defaults()
	for _, opt := range opts {
		opt(&o)
	}
	for _, z := range o.zones {
		if !zoneName.MatchString(z) {
			return nil, fmt.Errorf("gcptest: %q is not a zone name (like us-central1-a)", z)
		}
	}
	if !projectID.MatchString(o.project) {
		return nil, fmt.Errorf("gcptest: %q is not a project id (6 to 30 lowercase letters, digits and hyphens)", o.project)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("gcptest: listening on %s: %w", addr, err)
	}
	var salt [4]byte
	_, _ = rand.Read(salt[:])
	s := &Server{
		opts:       o,
		now:        o.clock,
		salt:       binary.BigEndian.Uint32(salt[:]) | 1,
		zones:      make(map[string]*zoneState),
		requestIDs: make(map[string]seenRequest),
		images:     knownImages(),
	}
	for _, z := range o.zones {
		if _, ok := s.zones[z]; !ok {
			s.zones[z] = &zoneState{vms: make(map[string]*vm), ops: make(map[string]*operation), machineTypes: knownMachineTypes()}
			s.zoneNames = append(s.zoneNames, z)
		}
	}
	slices.Sort(s.zoneNames)
	s.ts = httptest.NewUnstartedServer(s.routes())
	s.ts.Listener.Close()
	s.ts.Listener = ln
	s.ts.Start()
	return s, nil
}

// Close stops the server, breaking the connections of calls in flight. It
// may be called more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.ts.CloseClientConnections()
		s.ts.Close()
	})
}

// URL returns the server's base URL, "http://127.0.0.1:port": the endpoint
// of a Compute Engine client pointed at it.
func (s *Server) URL() string { return s.ts.URL }

// Project returns the project the server serves.
func (s *Server) Project() string { return s.opts.project }

// Zones returns the zones the server knows, sorted.
func (s *Server) Zones() []string { return slices.Clone(s.zoneNames) }

// ClientOptions returns the options that point a Compute Engine REST client
// at the server: its endpoint, no authentication, and an HTTP client of its
// own.
func (s *Server) ClientOptions() []option.ClientOption {
	return []option.ClientOption{
		option.WithEndpoint(s.URL()),
		option.WithoutAuthentication(),
		option.WithHTTPClient(s.ts.Client()),
	}
}

// Clients returns an instances client and a zone operations client pointed
// at the server (REST, no authentication). The caller closes them.
func (s *Server) Clients(ctx context.Context) (*compute.InstancesClient, *compute.ZoneOperationsClient, error) {
	instances, err := compute.NewInstancesRESTClient(ctx, s.ClientOptions()...)
	if err != nil {
		return nil, nil, fmt.Errorf("gcptest: instances client: %w", err)
	}
	operations, err := compute.NewZoneOperationsRESTClient(ctx, s.ClientOptions()...)
	if err != nil {
		instances.Close()
		return nil, nil, fmt.Errorf("gcptest: zone operations client: %w", err)
	}
	return instances, operations, nil
}

// misuse returns a wrong use of the server as an error, and reports it as a
// test error when the server was made by NewServer.
func (s *Server) misuse(format string, args ...any) error {
	err := fmt.Errorf("gcptest: "+format, args...)
	if s.t != nil {
		s.t.Helper()
		s.t.Errorf("%v", err)
	}
	return err
}

// routes returns the server's handler.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	const zone = "/compute/v1/projects/{project}/zones/{zone}"
	mux.Handle("POST "+zone+"/instances", s.call(OpInsert, s.insert))
	mux.Handle("GET "+zone+"/instances", s.call(OpList, s.list))
	mux.Handle("GET "+zone+"/instances/{instance}", s.call(OpGet, s.get))
	mux.Handle("DELETE "+zone+"/instances/{instance}", s.call(OpDelete, s.delete))
	mux.Handle("GET "+zone+"/operations/{operation}", s.call(OpOperationGet, s.getOperation))
	mux.Handle("GET /compute/v1/projects/{project}/aggregated/instances", s.call(OpAggregatedList, s.aggregatedList))
	mux.Handle("POST "+zone+"/instances/{instance}/stop", s.call(OpStop, s.stop))
	mux.Handle("POST "+zone+"/instances/{instance}/start", s.call(OpStart, s.start))
	mux.Handle("POST "+zone+"/instances/{instance}/setMachineType", s.call(OpSetMachineType, s.setMachineType))
	mux.Handle("GET "+zone+"/machineTypes/{machineType}", s.call(OpMachineTypeGet, s.getMachineType))
	mux.Handle("GET /compute/v1/projects/{project}/global/images/{image}", s.callAnyProject(OpImageGet, s.getImage))
	mux.Handle("GET /compute/v1/projects/{project}/global/images/family/{family}", s.callAnyProject(OpImageFromFamily, s.getImage))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, errorf(http.StatusNotFound, "notFound", "gcptest: %s %s is not a call the emulator serves", r.Method, r.URL.Path))
	})
	return mux
}

// handler performs one call and returns its answer.
type handler func(r *http.Request, now time.Time) (proto.Message, *apiError)

// call wraps a handler with what every call goes through: the fault
// injector, the project check, and the answer or error envelope.
func (s *Server) call(op string, h handler) http.Handler { return s.serve(op, h, true) }

// callAnyProject is call for a call about a resource of any project (a
// public image), which the caller's credentials need not own.
func (s *Server) callAnyProject(op string, h handler) http.Handler { return s.serve(op, h, false) }

// serve wraps h as call does, checking the project only when ownProject.
func (s *Server) serve(op string, h handler, ownProject bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Read the body first: only then does net/http watch the connection
		// and cancel r.Context() when the client goes away, which cuts an
		// injected latency short.
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			writeError(w, invalid("gcptest: reading the request: %v", err))
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		d := s.faults.Take(r.Context(), op)
		if r.Context().Err() != nil {
			return // the client gave up during the latency: no effect
		}
		if d.Fail() {
			writeError(w, &apiError{status: d.Status, reason: d.Code, message: d.Message})
			return
		}
		var (
			answer proto.Message
			aerr   *apiError
		)
		if p := r.PathValue("project"); ownProject && p != s.opts.project {
			aerr = notFound(projectPath(p))
		} else if !ownProject {
			answer, aerr = h(r, s.now())
		} else if aerr = s.foreignCaller(op, r); aerr == nil {
			answer, aerr = h(r, s.now())
		}
		if d.Drop {
			emulator.DropConnection(w)
			return
		}
		if aerr != nil {
			writeError(w, aerr)
			return
		}
		writeMessage(w, answer)
	})
}
