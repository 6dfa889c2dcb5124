package main

import (
	"database/sql"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/internal/emulated"
	"github.com/cloudswitch/cloudswitch/internal/wiring/wiringtest"
	"github.com/cloudswitch/cloudswitch/store/sqlstore"
)

// records reads every workspace of the SQLite database at path.
func records(t *testing.T, path string) []cloudswitch.Workspace {
	t.Helper()
	db, err := sql.Open("sqlite", sqlstore.SQLiteDSN(path))
	require.NoError(t, err)
	defer db.Close()
	store, err := sqlstore.New(db, sqlstore.SQLite)
	require.NoError(t, err)
	defer store.Close()
	var out []cloudswitch.Workspace
	for w, err := range store.List(t.Context()) {
		require.NoError(t, err)
		out = append(out, w)
	}
	return out
}

// emulatedClouds reads the emulated clouds the CLI keeps beside the
// database at path: every VM, live or not, by provider and id.
func emulatedClouds(t *testing.T, path string) map[[2]string]emulated.VM {
	t.Helper()
	set, restored, err := emulated.StartPersistent(emulated.Addrs{}, path+".clouds")
	require.NoError(t, err)
	defer set.Close()
	require.True(t, restored, "no emulated clouds kept beside %s", path)
	vms := make(map[[2]string]emulated.VM)
	for _, vm := range set.VMs() {
		vms[[2]string{vm.Provider, vm.ID}] = vm
	}
	return vms
}

// wantEveryRecordBacked checks that every workspace's recorded VM is live
// in the emulated clouds, and that no other VM is.
func wantEveryRecordBacked(t *testing.T, db string) {
	t.Helper()
	vms := emulatedClouds(t, db)
	recorded := make(map[[2]string]bool)
	for _, w := range records(t, db) {
		require.NotNil(t, w.Instance, "%s has no VM", w.ID)
		assert.Nil(t, w.Pending, "%s has a switch in flight", w.ID)
		k := [2]string{w.Instance.Provider, w.Instance.ID}
		recorded[k] = true
		vm, ok := vms[k]
		if assert.True(t, ok, "%s's VM %v is not in the emulated clouds", w.ID, k) {
			assert.True(t, vm.Live, "%s's VM %v is not running", w.ID, k)
			assert.Equal(t, w.ID, vm.WorkspaceID, "%v", k)
		}
	}
	for k, vm := range vms {
		assert.False(t, vm.Live && !recorded[k], "VM %v runs with no record pointing at it", k)
	}
}

func TestTheEmulatedCloudsOfOneRunAreTheNextRunsClouds(t *testing.T) {
	db := seedDB(t, 3)
	r := cli(t, "apply", "-db", db, "-all", "-provider", "hetzner", "-confirm-recreate", "-rate", "hetzner=1000")
	require.Equal(t, exitOK, r.code, r.err)
	wantEveryRecordBacked(t, db)
	onHetzner := records(t, db)

	// The next run destroys the very VMs the last one made.
	r = cli(t, "apply", "-db", db, "-all", "-provider", "gcp", "-confirm-recreate")
	require.Equal(t, exitOK, r.code, r.err)
	assert.Equal(t, 3, countEvents(jsonLines(t, r.out), "done"))
	wantEveryRecordBacked(t, db)
	vms := emulatedClouds(t, db)
	for _, w := range onHetzner {
		// Hetzner forgets a deleted server; the other clouds show it
		// terminated for a while.
		vm, ok := vms[[2]string{cloudswitch.Hetzner, w.Instance.ID}]
		assert.False(t, ok && vm.Live, "%s's Hetzner VM still runs after the move to GCP", w.ID)
	}

	r = cli(t, "reconcile", "-db", db)
	require.Equal(t, exitOK, r.code, r.err)
	lines := jsonLines(t, r.out)
	require.Len(t, lines, 1)
	assert.Empty(t, lines[0]["orphans"], "the reconciler sees the VMs of the records, and no other")
}

func TestRecordsOnEmulatorsThatForgotThemAreRefused(t *testing.T) {
	db := seedDB(t, 2)
	r := cli(t, "apply", "-db", db, "-all", "-provider", "hetzner", "-confirm-recreate")
	require.Equal(t, exitOK, r.code, r.err)
	before := records(t, db)

	require.NoError(t, os.Remove(db+".clouds"))
	for _, args := range [][]string{
		{"apply", "-db", db, "-all", "-provider", "gcp", "-confirm-recreate"},
		{"reconcile", "-db", db, "-delete-orphans"},
		{"status", "-db", db},
	} {
		r = cli(t, args...)
		assert.Equal(t, exitUsage, r.code, "%v: %s", args, r.err)
		assert.Contains(t, r.err, "emulators do not have", args)
		assert.Empty(t, r.out, "%v did something", args)
	}
	assert.Equal(t, before, records(t, db), "a refused run changed the records")

	// Emulators another process serves are checked the same way.
	_, control := wiringtest.Emulators(t)
	r = cli(t, "apply", "-db", db, "-emulators", control, "-all", "-provider", "gcp", "-confirm-recreate")
	assert.Equal(t, exitUsage, r.code, r.err)
	assert.Contains(t, r.err, "emulators do not have")
	assert.Equal(t, before, records(t, db))
}

func TestASecondProgramOnTheSameEmulatedCloudsIsRefusedAtOnce(t *testing.T) {
	db := seedDB(t, 1)
	held, _, err := emulated.StartPersistent(emulated.Addrs{}, db+".clouds")
	require.NoError(t, err)
	r := cli(t, "apply", "-db", db, "-all", "-provider", "hetzner", "-confirm-recreate")
	assert.Equal(t, exitUsage, r.code, r.err)
	assert.Contains(t, r.err, "in use by another running program")
	assert.Empty(t, r.out)
	held.Close()

	r = cli(t, "apply", "-db", db, "-all", "-provider", "hetzner", "-confirm-recreate")
	require.Equal(t, exitOK, r.code, r.err)
	wantEveryRecordBacked(t, db)
}
