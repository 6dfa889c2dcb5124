package hetzner_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"
	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/providers/hetzner"
	"github.com/cloudswitch/cloudswitch/providers/hetzner/hetznertest"
	"github.com/cloudswitch/cloudswitch/providers/providertest"
)

// operation is one Provider method and the API call that carries it out.
type operation struct {
	name string
	api  string
	call func(ctx context.Context, d *hetzner.Driver, inst cloudswitch.Instance) error
}

// operations are the Provider methods, each run against an existing server
// (inst).
var operations = []operation{
	{"Provision", hetznertest.OpCreateServer, func(ctx context.Context, d *hetzner.Driver, _ cloudswitch.Instance) error {
		_, err := d.Provision(ctx, request("ws-err"))
		return err
	}},
	{"Deprovision", hetznertest.OpDeleteServer, func(ctx context.Context, d *hetzner.Driver, inst cloudswitch.Instance) error {
		return d.Deprovision(ctx, inst)
	}},
	{"Instances", hetznertest.OpListServers, func(ctx context.Context, d *hetzner.Driver, _ cloudswitch.Instance) error {
		_, err := providertest.Listed(ctx, d, owner)
		return err
	}},
}

// eachOperation runs check on the error every operation gets while the
// fault stands, on a fresh emulator, and checks that the server survived
// unless the fault lets calls take effect.
func eachOperation(t *testing.T, f hetznertest.Fault, check func(t *testing.T, err error)) {
	for _, op := range operations {
		t.Run(op.name, func(t *testing.T) {
			srv, d := setup(t, nil)
			inst := provision(t, d, request("ws-existing"))
			f := f
			f.Op = op.api
			srv.Inject(f)
			err := op.call(t.Context(), d, inst)
			if err == nil {
				t.Fatal("the call succeeded despite the fault")
			}
			check(t, err)
			if _, ok := vmByID(t, srv, inst.ID); !ok && !f.Drop {
				t.Error("a call that failed without effect destroyed the server")
			}
		})
	}
}

func TestNotFoundIsErrInstanceNotFoundOnlyForTheInstance(t *testing.T) {
	ctx := t.Context()
	// The SSH key, given by id (ids are unique across Hetzner, names are
	// not), shows the driver sees the project, so a 404 is trusted. The
	// emulator numbers its keys 1, 2, ….
	srv, d := setup(t, []hetznertest.Option{hetznertest.WithSSHKeys("ops")}, hetzner.WithSSHKeys("1"))
	err := d.Deprovision(ctx, cloudswitch.Instance{Provider: cloudswitch.Hetzner, ID: "424242"})
	if !errors.Is(err, cloudswitch.ErrInstanceNotFound) || errors.Is(err, cloudswitch.ErrTransient) || errors.Is(err, cloudswitch.ErrRefused) {
		t.Fatalf("Deprovision of an unknown server: %v; want ErrInstanceNotFound, neither transient nor a refusal", err)
	}
	// A create answered not_found names a missing image or type: permanent,
	// never "instance not found".
	srv.Inject(hetznertest.Fault{Op: hetznertest.OpCreateServer, Times: 1, Status: http.StatusNotFound, Code: "not_found"})
	_, err = d.Provision(ctx, request("ws-nf"))
	if err == nil || errors.Is(err, cloudswitch.ErrInstanceNotFound) || errors.Is(err, cloudswitch.ErrTransient) {
		t.Fatalf("Provision answered not_found: %v; want a permanent error", err)
	}
	srv.Inject(hetznertest.Fault{Op: hetznertest.OpListServers, Times: 1, Status: http.StatusNotFound, Code: "not_found"})
	if _, err := providertest.Listed(ctx, d, owner); err == nil || errors.Is(err, cloudswitch.ErrInstanceNotFound) || errors.Is(err, cloudswitch.ErrTransient) {
		t.Fatalf("Instances answered not_found: %v; want a permanent error", err)
	}
}

func TestTransientAPIErrorsMatchErrTransient(t *testing.T) {
	for code, status := range map[hcloud.ErrorCode]int{
		hcloud.ErrorCodeRateLimitExceeded: http.StatusTooManyRequests,
		hcloud.ErrorCodeConflict:          http.StatusConflict,
		hcloud.ErrorCodeLocked:            http.StatusLocked,
		hcloud.ErrorCodeServerError:       http.StatusInternalServerError,
		hcloud.ErrorCodeServiceError:      http.StatusServiceUnavailable,
		hcloud.ErrorCodeMaintenance:       http.StatusServiceUnavailable,
		hcloud.ErrorCodeTimeout:           http.StatusGatewayTimeout,
		hcloud.ErrorCodeBadGateway:        http.StatusBadGateway,
		"a_future_5xx_code":               http.StatusServiceUnavailable,
	} {
		t.Run(string(code), func(t *testing.T) {
			eachOperation(t, hetznertest.Fault{Status: status, Code: string(code)}, func(t *testing.T, err error) {
				if !errors.Is(err, cloudswitch.ErrTransient) || apiCode(err) != code {
					t.Errorf("%v; want ErrTransient over the %s error", err, code)
				}
			})
		})
	}
}

