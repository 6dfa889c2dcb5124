package httpbody_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch/providers/aws/internal/httpbody"
)

// closingBody is a request body that, like the SDK's, answers io.EOF once
// closed.
type closingBody struct {
	r      io.Reader
	closed bool
}

func (b *closingBody) Read(p []byte) (int, error) {
	if b.closed {
		return 0, io.EOF
	}
	return b.r.Read(p)
}

func (b *closingBody) Close() error { b.closed = true; return nil }

type recorder struct{ req *http.Request }

func (r *recorder) Do(req *http.Request) (*http.Response, error) {
	r.req = req
	return &http.Response{StatusCode: 200, Body: http.NoBody}, nil
}

// The body the transport reads survives the SDK closing its own.
func TestBufferedBodyOutlivesTheSDKsBody(t *testing.T) {
	const form = "Action=DescribeInstances&Version=2016-11-15"
	sdkBody := &closingBody{r: strings.NewReader(form)}
	req, err := http.NewRequest(http.MethodPost, "http://127.0.0.1/", sdkBody)
	require.NoError(t, err)
	req.ContentLength = int64(len(form))
	rec := &recorder{}
	if _, err := httpbody.Wrap(rec).Do(req); err != nil {
		t.Fatal(err)
	}
	_ = req.Body.Close() // what smithy-go does when the response arrives
	if rec.req == req {
		t.Fatal("Buffered passed the SDK's request on; want a copy with its own body")
	}
	got, err := io.ReadAll(rec.req.Body)
	if err != nil || string(got) != form {
		t.Fatalf("the sent body reads %q, %v; want %q", got, err, form)
	}
	if rec.req.ContentLength != int64(len(form)) {
		t.Errorf("ContentLength %d; want %d", rec.req.ContentLength, len(form))
	}
	again, err := rec.req.GetBody()
	require.NoError(t, err)
	if b, _ := io.ReadAll(again); !bytes.Equal(b, []byte(form)) {
		t.Errorf("GetBody reads %q; want %q", b, form)
	}
}

func TestWrapIsIdempotentAndKeepsNil(t *testing.T) {
	rec := &recorder{}
	once := httpbody.Wrap(rec)
	if twice := httpbody.Wrap(once); twice != once {
		t.Error("wrapping a Buffered again wrapped it twice")
	}
	if httpbody.Wrap(nil) != nil {
		t.Error("Wrap(nil) is not nil")
	}
	req, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1/", nil)
	if _, err := once.Do(req); err != nil || rec.req != req {
		t.Errorf("a request without a body was not passed on as is (%v)", err)
	}
}
