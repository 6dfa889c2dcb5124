package emulator

import "net/http"

// DropConnection closes the connection of w without an answer, so the client
// sees a broken connection (io.EOF or a reset) after sending its request.
// It falls back to panicking the handler with http.ErrAbortHandler, which
// net/http also answers by closing the connection.
func DropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}
