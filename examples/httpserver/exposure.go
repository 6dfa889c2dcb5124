package main

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
)

// maxHeaderBytes bounds a request's line and headers: a 1 MB path is refused
// by the HTTP server before any handler or log line sees it.
const maxHeaderBytes = 16 << 10

// announceToken tells the user the token generated for this run without
// ever writing it to a log: on a terminal, it prints it there; otherwise —
// stderr collected by a service manager or a log shipper — it writes it to
// file, readable by its owner only, and logs where it is.
func announceToken(token, file string, stderr io.Writer, terminal bool, logger *slog.Logger) error {
	if terminal {
		_, err := fmt.Fprintf(stderr, "\nNo CLOUDSWITCH_TOKEN set: the bearer token of this run is\n\n    %s\n\n", token)
		return err
	}
	if file == "" {
		return fmt.Errorf("no CLOUDSWITCH_TOKEN set, stderr is not a terminal and -token-file is empty: set CLOUDSWITCH_TOKEN")
	}
	_ = os.Remove(file) // a file of an earlier run, maybe with looser permissions
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("writing the generated token: %w", err)
	}
	_, err = fmt.Fprintln(f, token)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing the generated token: %w", err)
	}
	abs, _ := filepath.Abs(file)
	logger.Info("no CLOUDSWITCH_TOKEN set: wrote the bearer token generated for this run to a file only its owner can read",
		"token_file", abs)
	return nil
}

// isTerminal reports whether f is a character device: a terminal, not a
// pipe or a file that a log collector reads.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// warnIfExposed logs a loud warning when the server listens beyond the
// loopback interface without TLS: the bearer token would cross the network
// in clear text, and with it the power to destroy and create VMs.
func warnIfExposed(addr string, bound net.Addr, tls bool, logger *slog.Logger) {
	if tls || loopbackOnly(addr, bound) {
		return
	}
	logger.Warn("!!! LISTENING BEYOND LOOPBACK WITHOUT TLS: the bearer token and every request cross the network in clear text. "+
		"Pass -tls-cert and -tls-key, or put a TLS-terminating proxy in front and listen on 127.0.0.1 !!!",
		"addr", bound.String())
}

// loopbackOnly reports whether the listener reaches only this machine.
func loopbackOnly(addr string, bound net.Addr) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	if tcp, ok := bound.(*net.TCPAddr); ok && tcp.IP.IsLoopback() {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
