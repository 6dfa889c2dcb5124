package hetznertest

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"net"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"

	"github.com/cloudswitch/cloudswitch/providers/emulator"
)

// Server is an emulated Hetzner Cloud API: one project, served over HTTP on
// a local port. It is safe for concurrent use.
type Server struct {
	cfg    config
	t      testing.TB // nil when made by Start
	hs     *httptest.Server
	ctx    context.Context // ends when the server closes
	cancel context.CancelFunc
	close  sync.Once
	faults emulator.Injector

	otherToken string // the token of the other project

	mu       sync.Mutex
	ids      *ids
	project  *project // the project of Token
	other    *project // the project of OtherProjectToken
	pageSize int      // cap of per_page; 0: none

	noLocks     bool          // SetLocking(false)
	unavailable []Unavailable // SetUnavailable
}

// NewServer starts an emulator on 127.0.0.1 and a random port for the
// duration of a test: it is closed when the test ends. A bad option fails
// the test.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s, err := start("127.0.0.1:0", t, opts)
	if err != nil {
		t.Fatal(err)
		return nil
	}
	t.Cleanup(s.Close)
	return s
}

// Start starts an emulator listening on addr ("127.0.0.1:0" for a random
// port), for programs such as a demo server running without a Hetzner
// account. The caller closes it.
func Start(addr string, opts ...Option) (*Server, error) {
	return start(addr, nil, opts)
}

func start(addr string, t testing.TB, opts []Option) (*Server, error) {
	cfg := config{serverTypes: DefaultServerTypes, locations: DefaultLocations, images: slices.Clone(DefaultImages)}
	for _, o := range opts {
		if o == nil {
			return nil, fmt.Errorf("hetznertest: nil Option")
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	if cfg.token == "" {
		tok, err := newToken()
		if err != nil {
			return nil, fmt.Errorf("hetznertest: generating a token: %w", err)
		}
		cfg.token = tok
	}
	otherToken, err := newToken()
	if err != nil {
		return nil, fmt.Errorf("hetznertest: generating a token: %w", err)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("hetznertest: listening on %s: %w", addr, err)
	}
	n := &ids{images: make(map[string]int64)}
	s := &Server{cfg: cfg, t: t, otherToken: otherToken, ids: n, project: newProject(n, cfg.sshKeys), other: newProject(n, nil)}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.hs = httptest.NewUnstartedServer(s.routes())
	s.hs.Listener.Close()
	s.hs.Listener = l
	s.hs.Config.BaseContext = func(net.Listener) context.Context { return s.ctx }
	s.hs.Start()
	return s, nil
}

// Close stops the server: calls in flight are cut short, later calls fail
// to connect. It may be called more than once.
func (s *Server) Close() {
	s.close.Do(func() {
		s.cancel()
		s.hs.Close()
	})
}

// URL returns the API endpoint, for hcloud.WithEndpoint.
func (s *Server) URL() string { return s.hs.URL }

// Token returns the API token of the emulated project.
func (s *Server) Token() string { return s.cfg.token }

// OtherProjectToken returns a valid API token of another project of the
// same account, as someone would configure by mistake: it authenticates,
// but its project is a different one — empty, without the SSH keys
// WithSSHKeys creates — so every server of Token's project answers 404
// not_found to it, and servers created with it are not in Instances. Server
// ids are unique across both projects, as on Hetzner.
func (s *Server) OtherProjectToken() string { return s.otherToken }

// Client returns an hcloud client for this server: its endpoint and token,
// action polling that starts at once and backs off from 1 ms to 100 ms, and
// no SDK retries, as hetzner.ClientOptions. opts are applied after these
// and may override them.
func (s *Server) Client(opts ...hcloud.ClientOption) *hcloud.Client {
	base := []hcloud.ClientOption{
		hcloud.WithEndpoint(s.URL()),
		hcloud.WithToken(s.Token()),
		hcloud.WithApplication("hetznertest", ""),
		hcloud.WithPollOpts(hcloud.PollOpts{BackoffFunc: pollBackoff}),
		hcloud.WithRetryOpts(hcloud.RetryOpts{MaxRetries: 0}), // as hetzner.ClientOptions: one attempt a call
	}
	return hcloud.NewClient(append(base, opts...)...)
}

// pollBackoff polls at once, then after 1 ms, doubling up to 100 ms.
func pollBackoff(retries int) time.Duration {
	if retries == 0 {
		return 0
	}
	return min(time.Millisecond<<min(retries-1, 7), 100*time.Millisecond)
}

// Instances returns every server of the project, by ascending id: the
// ground truth, including servers a listing does not show yet and servers
// being deleted.
func (s *Server) Instances() []Instance {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.project.settle(time.Now())
	out := make([]Instance, 0, len(s.project.servers))
	for _, srv := range s.project.servers {
		out = append(out, snapshot(srv.Instance))
	}
	return out
}

// AddInstance creates a running server with this name and labels, as
// someone working outside cloudswitch would (another tool, a colleague, a
// leftover), and returns it. It has the first server type and location and
// the image "ubuntu-24.04", and is subject to the listing lag. Labels are
// stored as given, unchecked, so a test can plant labels the API would
// refuse. If the name is taken, no server is created and AddInstance
// returns the zero Instance (failing the test when the emulator was made by
// NewServer).
func (s *Server) AddInstance(name string, labels map[string]string) Instance {
	now := time.Now()
	lag := s.faults.ListLag()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.project.settle(now)
	if _, taken := s.project.byName[name]; taken {
		_ = s.misuse("AddInstance: a server named %q exists", name)
		return Instance{}
	}
	vm := Instance{
		Name: name, Type: s.cfg.serverTypes[0], Location: s.cfg.locations[0], Image: "ubuntu-24.04",
		Status: StatusRunning, Labels: labels, Created: apiTime(now),
	}
	vm = snapshot(vm)
	return snapshot(s.project.add(vm, now.Add(lag)).Instance)
}

// misuse returns a wrong use of the server as an error, and reports it as a
// test error when the server was made by NewServer.
func (s *Server) misuse(format string, args ...any) error {
	err := fmt.Errorf("hetznertest: "+format, args...)
	if s.t != nil {
		s.t.Helper()
		s.t.Errorf("%v", err)
	}
	return err
}

// newToken returns a random 64-character token of letters and digits, as
// Hetzner issues, with at least one upper-case letter, lower-case letter and
// digit.
func newToken() (string, error) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	for {
		var b strings.Builder
		for range 64 {
			n, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
			if err != nil {
				return "", err
			}
			b.WriteByte(alphabet[n.Int64()])
		}
		tok := b.String()
		if strings.ContainsAny(tok, alphabet[:26]) && strings.ContainsAny(tok, alphabet[26:52]) && strings.ContainsAny(tok, alphabet[52:]) {
			return tok, nil
		}
	}
}

// knownServerType reports whether the project offers this server type.
func (s *Server) knownServerType(name string) bool { return slices.Contains(s.cfg.serverTypes, name) }

// PowerOff turns server id of the project off, as someone in the Hetzner
// console would, and reports whether the server exists.
func (s *Server) PowerOff(id int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.project.settle(time.Now())
	srv := s.project.server(id)
	if srv == nil {
		return false
	}
	if srv.Status != StatusDeleting {
		srv.Status = StatusOff
		s.project.version++
	}
	return true
}
