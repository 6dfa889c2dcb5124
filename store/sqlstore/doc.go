// Package sqlstore is a cloudswitch.Store on database/sql, for PostgreSQL and
// SQLite: one row per workspace, written with a compare-and-swap the database
// enforces, so that any number of replicas, reconcilers and tools may share
// it.
//
// The package imports no driver. Use github.com/jackc/pgx/v5/stdlib for
// PostgreSQL and modernc.org/sqlite (pure Go) for SQLite, or another driver
// of the same database:
//
//	db, err := sql.Open("pgx", os.Getenv("DATABASE_URL"))
//	store, err := sqlstore.New(db, sqlstore.Postgres)
//	err = store.Migrate(ctx) // at start-up, in every replica: idempotent
//	sw, err := cloudswitch.New(store, providers)
//
// # Guarantees
//
// Update is one conditional statement (UPDATE … WHERE id = $1 AND version =
// $2 RETURNING version): of several Updates of one version exactly one
// writes, whichever process sends it, and nothing is ever written on the
// strength of an earlier read. "Not found" is only ever the database's
// answer that there is no such row: a dropped connection, a closed pool, a
// cancelled context or a row that does not decode is an error matching
// neither cloudswitch.ErrNotFound nor cloudswitch.ErrConflict.
//
// Every call is one statement and one round trip, outside any explicit
// transaction (an Update that loses adds one read to say why), so a switch
// costs four: read, claim, commit, record. GetBatch reads any number of
// workspaces with one statement, so a Reconciler pass costs about one
// statement per page of listed VMs. On SQLite the statements are
// prepared once and reused; on PostgreSQL pgx prepares and caches them per
// connection.
//
// # Schema
//
// Migrate creates this schema (table name set by WithTable, default
// cloudswitch_workspaces; the other objects are named after it); a
// database administrator may create it instead. On PostgreSQL:
//
//	CREATE SEQUENCE cloudswitch_workspaces_version;  -- every version of the table is drawn from it
//	CREATE TABLE cloudswitch_workspaces (
//		id         text        PRIMARY KEY,
//		compute    jsonb       NOT NULL,  -- cloudswitch.Compute: {"provider": "aws", "instance_type": …, "region": …, "image": …}
//		instance   jsonb,                 -- the VM, NULL for none: {"provider", "id", "region", "workspace_id", "token", "created_at", "installation", "instance_type", "image"}
//		pending    jsonb,                 -- the switch in flight, NULL for none: encoding/json of cloudswitch.Intent
//		version    bigint      NOT NULL DEFAULT nextval('cloudswitch_workspaces_version') CHECK (version > 0),
//		created_at timestamptz NOT NULL DEFAULT now(),
//		updated_at timestamptz NOT NULL DEFAULT now()        -- set by every Update, by the database's clock
//	);
//	ALTER SEQUENCE cloudswitch_workspaces_version OWNED BY cloudswitch_workspaces.version;
//	CREATE INDEX cloudswitch_workspaces_pending ON cloudswitch_workspaces (id) WHERE pending IS NOT NULL;
//	CREATE TABLE cloudswitch_workspaces_meta (
//		id           integer PRIMARY KEY CHECK (id = 1),
//		installation text    NOT NULL  -- the installation id: 1 to 63 of a-z, 0-9, '-', '_'
//	);
//	INSERT INTO cloudswitch_workspaces_meta VALUES (1, 'a random id, minted once');
//
// Create and Update draw every version from the sequence (nextval), so that
// a workspace deleted and created again never repeats a version of its
// predecessor; so does an INSERT that leaves version to its DEFAULT.
//
// On SQLite the table is STRICT, the JSON columns are TEXT checked by
// json_valid (instance IS NULL OR json_valid(instance), which holds on every
// SQLite since 3.37), and the timestamps are UTC text
// (2006-01-02T15:04:05.000Z). The counter is the version column of the
// metadata row (id, installation, version), the highest version the table
// ever held: Create and Update write that plus one, and triggers AFTER
// INSERT and AFTER UPDATE OF version on the table raise it to whatever
// version a statement writes, the Store's or anyone's.
//
// Migrate upgrades a table made by an earlier version in place, under the
// same lock: it adds the counter, started past the table's highest version,
// and the metadata row. Existing rows keep their versions and keep working.
// Replicas of an earlier version still running beside upgraded ones write
// version + 1, which the counter may also give: upgrade every replica.
//
// The partial index holds only the rows with a switch in flight, almost
// none, so Pending (which the Reconciler calls on every pass) reads a few
// index entries instead of the table. Timestamps are the database's, so
// replicas with skewed clocks agree on them; the Store never reads them.
//
// The intent is stored as an opaque document so that its fields can evolve
// without a schema change; compute and instance are decoded strictly. A row
// whose JSON does not decode is reported as a *DecodeError naming the
// workspace and the column, never replaced by a default: a compute read as
// the zero Compute would mean AWS, and could destroy the wrong VM.
//
// # SQLite
//
// Open the database with SQLiteDSN, which sets WAL mode and a busy timeout
// so that concurrent writers queue instead of failing with SQLITE_BUSY, and
// give the pool a few connections (db.SetMaxOpenConns(4)), never one: a loop
// over Pending holds a connection while the Switcher writes. New refuses a
// pool whose connections do not wait for locks (ErrNoBusyTimeout): with
// modernc.org/sqlite's default busy_timeout of 0, concurrent statements fail
// with SQLITE_BUSY, reads included.
//
// # PostgreSQL
//
// Size the pool (db.SetMaxOpenConns) for how commits end. With durable
// commits (fsync and synchronous_commit on, as in production) give it one
// connection per switch you expect to run at once, within the server's
// max_connections: each of a switch's three writes waits for a WAL flush,
// and PostgreSQL flushes the commits in flight at the same moment together
// (group commit), so a pool smaller than the callers leaves them queueing
// for a connection instead of sharing flushes, and caps switches per second
// near connections × flushes per second ÷ 3. When commits wait for no disk
// the work is CPU-bound, and more than about four connections per core of
// the database only compete for those cores. The writes are never batched
// into one transaction: each must be durable before the cloud call that
// follows it.
//
// A login role needs SELECT, INSERT, UPDATE and DELETE on the table, USAGE
// on its _version sequence and SELECT on its _meta table. Several Stores in
// several processes share the table safely. A schema-qualified table
// ("tenant_a.workspaces") lets installations share a database.
package sqlstore
