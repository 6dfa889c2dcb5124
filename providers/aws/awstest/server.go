package awstest

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/cloudswitch/cloudswitch/providers/aws/internal/httpbody"
	"github.com/cloudswitch/cloudswitch/providers/emulator"
)

// DefaultRegion is the region of Config and of AddInstance without a region.
const DefaultRegion = "us-east-1"

// The fake credentials of Client and Config. The emulator checks that a
// request is signed (it reads the region from the signature's scope) but not
// with which key.
const (
	AccessKeyID     = "AKIDAWSTESTEMULATOR0"
	SecretAccessKey = "awstest-secret-access-key-not-a-real-one"
	SessionToken    = "awstest-session-token-not-a-real-one"
)

// accountID is the owner id of every reservation.
const accountID = "123456789012"

// maxBody bounds a request body; the calls the emulator serves are small.
const maxBody = 1 << 20

// Server is an EC2 emulator: an HTTP server speaking the EC2 Query protocol
// for RunInstances, TerminateInstances, DescribeInstances, StopInstances,
// StartInstances and ModifyInstanceAttribute, with its state in memory,
// serving every region at one URL (the region is read from each request's
// SigV4 credential scope). It is safe for concurrent use.
type Server struct {
	ts        *httptest.Server
	closeOnce sync.Once
	closing   context.Context // done once Close is called
	stop      context.CancelFunc
	opts      options
	faults    emulator.Injector
	t         testing.TB // reports misuse; nil for Start

	mu      sync.Mutex
	offset  time.Duration // Advance's: the emulator's clock runs this far ahead
	failing []string      // state reasons of the next launches that fail
	// tokensValidFrom: NextTokens issued before it are expired
	// (ExpirePageTokens).
	tokensValidFrom time.Time
	catalog         catalog
	salt            uint32 // makes ids differ between servers
	seq             uint64
	vms             []*vm          // every instance, in creation order
	byID            map[string]*vm // every instance, by id
	regions         map[string]*regionState
	pageSize        int
}

// NewServer starts an emulator on 127.0.0.1 at a random port and closes it
// when t's test ends. Misuse of the server (a Fault naming an action it
// does not serve) is reported through t.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s, err := Start("127.0.0.1:0", opts...)
	if err != nil {
		t.Fatalf("awstest: %v", err)
	}
	s.t = t
	t.Cleanup(s.Close)
	return s
}

// Start starts an emulator listening on addr ("127.0.0.1:0" for a random
// port, or a fixed one), for programs that are not tests. Close stops it.
func Start(addr string, opts ...Option) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("awstest: listening on %s: %w", addr, err)
	}
	s := newServer(opts...)
	s.ts = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.ts.Listener.Close()
	s.ts.Listener = ln
	s.ts.Start()
	return s, nil
}

func newServer(opts ...Option) *Server {
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	var salt [4]byte
	_, _ = rand.Read(salt[:])
	closing, stop := context.WithCancel(context.Background())
	return &Server{
		closing:  closing,
		stop:     stop,
		opts:     o,
		salt:     binary.BigEndian.Uint32(salt[:]),
		byID:     make(map[string]*vm),
		regions:  make(map[string]*regionState),
		pageSize: o.pageSize,
		catalog:  defaultCatalog(),
	}
}

// now is the emulator's clock: the time plus what Advance added; s.mu is
// held.
func (s *Server) now() time.Time { return time.Now().Add(s.offset) }

// Advance moves the emulator's clock d ahead, so that a test sees what
// happens after a window (a ClientToken forgotten, a terminated instance
// no longer describable, a NextToken expired) without waiting for it.
// Instance launch times, states and windows all follow the emulator's
// clock.
func (s *Server) Advance(d time.Duration) {
	s.mu.Lock()
	s.offset += max(d, 0)
	s.mu.Unlock()
}

// Close stops the server and closes its connections; calls held up by
// injected latency end at once, their connections dropped. It may be called
// more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.stop()
		s.ts.Close()
	})
}

// URL returns the server's base URL, "http://127.0.0.1:port", the
// BaseEndpoint of an EC2 client pointed at it.
func (s *Server) URL() string { return s.ts.URL }