func TestBareGatewayAnswersAreTransientAndOtherBareAnswersPermanent(t *testing.T) {
	for _, status := range []int{408, 429, 500, 501, 502, 503, 504} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			eachOperation(t, hetznertest.Fault{Status: status}, func(t *testing.T, err error) {
				if !errors.Is(err, cloudswitch.ErrTransient) || !errors.Is(err, hcloud.ErrStatusCode) {
					t.Errorf("%v; want ErrTransient over hcloud.ErrStatusCode", err)
				}
			})
		})
	}
	for _, status := range []int{400, 403, 404} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			eachOperation(t, hetznertest.Fault{Status: status}, func(t *testing.T, err error) {
				// A bare 404 comes from something in front of the API, not
				// from the API saying the server does not exist.
				if errors.Is(err, cloudswitch.ErrTransient) || errors.Is(err, cloudswitch.ErrInstanceNotFound) {
					t.Errorf("%v; want a permanent error", err)
				}
			})
		})
	}
}

func TestBrokenConnectionsAreTransient(t *testing.T) {
	ctx := t.Context()
	t.Run("dropped", func(t *testing.T) {
		// Twice: net/http sends a GET again once on a reused connection.
		eachOperation(t, hetznertest.Fault{Times: 2, Drop: true}, func(t *testing.T, err error) {
			if !errors.Is(err, cloudswitch.ErrTransient) {
				t.Errorf("%v; want ErrTransient", err)
			}
		})
	})
	t.Run("refused", func(t *testing.T) {
		srv, d := setup(t, nil)
		inst := provision(t, d, request("ws-refused"))
		srv.Close()
		for _, op := range operations {
			if err := op.call(t.Context(), d, inst); !errors.Is(err, cloudswitch.ErrTransient) {
				t.Errorf("%s on a closed server: %v; want ErrTransient", op.name, err)
			}
		}
	})
	t.Run("client timeout", func(t *testing.T) {
		srv := hetznertest.NewServer(t)
		d, err := hetzner.New(srv.Client(
			hcloud.WithRetryOpts(hcloud.RetryOpts{MaxRetries: 0}),
			hcloud.WithHTTPClient(&http.Client{Timeout: 20 * time.Millisecond}),
		))
		require.NoError(t, err)
		srv.SetLatency(time.Second)
		if _, err := d.Provision(ctx, request("ws-slow")); !errors.Is(err, cloudswitch.ErrTransient) {
			t.Errorf("Provision timed out by the HTTP client: %v; want ErrTransient", err)
		}
	})
}

func TestPermanentAPIErrorsDoNotMatchErrTransient(t *testing.T) {
	for code, status := range map[hcloud.ErrorCode]int{
		hcloud.ErrorCodeUnauthorized:          http.StatusUnauthorized,
		hcloud.ErrorCodeForbidden:             http.StatusForbidden,
		hcloud.ErrorCodeInvalidInput:          http.StatusBadRequest,
		hcloud.ErrorCodeJSONError:             http.StatusBadRequest,
		hcloud.ErrorCodeUniquenessError:       http.StatusConflict,
		hcloud.ErrorCodeResourceLimitExceeded: http.StatusForbidden,
		hcloud.ErrorCodeProtected:             http.StatusForbidden,
		"a_future_4xx_code":                   http.StatusUnprocessableEntity,
	} {
		t.Run(string(code), func(t *testing.T) {
			eachOperation(t, hetznertest.Fault{Status: status, Code: string(code)}, func(t *testing.T, err error) {
				if code == hcloud.ErrorCodeUniquenessError && errors.Is(err, cloudswitch.ErrTransient) {
					// Provision takes uniqueness_error for a repeat and
					// looks the server up: not listed, transient.
					return
				}
				if errors.Is(err, cloudswitch.ErrTransient) || errors.Is(err, cloudswitch.ErrInstanceNotFound) || apiCode(err) != code {
					t.Errorf("%v; want a permanent error over the %s error", err, code)
				}
			})
		})
	}
}

func TestAnEndedContextStaysAContextError(t *testing.T) {
	ctx := t.Context()
	srv, d := setup(t, nil)
	inst := provision(t, d, request("ws-ctx"))
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := d.Provision(cancelled, request("ws-ctx")); !errors.Is(err, context.Canceled) || errors.Is(err, cloudswitch.ErrTransient) {
		t.Errorf("Provision with a cancelled context: %v; want context.Canceled, not transient", err)
	}
	if err := d.Deprovision(cancelled, inst); !errors.Is(err, context.Canceled) || errors.Is(err, cloudswitch.ErrTransient) {
		t.Errorf("Deprovision with a cancelled context: %v; want context.Canceled", err)
	}
	if _, err := providertest.Listed(cancelled, d, owner); !errors.Is(err, context.Canceled) {
		t.Errorf("Instances with a cancelled context: %v; want context.Canceled", err)
	}
	srv.SetLatency(time.Second)
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := d.Deprovision(short, inst); !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, cloudswitch.ErrTransient) {
		t.Errorf("Deprovision past its deadline: %v; want context.DeadlineExceeded", err)
	}
	// The delete reached the API: its outcome is unknown to the caller,
	// and deprovisioning again settles it.
	srv.SetLatency(0)
	if err := d.Deprovision(ctx, inst); err != nil && !errors.Is(err, cloudswitch.ErrInstanceNotFound) {
		t.Errorf("Deprovision again: %v", err)
	}
	if n := len(srv.Instances()); n != 0 {
		t.Errorf("%d servers after deprovisioning again; want none", n)
	}
}
