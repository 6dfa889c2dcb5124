package main

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/internal/emulated"
	"github.com/cloudswitch/cloudswitch/internal/wiring"
	"github.com/cloudswitch/cloudswitch/internal/wiring/wiringtest"
)

// world is a database and the emulated clouds, as the server leaves them:
// ws-1 on AWS with its VM; ws-2 whose switch to Hetzner was interrupted
// and whose lease has expired; and an orphan on GCP, a VM whose workspace
// was never recorded.
type world struct {
	db, control string
	set         *emulated.Set
	ws1, orphan cloudswitch.Instance
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := t.Context()
	set, control := wiringtest.Emulators(t)
	w := &world{db: filepath.Join(t.TempDir(), "ws.db"), control: control, set: set}

	db, err := wiring.OpenDB(ctx, w.db)
	require.NoError(t, err)
	defer db.Close()
	drivers, closeDrivers, err := emulated.Drivers(ctx, set.Endpoints())
	require.NoError(t, err)
	defer closeDrivers()
	sw, err := cloudswitch.New(db.Store, drivers, cloudswitch.WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	for _, id := range []string{"ws-1", "ws-2"} {
		_, err := db.Store.Create(ctx, cloudswitch.Workspace{ID: id,
			Compute: cloudswitch.Compute{Provider: cloudswitch.AWS, InstanceType: "t3.medium"}})
		require.NoError(t, err)
		res, err := sw.Switch(ctx, id, cloudswitch.Request{})
		require.NoError(t, err)
		if id == "ws-1" {
			w.ws1 = *res.Workspace.Instance
		}
	}

	// ws-2: a switch to Hetzner journaled by a process that died.
	ws2, err := db.Store.Get(ctx, "ws-2")
	require.NoError(t, err)
	const id = "00112233445566778899aabbccddeeff"
	ws2.Pending = &cloudswitch.Intent{ID: id, Strategy: cloudswitch.BreakBeforeMake, Phase: cloudswitch.PhaseDeprovision,
		From: ws2.Compute, To: cloudswitch.Compute{Provider: cloudswitch.Hetzner, InstanceType: "cpx31"},
		Old: ws2.Instance, Provision: true, Token: id, Owner: cloudswitch.DefaultOwner, Holder: "dead",
		LeaseExpires: time.Now().Add(-time.Minute), StartedAt: time.Now().Add(-time.Hour), Claims: 1}
	_, err = db.Store.Update(ctx, ws2)
	require.NoError(t, err)

	// An orphan of this installation: the Reconciler judges only those.
	installation, err := db.Store.InstallationID(ctx)
	require.NoError(t, err)
	w.orphan, err = drivers[cloudswitch.GCP].Provision(ctx, cloudswitch.ProvisionRequest{WorkspaceID: "ws-gone",
		Compute: cloudswitch.Compute{Provider: cloudswitch.GCP, InstanceType: "e2-small"},
		Token:   "ffeeddccbbaa99887766554433221100", Owner: cloudswitch.DefaultOwner, Installation: installation})
	require.NoError(t, err)
	return w
}

// live reports whether the emulators hold vm, running.
func (w *world) live(vm cloudswitch.Instance) bool {
	for _, v := range w.set.VMs() {
		if v.Provider == vm.Provider && v.ID == vm.ID {
			return v.Live
		}
	}
	return false
}

// reconcile runs the program with args, as a cron job would, and returns
// its error and its log.
func (w *world) reconcile(t *testing.T, args ...string) (string, error) {
	t.Helper()
	args = append([]string{"-db", w.db, "-emulators", w.control, "-once", "-grace", "1ms"}, args...)
	cfg, err := parseConfig(args, func(string) string { return "" })
	require.NoError(t, err)
	var log wiringtest.LogBuffer
	err = run(t.Context(), cfg, slog.New(slog.NewTextHandler(&log, nil)))
	return log.String(), err
}

func TestOncePassResumesExpiredSwitchesAndReportsOrphans(t *testing.T) {
	w := newWorld(t)
	log, err := w.reconcile(t)
	if err != nil {
		t.Fatalf("a pass without errors failed: %v\n%s", err, log)
	}
	summary := line(log, "reconcile summary")
	for _, want := range []string{"level=WARN", "mode=report", "resumed=[ws-2]",
		`orphans="[gcp/` + w.orphan.ID + ` (ws-gone)]"`, "deleted=[]", "errors=[]"} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary lacks %s: %s", want, summary)
		}
	}
	if !w.live(w.orphan) || !w.live(w.ws1) {
		t.Errorf("report mode destroyed a VM: orphan live %v, ws-1's live %v", w.live(w.orphan), w.live(w.ws1))
	}
	var onHetzner int
	for _, vm := range w.set.VMs() {
		if vm.Live && vm.Provider == cloudswitch.Hetzner && vm.WorkspaceID == "ws-2" {
			onHetzner++
		}
	}
	if onHetzner != 1 {
		t.Errorf("ws-2 has %d live VMs on Hetzner after its switch was resumed, want 1", onHetzner)
	}
}

