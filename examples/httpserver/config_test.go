package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch/internal/wiring"
)

func TestTheDefaultsRunWithoutAnything(t *testing.T) {
	cfg, err := parseConfig(nil, func(string) string { return "" })
	require.NoError(t, err)
	if cfg.addr != "127.0.0.1:8080" || cfg.db != wiring.DefaultDB || cfg.token != "" || cfg.deleteOrphans ||
		cfg.clouds.AWS != wiring.Emulated || cfg.clouds.Hetzner != wiring.Emulated || cfg.clouds.GCP != wiring.Emulated ||
		cfg.clouds.Emulators != "" || cfg.reconcileInterval != time.Minute {
		t.Errorf("defaults: %+v", cfg)
	}
}

func TestTheEnvironmentConfiguresTheServer(t *testing.T) {
	env := map[string]string{
		"CLOUDSWITCH_TOKEN":              "from-env-0123456789",
		"CLOUDSWITCH_DB":                 "postgres://db/ws",
		"CLOUDSWITCH_HETZNER":            "real",
		"CLOUDSWITCH_RECONCILE_INTERVAL": "0",
		"CLOUDSWITCH_DELETE_ORPHANS":     "true",
	}
	cfg, err := parseConfig([]string{"-addr", ":9090"}, func(k string) string { return env[k] })
	require.NoError(t, err)
	if cfg.token != "from-env-0123456789" || cfg.db != "postgres://db/ws" || cfg.clouds.Hetzner != wiring.Real ||
		cfg.reconcileInterval != 0 || !cfg.deleteOrphans || cfg.addr != ":9090" {
		t.Errorf("%+v", cfg)
	}
	if _, err := parseConfig([]string{"-reconcile-interval", "-1s"}, func(string) string { return "" }); err == nil {
		t.Error("a negative interval was accepted")
	}
}
