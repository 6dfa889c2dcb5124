// Command emulators runs the EC2, Hetzner Cloud and Compute Engine emulators
// on loopback ports, so that several processes — example servers, a
// reconciler, tests — share one simulated cloud. It serves a control API
// beside them and prints where everything is:
//
//	go run ./examples/emulators -addr 127.0.0.1:8089
//
//	GET    /endpoints  where the emulators listen (what other processes connect to)
//	GET    /vms        every VM the emulators hold: the ground truth
//	POST   /faults     inject a fault: {"provider":"aws","op":"TerminateInstances","times":1,"latency":3000000000}
//	DELETE /faults     clear every fault
//
// The example server connects to it with -emulators http://127.0.0.1:8089.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/cloudswitch/cloudswitch/internal/emulated"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8089", "listen address of the control API")
	awsAddr := flag.String("aws", "127.0.0.1:0", "listen address of the EC2 emulator")
	hetznerAddr := flag.String("hetzner", "127.0.0.1:0", "listen address of the Hetzner Cloud emulator")
	gcpAddr := flag.String("gcp", "127.0.0.1:0", "listen address of the Compute Engine emulator")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, emulated.Addrs{AWS: *awsAddr, Hetzner: *hetznerAddr, GCP: *gcpAddr}); err != nil {
		fmt.Fprintln(os.Stderr, "emulators:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, addr string, addrs emulated.Addrs) error {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	set, err := emulated.Start(addrs)
	if err != nil {
		return err
	}
	defer set.Close()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: set.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	// The first line on stdout says where everything is, for scripts.
	out := struct {
		Control   string             `json:"control"`
		Endpoints emulated.Endpoints `json:"endpoints"`
	}{"http://" + ln.Addr().String(), set.Endpoints()}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		return err
	}
	log.Info("emulators running", "control", out.Control, "aws", out.Endpoints.AWS.URL,
		"hetzner", out.Endpoints.Hetzner.URL, "gcp", out.Endpoints.GCP.URL)
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