func TestDeleteModeDestroysOrphansAndNothingElse(t *testing.T) {
	w := newWorld(t)
	log, err := w.reconcile(t, "-delete")
	if err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	if summary := line(log, "reconcile summary"); !strings.Contains(summary, `deleted="[gcp/`+w.orphan.ID+` (ws-gone)]"`) ||
		!strings.Contains(summary, "level=INFO") {
		t.Errorf("summary: %s", summary)
	}
	if w.live(w.orphan) || !w.live(w.ws1) {
		t.Errorf("orphan live %v (want false), ws-1's VM live %v (want true)", w.live(w.orphan), w.live(w.ws1))
	}
}

func TestOncePassWithErrorsFails(t *testing.T) {
	w := newWorld(t)
	// Without an AWS driver, ws-2's interrupted switch (which destroys its
	// AWS VM) cannot be resumed, nor ws-1's VM checked: the pass reports
	// both, and the exit status says so.
	log, err := w.reconcile(t, "-aws", "off")
	if !errors.Is(err, errPass) {
		t.Fatalf("err %v, want errPass\n%s", err, log)
	}
	if summary := line(log, "reconcile summary"); !strings.Contains(summary, `no driver here`) {
		t.Errorf("summary does not give the error: %s", summary)
	}
}

func TestConfiguration(t *testing.T) {
	env := map[string]string{"CLOUDSWITCH_DELETE": "true", "CLOUDSWITCH_INTERVAL": "5m", "CLOUDSWITCH_OWNER": "team-a",
		"CLOUDSWITCH_DB": "fleet.db"}
	cfg, err := parseConfig([]string{"-interval", "2m"}, func(k string) string { return env[k] })
	require.NoError(t, err)
	if !cfg.delete || cfg.interval != 2*time.Minute || cfg.control.Owner != "team-a" || cfg.db != "fleet.db" {
		t.Errorf("flags over environment over defaults: %+v", cfg)
	}
	for _, args := range [][]string{
		{"-interval", "0"},
		{"-lease", "0"},
		{"-grace", "-1m"},
		{"-aws", "cloudy"},
		{"stray"},
	} {
		if _, err := parseConfig(args, func(string) string { return "" }); err == nil {
			t.Errorf("%v: accepted", args)
		}
	}
	if _, err := parseConfig([]string{"-interval", "0", "-once"}, func(string) string { return "" }); err != nil {
		t.Errorf("-once needs no interval: %v", err)
	}
}

