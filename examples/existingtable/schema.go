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

// adaptTable is the server's own migration for cloudswitch: four columns and
// an index. Existing rows keep working: a NULL instance_provider means the
// provider of the row's compute, and an empty compute provider means AWS.
var adaptTable = map[string][]string{
	"postgres": {
		// The provider of the VM instance_id names: after a switch the id
		// is another cloud's.
		`ALTER TABLE workspaces ADD COLUMN instance_provider text`,
		// What else cloudswitch needs to find the VM again: its region
		// (GCP deletes by zone), the idempotency token it was created with,
		// and when. NULL for the VMs made before cloudswitch.
		`ALTER TABLE workspaces ADD COLUMN instance_meta json`,
		// The compare-and-swap: every write bumps it, and a write at a
		// stale version writes nothing.
		`ALTER TABLE workspaces ADD COLUMN version bigint NOT NULL DEFAULT 1`,
		// The journal of a switch in flight: encoding/json of
		// cloudswitch.Intent, NULL when none is.
		`ALTER TABLE workspaces ADD COLUMN pending json`,
		// So that finding the switches in flight does not read the table.
		`CREATE INDEX workspaces_pending ON workspaces (id) WHERE pending IS NOT NULL`,
	},
	"sqlite": {
		`ALTER TABLE workspaces ADD COLUMN instance_provider text`,
		`ALTER TABLE workspaces ADD COLUMN instance_meta text`,
		`ALTER TABLE workspaces ADD COLUMN version integer NOT NULL DEFAULT 1`,
		`ALTER TABLE workspaces ADD COLUMN pending text`,
		`CREATE INDEX workspaces_pending ON workspaces (id) WHERE pending IS NOT NULL`,
	},
}
