package cloudswitch_test

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/providers/memprovider"
	"github.com/cloudswitch/cloudswitch/store/memstore"
	"github.com/stretchr/testify/require"
)

func TestNewRefusesBadArgumentsAllAtOnce(t *testing.T) {
	_, err := cloudswitch.New(nil, nil,
		cloudswitch.WithLease(-time.Second),
		cloudswitch.WithOwner("Not A Tag"),
		cloudswitch.WithStrategy("sideways"),
		cloudswitch.WithRetryPolicy(cloudswitch.RetryPolicy{InitialInterval: -1, MaxAttempts: 3}),
		cloudswitch.WithLogger(nil),
		cloudswitch.WithObserver(nil),
		cloudswitch.WithAllowlist(nil),
		cloudswitch.WithClock(nil),
	)
	if err == nil {
		t.Fatal("New accepted a nil store, no providers and eight bad options")
	}
	for _, want := range []string{"store is nil", "no providers", "WithLease", "WithOwner", "WithStrategy",
		"WithRetryPolicy", "WithLogger", "WithObserver", "WithAllowlist", "WithClock"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("New's error does not mention %s: %v", want, err)
		}
	}
}

func TestNewRefusesProvidersTheAllowlistDoesNotKnow(t *testing.T) {
	st := memstore.New()
	_, err := cloudswitch.New(st, map[string]cloudswitch.Provider{"azure": memprovider.New("azure")})
	if !errors.Is(err, cloudswitch.ErrUnknownProvider) {
		t.Fatalf("got %v; want ErrUnknownProvider for a driver key the allowlist does not know", err)
	}
	_, err = cloudswitch.New(st, map[string]cloudswitch.Provider{"AWS": memprovider.New("AWS")})
	if !errors.Is(err, cloudswitch.ErrUnknownProvider) {
		t.Fatalf("got %v; want ErrUnknownProvider for a wrong-case driver key", err)
	}
	_, err = cloudswitch.New(st, map[string]cloudswitch.Provider{cloudswitch.AWS: nil})
	if err == nil || !strings.Contains(err.Error(), "nil") {
		t.Fatalf("got %v; want an error for a nil driver", err)
	}
	_, err = cloudswitch.New(st, map[string]cloudswitch.Provider{})
	if err == nil {
		t.Fatal("New accepted an empty provider map")
	}
}

func TestNewRefusesRetryPoliciesThatNeverStop(t *testing.T) {
	for name, p := range map[string]cloudswitch.RetryPolicy{
		"negative attempts":       {InitialInterval: time.Millisecond, MaxAttempts: -1},
		"unbounded":               {InitialInterval: time.Millisecond},
		"initial beyond max":      {InitialInterval: time.Minute, MaxInterval: time.Second, MaxAttempts: 3},
		"negative elapsed budget": {MaxElapsedTime: -time.Second, MaxAttempts: 2},
	} {
		_, err := cloudswitch.New(memstore.New(), map[string]cloudswitch.Provider{cloudswitch.AWS: memprovider.New(cloudswitch.AWS)},
			cloudswitch.WithRetryPolicy(p))
		if err == nil {
			t.Errorf("%s: New accepted %+v", name, p)
		}
	}
}

func TestSwitcherIsSilentByDefault(t *testing.T) {
	ctx := t.Context()
	var buf bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	defer slog.SetDefault(prev)

	f := newFixture(t)
	f.seed("ws", cloudswitch.AWS, "t3.medium", true)
	f.aws.FailNext(memprovider.OpDeprovision, 1, memprovider.ErrThrottled)
	_, err := f.switcher().Switch(ctx, "ws", toHetzner)
	require.NoError(t, err)
	if buf.Len() != 0 {
		t.Fatalf("a Switcher without WithLogger logged:\n%s", buf.String())
	}
}
