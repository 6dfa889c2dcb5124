package wiring

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newFlags() (*flag.FlagSet, *string, *time.Duration) {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	db := fs.String("db", "default.db", "the database")
	interval := fs.Duration("reconcile-interval", time.Minute, "the interval")
	return fs, db, interval
}

func TestFlagsFallBackToTheEnvironment(t *testing.T) {
	env := map[string]string{"CLOUDSWITCH_DB": "env.db", "CLOUDSWITCH_RECONCILE_INTERVAL": "5s"}
	fs, db, interval := newFlags()
	require.NoError(t, Parse(fs, []string{"-db", "flag.db"}, func(k string) string { return env[k] }))
	if *db != "flag.db" || *interval != 5*time.Second {
		t.Errorf("db %q (the flag wins), interval %v (the environment fills in)", *db, *interval)
	}
	if u := fs.Lookup("reconcile-interval").Usage; !strings.Contains(u, "(env CLOUDSWITCH_RECONCILE_INTERVAL)") {
		t.Errorf("usage does not name the variable: %q", u)
	}

	fs, db, _ = newFlags()
	if err := Parse(fs, nil, func(string) string { return "" }); err != nil || *db != "default.db" {
		t.Errorf("defaults: %q, %v", *db, err)
	}
}

func TestBadEnvironmentValuesAndArgumentsAreRefused(t *testing.T) {
	fs, _, _ := newFlags()
	err := Parse(fs, nil, func(k string) string {
		if k == "CLOUDSWITCH_RECONCILE_INTERVAL" {
			return "soon"
		}
		return ""
	})
	if err == nil || !strings.Contains(err.Error(), "CLOUDSWITCH_RECONCILE_INTERVAL") {
		t.Errorf("a bad value is not reported with its variable: %v", err)
	}
	fs, _, _ = newFlags()
	if err := Parse(fs, []string{"-db", "x.db", "extra"}, func(string) string { return "" }); err == nil {
		t.Error("a positional argument was accepted")
	}
}

func TestOnlyTheChosenFlagsFallBackToTheEnvironment(t *testing.T) {
	env := map[string]string{"CLOUDSWITCH_DB": "env.db", "CLOUDSWITCH_RECONCILE_INTERVAL": "5s"}
	fs, db, interval := newFlags()
	onlyDB := func(name string) bool { return name == "db" }
	DescribeEnv(fs, onlyDB)
	require.NoError(t, fs.Parse(nil))
	require.NoError(t, SetFromEnv(fs, func(k string) string { return env[k] }, onlyDB))
	assert.Equal(t, "env.db", *db)
	assert.Equal(t, time.Minute, *interval, "-reconcile-interval is not taken from the environment")
	assert.Contains(t, fs.Lookup("db").Usage, "(env CLOUDSWITCH_DB)")
	assert.NotContains(t, fs.Lookup("reconcile-interval").Usage, "(env")
}