// line returns the first line of log that contains s.
func line(log, s string) string {
	for l := range strings.Lines(log) {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}

func TestDeleteRequiresAnExplicitDatabase(t *testing.T) {
	_, err := parseConfig([]string{"-delete"}, func(string) string { return "" })
	require.Error(t, err, "-delete without -db would destroy VMs judged against the default database")
	assert.Contains(t, err.Error(), "-db")

	cfg, err := parseConfig([]string{"-delete", "-db", "fleet.db"}, func(string) string { return "" })
	require.NoError(t, err)
	assert.Equal(t, "fleet.db", cfg.db)

	cfg, err = parseConfig([]string{"-delete"}, func(k string) string {
		if k == "CLOUDSWITCH_DB" {
			return "postgres://db/fleet"
		}
		return ""
	})
	require.NoError(t, err, "CLOUDSWITCH_DB names the database explicitly")
	assert.Equal(t, "postgres://db/fleet", cfg.db)
}

func TestTheReconcilerNeverCreatesOrMigratesADatabase(t *testing.T) {
	w := newWorld(t)
	dir := t.TempDir()

	missing := filepath.Join(dir, "typo.db")
	log, err := w.reconcileDB(t, missing, "-delete")
	require.Error(t, err, "a pass against a database that does not exist ran:\n%s", log)
	assert.Contains(t, err.Error(), "no workspace database")
	assert.NoFileExists(t, missing, "the reconciler created the database it was pointed at")

	empty := filepath.Join(dir, "empty.db")
	require.NoError(t, os.WriteFile(empty, nil, 0o600))
	_, err = w.reconcileDB(t, empty, "-delete")
	require.Error(t, err, "a SQLite file without the workspaces table was taken for an empty fleet")
	assert.Contains(t, err.Error(), "no workspace database")

	assert.True(t, w.live(w.orphan) && w.live(w.ws1), "a refused pass destroyed VMs")
}

func TestEveryAllowedRegionIsListed(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	drivers, closeDrivers, err := emulated.Drivers(ctx, w.set.Endpoints())
	require.NoError(t, err)
	defer closeDrivers()

	// ws-3 gets its VM in another region than the default one, and an
	// orphan appears in a third: the pass must see both.
	db, err := wiring.OpenDB(ctx, w.db)
	require.NoError(t, err)
	sw, err := cloudswitch.New(db.Store, drivers, cloudswitch.WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	_, err = db.Store.Create(ctx, cloudswitch.Workspace{ID: "ws-3",
		Compute: cloudswitch.Compute{Provider: cloudswitch.AWS, InstanceType: "t3.medium", Region: "eu-west-1"}})
	require.NoError(t, err)
	res, err := sw.Switch(ctx, "ws-3", cloudswitch.Request{})
	require.NoError(t, err)
	installation, err := db.Store.InstallationID(ctx)
	require.NoError(t, err)
	require.NoError(t, db.Close())
	require.Equal(t, "eu-west-1", res.Workspace.Instance.Region)
	orphan, err := drivers[cloudswitch.AWS].Provision(ctx, cloudswitch.ProvisionRequest{WorkspaceID: "ws-gone-too",
		Compute: cloudswitch.Compute{Provider: cloudswitch.AWS, InstanceType: "t3.medium", Region: "us-west-2"},
		Token:   "0f0e0d0c0b0a09080706050403020100", Owner: cloudswitch.DefaultOwner, Installation: installation})
	require.NoError(t, err)

	log, err := w.reconcile(t)
	require.NoError(t, err, log)
	summary := line(log, "reconcile summary")
	assert.Contains(t, summary, "aws/"+orphan.ID+" (ws-gone-too)", "the orphan in us-west-2 was not found")
	assert.Contains(t, summary, "dangling=[]", "ws-3's VM in eu-west-1 was reported dangling")
}

// reconcileDB runs one pass of the program against database db.
func (w *world) reconcileDB(t *testing.T, db string, args ...string) (string, error) {
	t.Helper()
	args = append([]string{"-db", db, "-emulators", w.control, "-once", "-grace", "1ms"}, args...)
	cfg, err := parseConfig(args, func(string) string { return "" })
	require.NoError(t, err)
	var log wiringtest.LogBuffer
	err = run(t.Context(), cfg, slog.New(slog.NewTextHandler(&log, nil)))
	return log.String(), err
}
