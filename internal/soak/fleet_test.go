package soak

import (
	"context"
	"database/sql"
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/internal/emulated"
	"github.com/cloudswitch/cloudswitch/store/sqlstore"
)

// fleet is what the parent holds for a run: the emulated cloud (which the
// kills never touch), the shared database, the workspaces, and healthy
// drivers of its own.
type fleet struct {
	set     *emulated.Set
	control string // the URL of the emulators' control API
	db      database
	pool    *sql.DB
	store   *sqlstore.Store
	drivers map[string]cloudswitch.Provider
	ids     []string
}

// newFleet starts the emulators and their control API, migrates the run's
// table, and creates the workspaces spread over the three clouds, each with
// its first VM provisioned through a Switcher. Everything is released when
// the test ends, the table dropped.
func newFleet(ctx context.Context, t *testing.T) *fleet {
	t.Helper()
	f := &fleet{}
	set, err := emulated.Start(emulated.Addrs{})
	require.NoError(t, err, "starting the emulators")
	t.Cleanup(set.Close)
	f.set = set
	ctl := httptest.NewServer(set.Handler())
	t.Cleanup(ctl.Close)
	f.control = ctl.URL

	f.db = chooseDatabase(t)
	pool, st, err := f.db.open()
	require.NoError(t, err)
	f.pool, f.store = pool, st
	t.Cleanup(func() {
		if err := f.db.drop(context.Background(), pool); err != nil {
			t.Error(err)
		}
		st.Close()
		pool.Close()
	})
	require.NoError(t, st.Migrate(ctx), "Migrate")

	drivers, closeDrivers, err := emulated.Drivers(ctx, set.Endpoints())
	require.NoError(t, err)
	t.Cleanup(closeDrivers)
	f.drivers = drivers

	sw, err := cloudswitch.New(st, drivers, baseOptions()...)
	require.NoError(t, err, "New")
	for i := range workspaces {
		id := fmt.Sprintf("ws-%02d", i)
		cloud := clouds[i%len(clouds)]
		c := cloudswitch.Compute{Provider: cloud, InstanceType: cloudswitch.DefaultAllowlist().DefaultInstanceType(cloud)}
		if _, err := st.Create(ctx, cloudswitch.Workspace{ID: id, Compute: c}); err != nil {
			t.Fatalf("creating workspace %s: %v", id, err)
		}
		res, err := sw.Switch(ctx, id, cloudswitch.Request{})
		if err != nil || res.Provisioned == nil {
			t.Fatalf("provisioning the first VM of %s on %s: %v (provisioned %v)", id, cloud, err, res.Provisioned)
		}
		f.ids = append(f.ids, id)
	}
	return f
}
