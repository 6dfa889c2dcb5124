package hetzner_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"
	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch/providers/hetzner"
	"github.com/cloudswitch/cloudswitch/providers/hetzner/hetznertest"
	"github.com/cloudswitch/cloudswitch/providers/providertest"
)

// TestTheTokenNeverAppearsInErrorsOrLogs plants the API token in every
// error the API can answer — as a misbehaving proxy or a verbose backend
// might echo it — and on every failing path of every method, and checks
// that no error string and no log line carries it.
func TestTheTokenNeverAppearsInErrorsOrLogs(t *testing.T) {
	ctx := t.Context()
	for name, build := range map[string]func(srv *hetznertest.Server, log *slog.Logger) (*hetzner.Driver, error){
		"NewFromToken": func(srv *hetznertest.Server, log *slog.Logger) (*hetzner.Driver, error) {
			return hetzner.NewFromToken(srv.Token(), hetzner.WithLogger(log), hetzner.WithSSHKeys("ops"),
				hetzner.WithClientOptions(hcloud.WithEndpoint(srv.URL()),
					hcloud.WithRetryOpts(hcloud.RetryOpts{MaxRetries: 0}),
					hcloud.WithPollOpts(hcloud.PollOpts{BackoffFunc: hcloud.ConstantBackoff(time.Millisecond)})))
		},
		"New": func(srv *hetznertest.Server, log *slog.Logger) (*hetzner.Driver, error) {
			return hetzner.New(srv.Client(hcloud.WithRetryOpts(hcloud.RetryOpts{MaxRetries: 0})),
				hetzner.WithLogger(log), hetzner.WithSSHKeys("ops"))
		},
	} {
		t.Run(name, func(t *testing.T) {
			var logs bytes.Buffer
			log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			srv := hetznertest.NewServer(t, hetznertest.WithSSHKeys("ops"))
			d, err := build(srv, log)
			require.NoError(t, err)
			secret := srv.Token()
			echo := "request failed for Authorization: Bearer " + secret + " (token " + secret + ")"
			var errs []error
			note := func(err error) {
				if err == nil {
					t.Errorf("a failing path succeeded")
					return
				}
				errs = append(errs, err)
			}
			inst := provision(t, d, request("ws-secret"))
			ops := []string{
				hetznertest.OpCreateServer, hetznertest.OpListServers, hetznertest.OpDeleteServer,
				hetznertest.OpListActions, hetznertest.OpGetServer, hetznertest.OpListSSHKeys,
			}
			for _, status := range []int{403, 503} {
				for _, op := range ops {
					srv.Inject(hetznertest.Fault{Op: op, Status: status, Code: "forbidden", Message: echo})
					srv.Inject(hetznertest.Fault{Op: op, Status: status, Message: echo}) // a bare answer
					for range 2 {
						_, err := d.Provision(ctx, request("ws-secret"))
						errs = append(errs, err)
						errs = append(errs, d.Deprovision(ctx, inst))
						_, err = providertest.Listed(ctx, d, owner)
						errs = append(errs, err)
					}
					srv.ClearFaults()
				}
			}
			// The create is refused as a repeat, and the lookup echoes.
			req := request("ws-secret")
			provision(t, d, req)
			srv.Inject(hetznertest.Fault{Op: hetznertest.OpListServers, Status: 500, Code: "server_error", Message: echo})
			_, err = d.Provision(ctx, req)
			note(err)
			srv.ClearFaults()
			// Lost answers, deadlines and a closed server.
			srv.Inject(hetznertest.Fault{Op: hetznertest.OpCreateServer, Times: 1, Drop: true})
			_, err = d.Provision(ctx, request("ws-secret"))
			note(err)
			short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
			defer cancel()
			srv.SetLatency(time.Second)
			_, err = d.Provision(short, request("ws-secret"))
			note(err)
			srv.Close()
			_, err = d.Provision(ctx, request("ws-secret"))
			note(err)
			note(d.Deprovision(ctx, inst))
			_, err = providertest.Listed(ctx, d, owner)
			note(err)

			failed := 0
			for _, err := range errs {
				if err == nil {
					continue
				}
				failed++
				if strings.Contains(err.Error(), secret) {
					t.Errorf("an error carries the token: %v", err)
				}
			}
			if failed < 40 {
				t.Errorf("only %d calls failed; the faults did not reach the driver", failed)
			}
			if strings.Contains(logs.String(), secret) {
				t.Errorf("a log line carries the token:\n%s", logs.String())
			}
			if logs.Len() == 0 {
				t.Error("nothing was logged at debug level; the log check checked nothing")
			}
		})
	}
}
