// Package h2reset is a test front for a cloud API emulator: an HTTP/2
// server over TLS that forwards requests to the emulator and, for the
// requests a test picks, withholds the answer. It reads such a request to
// its end and forwards it, so that the emulator acts on it. Then it tells
// the client, in a GOAWAY, that the request was processed, and resets its
// stream with PROTOCOL_ERROR. net/http retries a request whose stream the
// server reset that way. The retry goes to a new connection: the test
// decides whether that connection is refused (the front stops listening)
// or the retry is forwarded like any request.
//
// It shows what a driver meets when a request reached the cloud and the
// error the client returns speaks only of a later attempt.
package h2reset

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// Front is the HTTP/2 front of an emulator.
type Front struct {
	ln       net.Listener
	upstream http.Handler
	pool     *x509.CertPool

	mu       sync.Mutex
	reset    func(*http.Request) bool
	refuse   bool
	after    func()
	resets   int
	stopped  bool
	conns    map[net.Conn]bool
	closedLn bool
}

// New starts a front for the emulator at upstream (an http:// URL); the
// test's cleanup stops it.
func New(t testing.TB, upstream string) *Front {
	t.Helper()
	u, err := url.Parse(upstream)
	if err != nil {
		t.Fatalf("h2reset: upstream %q: %v", upstream, err)
	}
	// A throwaway TLS server lends its certificate.
	lender := httptest.NewUnstartedServer(http.NotFoundHandler())
	lender.StartTLS()
	cert := lender.TLS.Certificates[0]
	pool := x509.NewCertPool()
	pool.AddCert(lender.Certificate())
	lender.Close()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatalf("h2reset: listen: %v", err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	f := &Front{ln: ln, upstream: proxy, pool: pool, conns: map[net.Conn]bool{}}
	go f.accept()
	t.Cleanup(f.Close)
	return f
}

// URL is the front's base URL, https://127.0.0.1:port.
func (f *Front) URL() string { return "https://" + f.ln.Addr().String() }

// Client returns an HTTP client that trusts the front and speaks HTTP/2 to
// it, as clients of the real APIs do.
func (f *Front) Client() *http.Client {
	return &http.Client{Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: f.pool},
		ForceAttemptHTTP2: true,
	}}
}

// ResetOnce makes the front withhold the answer to the next request match
// accepts, after forwarding it. With refuse, the front stops listening
// first, so that the client's retry cannot connect; otherwise the retry is
// forwarded. after, if not nil, runs once the request was forwarded and
// before the client hears anything: a test injects a fault there for the
// retry to meet.
func (f *Front) ResetOnce(match func(*http.Request) bool, refuse bool, after func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reset, f.refuse, f.after = match, refuse, after
}

// Resets returns how many requests were forwarded and then reset.
func (f *Front) Resets() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.resets
}

// Close stops the front and closes its connections.
func (f *Front) Close() {
	f.mu.Lock()
	f.stopped = true
	f.closeListenerLocked()
	for c := range f.conns {
		_ = c.Close()
	}
	f.mu.Unlock()
}

func (f *Front) closeListenerLocked() {
	if !f.closedLn {
		f.closedLn = true
		_ = f.ln.Close()
	}
}

func (f *Front) accept() {
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return
		}
		f.mu.Lock()
		if f.stopped {
			f.mu.Unlock()
			_ = c.Close()
			return
		}
		f.conns[c] = true
		f.mu.Unlock()
		go f.serve(c)
	}
}

// stream is a request being read.
type stream struct {
	method, path, authority string
	header                  http.Header
	body                    bytes.Buffer
}

