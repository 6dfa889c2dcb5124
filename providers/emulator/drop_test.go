package emulator

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestDropConnectionBreaksTheClientsRequest(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { DropConnection(w) }))
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get(srv.URL)
	if err == nil {
		resp.Body.Close()
		t.Fatal("the client got an answer from a dropped connection")
	}
	if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Logf("client error: %v", err) // any transport error will do
	}
}
