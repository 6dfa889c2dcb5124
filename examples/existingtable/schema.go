package main

// The workspaces table the server already has, before cloudswitch: a
// provider-less compute (every VM was on AWS) and the id of the VM.
var existingTable = map[string]string{
	"postgres": `CREATE TABLE workspaces (
	id          text PRIMARY KEY,
	name        text,
	compute     jsonb NOT NULL,
	instance_id text
)`,
	"sqlite": `CREATE TABLE workspaces (
	id          text PRIMARY KEY,
	name        text,
	compute     text NOT NULL, -- JSON
	instance_id text
)`,
}

// adaptTable is the server's own migration for cloudswitch: four columns, an
// index, the counter every version is drawn from and a one-row table naming
// the installation. Existing rows keep working: a NULL instance_provider
// means the provider of the row's compute, and an empty compute provider
// means AWS.
//
// Versions never repeat for a workspace id, even across deletion and
// re-creation, or a switch that read a deleted workspace could write its
// successor: every version comes from one counter for the table, never from
// the row (version + 1).
var adaptTable = map[string][]string{
	"postgres": {
		// The provider of the VM instance_id names: after a switch the id
		// is another cloud's.
		`ALTER TABLE workspaces ADD COLUMN instance_provider text`,
		// What else cloudswitch needs to find the VM again: its region
		// (GCP deletes by zone), the idempotency token it was created with,
		// and when. NULL for the VMs made before cloudswitch.
		`ALTER TABLE workspaces ADD COLUMN instance_meta json`,
		// The compare-and-swap: every write takes a new version from the
		// sequence, and a write at a stale version writes nothing. The
		// existing rows get versions from it too.
		`CREATE SEQUENCE workspaces_version`,
		`ALTER TABLE workspaces ADD COLUMN version bigint NOT NULL DEFAULT nextval('workspaces_version')`,
		// The journal of a switch in flight: encoding/json of
		// cloudswitch.Intent, NULL when none is.
		`ALTER TABLE workspaces ADD COLUMN pending json`,
		// So that finding the switches in flight does not read the table.
		`CREATE INDEX workspaces_pending ON workspaces (id) WHERE pending IS NOT NULL`,
		// The installation this database is: minted once, here.
		`CREATE TABLE cloudswitch_installation (id integer PRIMARY KEY CHECK (id = 1), installation text NOT NULL)`,
		`INSERT INTO cloudswitch_installation VALUES (1, md5(random()::text))`,
	},
	"sqlite": {
		`ALTER TABLE workspaces ADD COLUMN instance_provider text`,
		`ALTER TABLE workspaces ADD COLUMN instance_meta text`,
		`ALTER TABLE workspaces ADD COLUMN version integer NOT NULL DEFAULT 1`,
		`ALTER TABLE workspaces ADD COLUMN pending text`,
		`CREATE INDEX workspaces_pending ON workspaces (id) WHERE pending IS NOT NULL`,
		// SQLite has no sequences: the highest version the table ever held
		// is kept beside the installation id, and every write takes the
		// next (store.go); the triggers raise it to any version written
		// by other means too.
		`CREATE TABLE cloudswitch_installation (id integer PRIMARY KEY CHECK (id = 1), installation text NOT NULL, version integer NOT NULL)`,
		`INSERT INTO cloudswitch_installation SELECT 1, lower(hex(randomblob(16))), coalesce(max(version), 0) FROM workspaces`,
		`CREATE TRIGGER workspaces_version_insert AFTER INSERT ON workspaces
		BEGIN UPDATE cloudswitch_installation SET version = NEW.version WHERE version < NEW.version; END`,
		`CREATE TRIGGER workspaces_version_update AFTER UPDATE OF version ON workspaces
		BEGIN UPDATE cloudswitch_installation SET version = NEW.version WHERE version < NEW.version; END`,
	},
}
