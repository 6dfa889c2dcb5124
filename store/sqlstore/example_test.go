package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"os"
	"path/filepath"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/providers/memprovider"
	"github.com/cloudswitch/cloudswitch/store/sqlstore"
)

// A workspace kept in SQLite moves from AWS to Hetzner. The same code runs on
// PostgreSQL with sql.Open("pgx", dsn) and sqlstore.Postgres.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "cloudswitch-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	db, err := sql.Open("sqlite", sqlstore.SQLiteDSN(filepath.Join(dir, "workspaces.db")))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(4)

	store, err := sqlstore.New(db, sqlstore.SQLite)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	if err := store.Migrate(ctx); err != nil {
		log.Fatal(err)
	}

	sw, err := cloudswitch.New(store, map[string]cloudswitch.Provider{
		cloudswitch.AWS:     memprovider.New(cloudswitch.AWS),
		cloudswitch.Hetzner: memprovider.New(cloudswitch.Hetzner),
	})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := store.Create(ctx, cloudswitch.Workspace{ID: "ws-1",
		Compute: cloudswitch.Compute{Provider: cloudswitch.AWS, InstanceType: "t3.medium"}}); err != nil {
		log.Fatal(err)
	}
	if _, err := sw.Switch(ctx, "ws-1", cloudswitch.Request{}); err != nil { // its first VM
		log.Fatal(err)
	}
	res, err := sw.Switch(ctx, "ws-1", cloudswitch.Request{
		Compute: cloudswitch.Compute{Provider: cloudswitch.Hetzner}, ConfirmRecreate: true})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("destroyed %s, created %s\n", res.Deprovisioned.ID, res.Provisioned.ID)

	w, err := store.Get(ctx, "ws-1")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("ws-1 on %s, VM %s, version %d, switch pending: %v\n",
		w.Compute.Provider, w.Instance.ID, w.Version, w.Pending != nil)
	// Output:
	// destroyed aws-00000001, created hetzner-00000001
	// ws-1 on hetzner, VM hetzner-00000001, version 6, switch pending: false
}
