// Package httpbody works around a race between aws-sdk-go-v2 (smithy-go)
// and net/http that turns a successful call into a broken connection.
//
// smithy-go hands net/http a request body wrapped in a "safe" closer and
// closes it as soon as the response headers arrive. net/http, after writing
// a body of known length, reads it once more to check that it is exhausted;
// when the response came first (a fast server, such as a local emulator),
// that read hits the closed wrapper, whose WriteTo answers io.EOF as an
// error, and the transport closes the connection under the response body
// being read: "use of closed network connection". Buffering the body in
// memory (EC2 Query bodies are small) gives net/http a body the SDK never
// closes, and one it need not flush separately from the headers.
package httpbody

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
)

// Doer is the HTTP client interface of the SDK's service clients.
type Doer interface {
	Do(*http.Request) (*http.Response, error)
}

// Buffered is a Doer that sends each request with its body read into
// memory first, through Next.
type Buffered struct{ Next Doer }

// Wrap returns next wrapped in Buffered, or next itself if it is nil or
// already a Buffered.
func Wrap(next Doer) Doer {
	if next == nil {
		return nil
	}
	if _, ok := next.(Buffered); ok {
		return next
	}
	return Buffered{Next: next}
}

// Do sends a copy of req whose body is an in-memory reader holding req's
// body.
func (b Buffered) Do(req *http.Request) (*http.Response, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return b.Next.Do(req)
	}
	body, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("reading the request body: %w", err)
	}
	out := req.WithContext(req.Context()) // a shallow copy; req stays the SDK's
	out.Body = io.NopCloser(bytes.NewReader(body))
	out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	out.ContentLength = int64(len(body))
	return b.Next.Do(out)
}
