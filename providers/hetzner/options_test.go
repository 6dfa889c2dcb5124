package hetzner_test

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"
	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/ownership"
	"github.com/cloudswitch/cloudswitch/providers/hetzner"
	"github.com/cloudswitch/cloudswitch/providers/hetzner/hetznertest"
	"github.com/cloudswitch/cloudswitch/providers/providertest"
)

func TestNewRefusesBadOptions(t *testing.T) {
	client := hcloud.NewClient()
	for name, opt := range map[string]hetzner.Option{
		"empty image":            hetzner.WithImage(""),
		"empty location":         hetzner.WithLocation(""),
		"location with a space":  hetzner.WithLocation("fsn 1"),
		"empty SSH key":          hetzner.WithSSHKeys("ops", ""),
		"SSH key id 0":           hetzner.WithSSHKeys("0"),
		"network id 0":           hetzner.WithNetworks(3, 0),
		"negative firewall id":   hetzner.WithFirewalls(-1),
		"user data over 32 KiB":  hetzner.WithUserData(strings.Repeat("x", 32<<10+1)),
		"owner label":            hetzner.WithLabels(map[string]string{ownership.OwnerKey: "me"}),
		"workspace label":        hetzner.WithLabels(map[string]string{ownership.WorkspaceKey: "ws"}),
		"token label":            hetzner.WithLabels(map[string]string{ownership.TokenKey: "t"}),
		"label value with space": hetzner.WithLabels(map[string]string{"team": "blue team"}),
		"label key with space":   hetzner.WithLabels(map[string]string{"my team": "blue"}),
		"nil logger":             hetzner.WithLogger(nil),
		"nil client option":      hetzner.WithClientOptions(nil),
		"nil option":             nil,
	} {
		if _, err := hetzner.New(client, opt); err == nil {
			t.Errorf("New with %s succeeded", name)
		}
		if _, err := hetzner.NewFromToken("a-token", opt); err == nil {
			t.Errorf("NewFromToken with %s succeeded", name)
		}
	}
	if _, err := hetzner.New(nil); err == nil {
		t.Error("New(nil) succeeded")
	}
	if _, err := hetzner.New(client, hetzner.WithClientOptions(hcloud.WithEndpoint("http://x"))); err == nil {
		t.Error("New with WithClientOptions succeeded; it only applies to NewFromToken")
	}
	good := []hetzner.Option{
		hetzner.WithImage("67794396"), hetzner.WithLocation("ash"), hetzner.WithSSHKeys("ops", "12"),
		hetzner.WithNetworks(1), hetzner.WithFirewalls(2), hetzner.WithUserData("#cloud-config"),
		hetzner.WithLabels(map[string]string{"example.com/team": "blue_1"}), hetzner.WithLogger(slog.Default()),
	}
	if _, err := hetzner.New(client, good...); err != nil {
		t.Errorf("New with valid options: %v", err)
	}
}

func TestNewFromTokenRefusesBadTokensWithoutEchoingThem(t *testing.T) {
	for _, tok := range []string{"", "secret\nvalue", "secret\x00value"} {
		_, err := hetzner.NewFromToken(tok)
		if err == nil {
			t.Errorf("NewFromToken(%q) succeeded", tok)
			continue
		}
		if tok != "" && strings.Contains(err.Error(), "secret") {
			t.Errorf("NewFromToken's error carries the token: %v", err)
		}
	}
}

func TestNewFromTokenAuthenticatesWithTheToken(t *testing.T) {
	ctx := t.Context()
	srv := hetznertest.NewServer(t)
	fast := hetzner.WithClientOptions(hcloud.WithEndpoint(srv.URL()),
		hcloud.WithPollOpts(hcloud.PollOpts{BackoffFunc: hcloud.ConstantBackoff(time.Millisecond)}))
	d, err := hetzner.NewFromToken(srv.Token(), fast)
	require.NoError(t, err)
	inst := provision(t, d, request("ws-token"))
	require.NoError(t, d.Deprovision(ctx, inst))
	wrong, err := hetzner.NewFromToken("Wr0ngTokenWr0ngTokenWr0ngTokenWr0ngTokenWr0ngTokenWr0ngToken1234", fast)
	require.NoError(t, err)
	_, err = wrong.Provision(ctx, request("ws-token"))
	if apiCode(err) != hcloud.ErrorCodeUnauthorized || errors.Is(err, cloudswitch.ErrTransient) {
		t.Fatalf("Provision with a wrong token: %v; want a permanent unauthorized error", err)
	}
}

func TestClientOptionsMakeOneAttemptAndLeaveRetriesToTheSwitcher(t *testing.T) {
	t.Parallel()
	srv := hetznertest.NewServer(t)
	d, err := hetzner.NewFromToken(srv.Token(), hetzner.WithClientOptions(hcloud.WithEndpoint(srv.URL())))
	require.NoError(t, err)
	require.NoError(t, srv.Inject(hetznertest.Fault{Op: hetznertest.OpListServers, Status: 429, Code: "rate_limit_exceeded"}))
	if _, err := providertest.Listed(t.Context(), d, owner); !errors.Is(err, cloudswitch.ErrTransient) {
		t.Fatalf("listing while rate limited: %v; want ErrTransient", err)
	}
	if calls := srv.CallCount(hetznertest.OpListServers); calls != 1 {
		t.Errorf("%d calls; want 1: the SDK makes one attempt, and the error is the Switcher's to retry", calls)
	}
}
