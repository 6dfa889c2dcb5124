// Command existingtable shows how a workspace server that already keeps its
// workspaces in a table of its own adapts that table to cloudswitch instead
// of adopting store/sqlstore's: it adds four columns, an index, a counter
// of versions and the installation's id (schema.go), and implements
// cloudswitch.Store on the table with
// database/sql (store.go, checked by store/storetest in main_test.go).
//
// The program creates the server's table as it was — one workspace, on AWS,
// from before providers were recorded — migrates it, switches the workspace
// to Hetzner on in-memory clouds, and prints the row after each step.
//
//	go run ./examples/existingtable                        # SQLite, in a temporary directory
//	go run ./examples/existingtable -postgres "$DATABASE_URL" # in a schema of its own, dropped at the end
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // registers "sqlite"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/providers/memprovider"
	"github.com/cloudswitch/cloudswitch/store/sqlstore"
)

func main() {
	postgres := flag.String("postgres", "", "PostgreSQL URL to run on (default: SQLite in a temporary directory)")
	flag.Parse()
	if err := run(context.Background(), *postgres, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "existingtable:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, postgresURL string, out io.Writer) (err error) {
	db, dialect, closeDB, err := open(ctx, postgresURL)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, closeDB()) }()

	// The server's table as it was, with a workspace whose VM runs on AWS.
	aws, hetzner := memprovider.New(cloudswitch.AWS), memprovider.New(cloudswitch.Hetzner)
	vm := aws.Add(cloudswitch.DefaultOwner, "ws-1", cloudswitch.Compute{Provider: cloudswitch.AWS, InstanceType: "t3.medium"})
	if _, err := db.ExecContext(ctx, existingTable[dialect]); err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO workspaces (id, name, compute, instance_id) VALUES ($1, $2, $3, $4)`,
		"ws-1", "Ada's workspace", `{"instance_type": "t3.medium"}`, vm.ID); err != nil {
		return err
	}
	if err := show(ctx, out, db, "before the migration", false); err != nil {
		return err
	}

	// The server's migration.
	for _, q := range adaptTable[dialect] {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	if err := show(ctx, out, db, "after the migration", true); err != nil {
		return err
	}

	// A switch through the server's own table.
	sw, err := cloudswitch.New(&Store{db: db, dialect: dialect}, map[string]cloudswitch.Provider{
		cloudswitch.AWS: aws, cloudswitch.Hetzner: hetzner,
	})
	if err != nil {
		return err
	}
	res, err := sw.Switch(ctx, "ws-1", cloudswitch.Request{
		Compute: cloudswitch.Compute{Provider: cloudswitch.Hetzner}, ConfirmRecreate: true})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "switched: destroyed %s on aws, created %s on hetzner\n", res.Deprovisioned.ID, res.Provisioned.ID)
	if err := show(ctx, out, db, "after the switch", true); err != nil {
		return err
	}
	fmt.Fprintf(out, "live VMs: aws %d, hetzner %d\n", len(aws.Live()), len(hetzner.Live()))
	return nil
}

// show prints every workspace: the server's columns, and once the table is
// adapted, cloudswitch's.
func show(ctx context.Context, out io.Writer, db *sql.DB, when string, adapted bool) error {
	added := `'', '', '', ''`
	if adapted {
		added = `instance_provider, version, pending, instance_meta`
	}
	rows, err := db.QueryContext(ctx, `SELECT id, name, compute, instance_id, `+added+` FROM workspaces ORDER BY id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	fmt.Fprintf(out, "%s:\n", when)
	for rows.Next() {
		var c [8]sql.NullString
		if err := rows.Scan(&c[0], &c[1], &c[2], &c[3], &c[4], &c[5], &c[6], &c[7]); err != nil {
			return err
		}
		fmt.Fprintf(out, "  %s  name=%q  compute=%s  instance_id=%s\n", c[0].String, c[1].String, c[2].String, c[3].String)
		if adapted {
			fmt.Fprintf(out, "        instance_provider=%s  version=%s  pending=%s  instance_meta=%s\n", c[4].String, c[5].String, c[6].String, c[7].String)
		}
	}
	return rows.Err()
}

// open returns a pool on a fresh database: a SQLite file in a temporary
// directory, or, given a PostgreSQL URL, a schema of its own on that
// database, so that the demo's workspaces table never meets yours. The
// returned function closes the pool and removes what open made.
func open(ctx context.Context, postgresURL string) (*sql.DB, string, func() error, error) {
	if postgresURL == "" {
		dir, err := os.MkdirTemp("", "existingtable")
		if err != nil {
			return nil, "", nil, err
		}
		db, err := sql.Open("sqlite", sqlstore.SQLiteDSN(filepath.Join(dir, "server.db")))
		if err != nil {
			return nil, "", nil, errors.Join(err, os.RemoveAll(dir))
		}
		db.SetMaxOpenConns(4)
		return db, "sqlite", func() error { return errors.Join(db.Close(), os.RemoveAll(dir)) }, nil
	}
	cfg, err := pgx.ParseConfig(postgresURL)
	if err != nil {
		return nil, "", nil, err
	}
	admin := stdlib.OpenDB(*cfg)
	var r [6]byte
	rand.Read(r[:])
	schema := "existingtable_" + hex.EncodeToString(r[:])
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		return nil, "", nil, errors.Join(err, admin.Close())
	}
	cfg.RuntimeParams["search_path"] = schema
	db := stdlib.OpenDB(*cfg)
	return db, "postgres", func() error {
		_, err := admin.ExecContext(context.Background(), `DROP SCHEMA `+schema+` CASCADE`)
		return errors.Join(db.Close(), err, admin.Close())
	}, nil
}
