package hetzner_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"
	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/providers/hetzner"
	"github.com/cloudswitch/cloudswitch/providers/hetzner/hetznertest"
)

// The Switcher reports "nothing changed" only on errors matching ErrRefused,
// so a refusal must be exactly an answer the API documents as given before
// the call took effect.

func TestAnswersGivenBeforeTheCallTookEffectAreRefusals(t *testing.T) {
	for code, status := range map[hcloud.ErrorCode]int{
		hcloud.ErrorCodeUnauthorized:          http.StatusUnauthorized,
		"token_readonly":                      http.StatusUnauthorized,
		hcloud.ErrorCodeForbidden:             http.StatusForbidden,
		hcloud.ErrorCodeInvalidInput:          http.StatusUnprocessableEntity,
		hcloud.ErrorCodeJSONError:             http.StatusBadRequest,
		hcloud.ErrorCodeResourceLimitExceeded: http.StatusForbidden,
		hcloud.ErrorCodeProtected:             http.StatusLocked,
		hcloud.ErrorCodeRateLimitExceeded:     http.StatusTooManyRequests,
		hcloud.ErrorCodeResourceUnavailable:   http.StatusPreconditionFailed,
		hcloud.ErrorCodePlacementError:        http.StatusUnprocessableEntity,
		hcloud.ErrorCodeMaintenance:           http.StatusForbidden,
		hcloud.ErrorUnsupportedError:          http.StatusUnprocessableEntity,
	} {
		t.Run(string(code), func(t *testing.T) {
			eachOperation(t, hetznertest.Fault{Status: status, Code: string(code)}, func(t *testing.T, err error) {
				if !errors.Is(err, cloudswitch.ErrRefused) || apiCode(err) != code {
					t.Errorf("%v; want ErrRefused over the %s error: the API documents it as answered before acting", err, code)
				}
			})
		})
	}
}

func TestRateLimitingIsTransientAndARefusal(t *testing.T) {
	eachOperation(t, hetznertest.Fault{Status: http.StatusTooManyRequests, Code: "rate_limit_exceeded"}, func(t *testing.T, err error) {
		if !errors.Is(err, cloudswitch.ErrRefused) || !errors.Is(err, cloudswitch.ErrTransient) {
			t.Errorf("%v; want ErrTransient and ErrRefused", err)
		}
	})
}

func TestServerErrorsLocksAndConflictsAreNeverRefusals(t *testing.T) {
	for code, status := range map[hcloud.ErrorCode]int{
		hcloud.ErrorCodeServerError:  http.StatusInternalServerError,
		hcloud.ErrorCodeServiceError: http.StatusServiceUnavailable,
		"unavailable":                http.StatusServiceUnavailable,
		hcloud.ErrorCodeTimeout:      http.StatusGatewayTimeout,
		hcloud.ErrorCodeBadGateway:   http.StatusBadGateway,
		hcloud.ErrorCodeLocked:       http.StatusLocked,
		hcloud.ErrorCodeConflict:     http.StatusConflict,
		"a_future_4xx_code":          http.StatusTeapot,
	} {
		t.Run(string(code), func(t *testing.T) {
			eachOperation(t, hetznertest.Fault{Status: status, Code: string(code)}, func(t *testing.T, err error) {
				if errors.Is(err, cloudswitch.ErrRefused) {
					t.Errorf("%v; want no refusal: the %s answer does not say nothing happened", err, code)
				}
			})
		})
	}
	t.Run("bare answers", func(t *testing.T) {
		for _, status := range []int{400, 403, 408, 429, 500, 501, 502, 503, 504} {
			eachOperation(t, hetznertest.Fault{Status: status}, func(t *testing.T, err error) {
				if errors.Is(err, cloudswitch.ErrRefused) {
					t.Errorf("bare %d: %v; want no refusal: it is not the API's answer", status, err)
				}
			})
		}
	})
	t.Run("dropped", func(t *testing.T) {
		eachOperation(t, hetznertest.Fault{Times: 2, Drop: true}, func(t *testing.T, err error) {
			if errors.Is(err, cloudswitch.ErrRefused) {
				t.Errorf("%v; want no refusal: the call took effect", err)
			}
		})
	})
}

func TestAFailedCreateActionIsNotARefusal(t *testing.T) {
	ctx := t.Context()
	srv := hetznertest.NewServer(t)
	d := newProxy(t, srv, &proxy{body: failActions("create_server")})
	_, err := d.Provision(ctx, request("ws-failed"))
	if err == nil || errors.Is(err, cloudswitch.ErrRefused) {
		t.Fatalf("Provision whose create action failed: %v; want an error that is not a refusal (the create was accepted)", err)
	}
}

func TestRequestsRefusedBeforeAnyCallAreRefusals(t *testing.T) {
	ctx := t.Context()
	srv, d := setup(t, nil)
	bad := request("ws-bad")
	bad.Compute.InstanceType = ""
	if _, err := d.Provision(ctx, bad); !errors.Is(err, cloudswitch.ErrRefused) {
		t.Errorf("Provision of a request the driver refuses: %v; want ErrRefused", err)
	}
	if err := d.Deprovision(ctx, cloudswitch.Instance{Provider: cloudswitch.Hetzner, ID: "i-123"}); !errors.Is(err, cloudswitch.ErrRefused) {
		t.Errorf("Deprovision of an id that is no server id: %v; want ErrRefused", err)
	}
	if n := srv.CallCount(""); n != 0 {
		t.Fatalf("%d API calls; want none", n)
	}
}

// A connection that never opened carried no request: every call against a
// closed endpoint is transient and a refusal, as in every driver. The
// driver has a connection pool of its own, so that no call is sent on a
// connection opened before the endpoint went down (which may have carried
// the request).
func TestAConnectionThatNeverOpenedIsATransientRefusal(t *testing.T) {
	srv, d := setup(t, nil)
	inst := provision(t, d, request("ws-closed"))
	srv.Close()
	down, err := hetzner.New(srv.Client(
		hcloud.WithRetryOpts(hcloud.RetryOpts{MaxRetries: 0}),
		hcloud.WithHTTPClient(&http.Client{Transport: &http.Transport{}}),
	))
	require.NoError(t, err)
	for _, op := range operations {
		err := op.call(t.Context(), down, inst)
		if !errors.Is(err, cloudswitch.ErrTransient) || !errors.Is(err, cloudswitch.ErrRefused) {
			t.Errorf("%s on a closed endpoint: %v; want ErrTransient and ErrRefused", op.name, err)
		}
	}
}