// Client returns an EC2 client of region pointed at the server, with the fake
// static credentials and no SDK retries (RetryMaxAttempts 1), so a test sees
// every fault it injects. Its HTTP client sends request bodies from memory,
// which keeps a race between the SDK and net/http from breaking connections
// to a server as fast as this one; build a client from its Options to keep
// that.
func (s *Server) Client(region string) *ec2.Client {
	return ec2.New(ec2.Options{
		Region:           region,
		BaseEndpoint:     awssdk.String(s.URL()),
		Credentials:      credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, SessionToken),
		RetryMaxAttempts: 1,
		HTTPClient:       httpbody.Wrap(awshttp.NewBuildableClient()),
	})
}

// Config returns an SDK configuration pointed at the server (region
// DefaultRegion, the fake static credentials, RetryMaxAttempts 1, the HTTP
// client of Client): every client made from it, whatever its region, talks
// to the server.
func (s *Server) Config() awssdk.Config {
	return awssdk.Config{
		Region:           DefaultRegion,
		BaseEndpoint:     awssdk.String(s.URL()),
		Credentials:      credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, SessionToken),
		RetryMaxAttempts: 1,
		HTTPClient:       httpbody.Wrap(awshttp.NewBuildableClient()),
	}
}

// misuse returns a wrong use of the server as an error, and reports it as a
// test error when the server was made by NewServer.
func (s *Server) misuse(format string, args ...any) error {
	err := fmt.Errorf("awstest: "+format, args...)
	if s.t != nil {
		s.t.Helper()
		s.t.Errorf("%v", err)
	}
	return err
}

// serve answers one EC2 Query request.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		writeError(w, badRequest("MalformedQueryString", "The request could not be parsed."))
		return
	}
	region, ok := signedRegion(r.Header.Get("Authorization"))
	if !ok {
		writeError(w, &apiError{status: http.StatusUnauthorized, code: "AuthFailure",
			message: "AWS was not able to validate the provided access credentials: the request is not signed with AWS Signature Version 4."})
		return
	}
	action := r.Form.Get("Action")
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	defer context.AfterFunc(s.closing, cancel)()
	d := s.faults.Take(ctx, action)
	if ctx.Err() != nil {
		// The client gave up, or the server is closing, during the
		// latency: no effect, and no answer.
		if s.closing.Err() != nil {
			emulator.DropConnection(w)
		}
		return
	}
	if d.Fail() {
		writeError(w, &apiError{status: d.Status, code: d.Code, message: d.Message})
		return
	}
	answer, aerr := s.dispatch(action, region, r.Form)
	if d.Drop {
		emulator.DropConnection(w)
		return
	}
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	writeXML(w, http.StatusOK, answer)
}

// dispatch performs one action and returns its answer.
func (s *Server) dispatch(action, region string, form url.Values) (any, *apiError) {
	switch action {
	case OpRunInstances:
		return s.runInstances(region, form)
	case OpTerminateInstances:
		return s.terminateInstances(region, form)
	case OpDescribeInstances:
		return s.describeInstances(region, form)
	case OpStopInstances:
		return s.stopInstances(region, form)
	case OpStartInstances:
		return s.startInstances(region, form)
	case OpModifyInstanceAttribute:
		return s.modifyInstanceAttribute(region, form)
	case "":
		return nil, badRequest("MissingAction", "The request must contain the parameter Action.")
	default:
		return nil, badRequest("InvalidAction", "The action %s is not valid for this web service.", action)
	}
}

// signedRegion reads the region from a SigV4 Authorization header:
// "AWS4-HMAC-SHA256 Credential=AKID/20240101/REGION/ec2/aws4_request, …".
func signedRegion(auth string) (string, bool) {
	rest, ok := strings.CutPrefix(auth, "AWS4-HMAC-SHA256 ")
	if !ok {
		return "", false
	}
	for field := range strings.SplitSeq(rest, ",") {
		cred, ok := strings.CutPrefix(strings.TrimSpace(field), "Credential=")
		if !ok {
			continue
		}
		scope := strings.Split(cred, "/")
		if len(scope) != 5 || scope[2] == "" || scope[4] != "aws4_request" {
			return "", false
		}
		return scope[2], true
	}
	return "", false
}