func (f *Front) serve(c net.Conn) {
	defer func() {
		_ = c.Close()
		f.mu.Lock()
		delete(f.conns, c)
		f.mu.Unlock()
	}()
	preface := make([]byte, len(http2.ClientPreface))
	if _, err := io.ReadFull(c, preface); err != nil || string(preface) != http2.ClientPreface {
		return
	}
	fr := http2.NewFramer(c, c)
	fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	if err := fr.WriteSettings(); err != nil {
		return
	}
	streams := map[uint32]*stream{}
	for {
		frame, err := fr.ReadFrame()
		if err != nil {
			return
		}
		var id uint32
		ended := false
		switch fm := frame.(type) {
		case *http2.SettingsFrame:
			if !fm.IsAck() {
				if fr.WriteSettingsAck() != nil {
					return
				}
			}
			continue
		case *http2.PingFrame:
			if !fm.IsAck() {
				if fr.WritePing(true, fm.Data) != nil {
					return
				}
			}
			continue
		case *http2.MetaHeadersFrame:
			id = fm.StreamID
			s := &stream{header: http.Header{}}
			for _, hf := range fm.Fields {
				switch hf.Name {
				case ":method":
					s.method = hf.Value
				case ":path":
					s.path = hf.Value
				case ":authority":
					s.authority = hf.Value
				default:
					if !strings.HasPrefix(hf.Name, ":") {
						s.header.Add(hf.Name, hf.Value)
					}
				}
			}
			streams[id] = s
			ended = fm.StreamEnded()
		case *http2.DataFrame:
			id = fm.StreamID
			if s := streams[id]; s != nil {
				s.body.Write(fm.Data())
			}
			if n := uint32(len(fm.Data())); n > 0 {
				// Give the window back, so that any body gets through.
				if fr.WriteWindowUpdate(0, n) != nil || fr.WriteWindowUpdate(id, n) != nil {
					return
				}
			}
			ended = fm.StreamEnded()
		case *http2.GoAwayFrame:
			return
		default:
			continue
		}
		s := streams[id]
		if !ended || s == nil {
			continue
		}
		delete(streams, id)
		if !f.answer(c, fr, id, s) {
			return
		}
	}
}

// answer forwards the request of stream id and writes the answer, or
// withholds it: then it reports false and the connection ends.
func (f *Front) answer(c net.Conn, fr *http2.Framer, id uint32, s *stream) bool {
	req, err := http.NewRequest(s.method, "https://"+s.authority+s.path, bytes.NewReader(s.body.Bytes()))
	if err != nil {
		return false
	}
	req.Header = s.header
	req.Host = s.authority
	req.RemoteAddr = c.RemoteAddr().String()
	// The matcher reads a copy: it may parse the body.
	look := req.Clone(req.Context())
	look.Body = io.NopCloser(bytes.NewReader(s.body.Bytes()))
	f.mu.Lock()
	withhold := f.reset != nil && f.reset(look)
	var refuse bool
	var after func()
	if withhold {
		refuse, after = f.refuse, f.after
		f.reset, f.after = nil, nil
	}
	f.mu.Unlock()
	rec := httptest.NewRecorder()
	f.upstream.ServeHTTP(rec, req)
	if withhold {
		f.mu.Lock()
		f.resets++
		if refuse {
			f.closeListenerLocked()
		}
		f.mu.Unlock()
		if after != nil {
			after()
		}
		// The request was processed (GOAWAY's last stream is this one),
		// yet its stream is reset: net/http sends it again.
		_ = fr.WriteGoAway(id, http2.ErrCodeNo, nil)
		_ = fr.WriteRSTStream(id, http2.ErrCodeProtocol)
		return false
	}
	return writeResponse(fr, id, rec.Result()) == nil
}

// writeResponse writes resp as the answer of stream id.
func writeResponse(fr *http2.Framer, id uint32, resp *http.Response) error {
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var block bytes.Buffer
	enc := hpack.NewEncoder(&block)
	fields := []hpack.HeaderField{{Name: ":status", Value: strconv.Itoa(resp.StatusCode)}}
	for k, vs := range resp.Header {
		k = strings.ToLower(k)
		if k == "connection" || k == "transfer-encoding" || k == "keep-alive" || k == "content-length" {
			continue
		}
		for _, v := range vs {
			fields = append(fields, hpack.HeaderField{Name: k, Value: v})
		}
	}
	fields = append(fields, hpack.HeaderField{Name: "content-length", Value: strconv.Itoa(len(body))})
	for _, hf := range fields {
		if err := enc.WriteField(hf); err != nil {
			return err
		}
	}
	if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: block.Bytes(), EndHeaders: true, EndStream: len(body) == 0}); err != nil {
		return err
	}
	const maxFrame = 16 << 10
	for len(body) > 0 {
		n := min(len(body), maxFrame)
		if err := fr.WriteData(id, n == len(body), body[:n]); err != nil {
			return err
		}
		body = body[n:]
	}
	return nil
}
