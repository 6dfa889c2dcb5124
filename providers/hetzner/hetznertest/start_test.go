package hetznertest_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch/providers/hetzner/hetznertest"
)

func TestStartServesAProgramUntilClose(t *testing.T) {
	ctx := t.Context()
	srv, err := hetznertest.Start("127.0.0.1:0")
	require.NoError(t, err)
	if !strings.HasPrefix(srv.URL(), "http://127.0.0.1:") {
		t.Errorf("URL() = %q", srv.URL())
	}
	if tok := srv.Token(); len(tok) != 64 || strings.ToLower(tok) == tok || strings.ToUpper(tok) == tok {
		t.Errorf("Token() = %q; want 64 mixed-case letters and digits, as Hetzner issues", tok)
	}
	c := srv.Client()
	create(t, c, "program", nil)
	srv.Close()
	srv.Close()
	if _, err := c.Server.All(ctx); err == nil {
		t.Fatal("a call after Close succeeded")
	}
}

func TestCloseCutsSlowCallsShort(t *testing.T) {
	ctx := t.Context()
	srv, err := hetznertest.Start("127.0.0.1:0")
	require.NoError(t, err)
	srv.SetLatency(time.Hour)
	done := make(chan error, 1)
	go func() {
		_, err := srv.Client().Server.All(ctx)
		done <- err
	}()
	for srv.CallCount("") == 0 {
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	srv.Close()
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Close waited %v for a call delayed by an hour", d)
	}
	<-done
}

func TestOptionsAreChecked(t *testing.T) {
	for name, opt := range map[string]hetznertest.Option{
		"empty token":            hetznertest.WithToken(""),
		"token with newline":     hetznertest.WithToken("a\nb"),
		"no server types":        hetznertest.WithServerTypes(),
		"bad server type":        hetznertest.WithServerTypes("CPX 11"),
		"duplicate location":     hetznertest.WithLocations("fsn1", "fsn1"),
		"empty SSH key name":     hetznertest.WithSSHKeys(""),
		"negative action length": hetznertest.WithActionDuration(-time.Second),
		"nil option":             nil,
	} {
		if srv, err := hetznertest.Start("127.0.0.1:0", opt); err == nil {
			srv.Close()
			t.Errorf("%s: Start succeeded", name)
		}
	}
	if _, err := hetznertest.Start("256.0.0.1:0"); err == nil {
		t.Error("Start on an address that cannot be listened on succeeded")
	}
}
