package gcp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"google.golang.org/api/option"

	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/providers/gcp"
	"github.com/cloudswitch/cloudswitch/providers/gcp/gcptest"
	"github.com/cloudswitch/cloudswitch/providers/providertest"
)

// echoingAPI answers every call with an error whose message repeats the
// request — its URL and its headers, credentials included — as a careless
// proxy or a debugging gateway might.
func echoingAPI(t *testing.T, status int, reason string) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		msg := fmt.Sprintf("cannot serve %s %s with headers %v", r.Method, r.URL, r.Header)
		body, _ := json.Marshal(map[string]any{"error": map[string]any{
			"code": status, "message": msg, "errors": []map[string]string{{"reason": reason, "message": msg}},
		}})
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write(body)
	}))
	t.Cleanup(ts.Close)
	return ts
}

// every makes each Provider call once and returns their errors.
func every(ctx context.Context, d *gcp.Driver) []error {
	_, perr := d.Provision(ctx, request("owner", "ws"))
	derr := d.Deprovision(ctx, cloudswitch.Instance{Provider: cloudswitch.GCP, ID: "cs-1", Region: zone})
	_, lerr := providertest.Listed(ctx, d, "owner")
	return []error{perr, derr, lerr}
}

func TestNoAccessTokenInErrorsEvenWhenTheAPIEchoesIt(t *testing.T) {
	for _, status := range []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusServiceUnavailable} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			ts := echoingAPI(t, status, "forbidden")
			secret := "ya29.a0AfB_byPlanted" + randomHex(20)
			d := newDriver(t, ts.URL, "echo-project", secret)
			for _, err := range every(t.Context(), d) {
				if err == nil {
					t.Fatal("a call succeeded against an API that refuses everything")
				}
				noSecret(t, err, secret)
				noSecret(t, err, strings.TrimPrefix(secret, "ya29."))
			}
		})
	}
}

func TestNoAPIKeyInErrorsEvenWhenTheAPIEchoesIt(t *testing.T) {
	ctx := t.Context()
	ts := echoingAPI(t, http.StatusBadRequest, "keyInvalid")
	key := "AIzaSy" + strings.ToUpper(randomHex(6)) + randomHex(6) + "_-Zq" + "Plant" // 39 characters, as Google API keys
	if len(key) != 39 {
		t.Fatalf("test key has %d characters; want 39", len(key))
	}
	d, err := gcp.NewFromClientOptions(ctx, "echo-project", []option.ClientOption{option.WithEndpoint(ts.URL), option.WithAPIKey(key)}, gcp.WithZone(zone))
	require.NoError(t, err)
	defer d.Close()
	for _, err := range every(t.Context(), d) {
		if err == nil {
			t.Fatal("a call succeeded against an API that refuses everything")
		}
		if !strings.Contains(err.Error(), "cannot serve") {
			t.Fatalf("the echoing API was not reached: %v", err)
		}
		noSecret(t, err, key)
	}
}

func TestNoAccessTokenInErrorsOrLogsAcrossFaults(t *testing.T) {
	ctx := t.Context()
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := newEnv(t, nil, gcp.WithLogger(logger))
	var errs []error
	note := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	for _, f := range []gcptest.Fault{
		{Op: gcptest.OpInsert, Status: http.StatusForbidden},
		{Op: gcptest.OpInsert, Drop: true},
		{Op: gcptest.OpOperationGet, Status: http.StatusServiceUnavailable},
		{Op: gcptest.OpGet, Status: http.StatusUnauthorized},
		{Op: gcptest.OpDelete, Status: http.StatusTooManyRequests},
		{Op: gcptest.OpAggregatedList, Status: http.StatusBadRequest},
	} {
		f.Times = 1
		e.srv.Inject(f)
		req := request("owner", "ws")
		inst, err := e.d.Provision(ctx, req)
		note(err)
		if err != nil {
			inst, err = e.d.Provision(ctx, req)
			note(err)
		}
		note(e.d.Deprovision(ctx, inst))
		_, err = providertest.Listed(ctx, e.d, "owner")
		note(err)
	}
	if len(errs) < 5 {
		t.Fatalf("only %d errors seen; the faults did not bite", len(errs))
	}
	for _, err := range errs {
		noSecret(t, err, e.secret)
	}
	if logs.Len() == 0 {
		t.Fatal("nothing was logged at debug level")
	}
	if strings.Contains(logs.String(), e.secret) {
		t.Errorf("the logs carry the planted token")
	}
}

func TestTheDriverIsSilentByDefault(t *testing.T) {
	ctx := t.Context()
	// slog's default logger writes to the standard logger; the driver must
	// not use it.
	var out bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(prev) })
	e := newEnv(t, nil)
	inst, err := e.d.Provision(ctx, request("owner", "ws"))
	require.NoError(t, err)
	require.NoError(t, e.d.Deprovision(ctx, inst))
	if out.Len() != 0 {
		t.Errorf("the driver logged without a logger: %s", out.String())
	}
}

func TestScrubKeepsTheCausesReachable(t *testing.T) {
	ctx := t.Context()
	ts := echoingAPI(t, http.StatusServiceUnavailable, "backendError")
	d := newDriver(t, ts.URL, "echo-project", "ya29.secret"+randomHex(8))
	_, err := providertest.Listed(ctx, d, "owner")
	if !errors.Is(err, cloudswitch.ErrTransient) {
		t.Fatalf("got %v; want ErrTransient", err)
	}
	wantCause(t, err, http.StatusServiceUnavailable)
}
