package sqlstore

import "strings"

// statements holds the SQL a Store runs, with its table spliced in.
type statements struct {
	// Migrate's DDL, in the order it runs. sequence (PostgreSQL) is the
	// counter every version is drawn from; meta is the one-row table of the
	// installation id (and on SQLite of the highest version ever given).
	sequence string
	table    string // CREATE TABLE
	verify   string // selects every column, no rows: fails unless the table has the Store's shape
	index    string // CREATE INDEX of pending rows
	meta     string // CREATE TABLE of the metadata row
	// PostgreSQL: whether the sequence exists yet, and what a table made
	// before it needs (its DEFAULT, the sequence's owner and start).
	sequenceExists string
	adoptSequence  []string
	// SQLite: the triggers that keep the high-water mark of versions, so
	// that a version written by any statement, ours or not, is never given
	// again.
	triggers []string
	// mint stores the installation id ($1) and, on SQLite, the highest
	// version of the table, unless the metadata row exists.
	mint string

	get    *statement // compute, instance, pending, version of one id
	batch  *statement // id, compute, instance, pending, version of the ids in the JSON array $1
	insert *statement // Create: returns the version, or no row when the id exists
	// update is the compare-and-swap: it returns the new version, or no row
	// when it wrote nothing; exists then tells a conflict from a missing row.
	update       *statement
	exists       *statement // count of rows with the id (0 or 1)
	delete       *statement
	deleteIf     *statement // Decommission's compare-and-swap delete: id $1 at version $2
	pending      *statement // id, compute, instance, pending, version of pending rows, by id
	list         *statement // the same for every row
	installation *statement // the installation id of the metadata row
}

// all returns the statements the Store runs after Migrate.
func (s *statements) all() []*statement {
	return []*statement{s.get, s.batch, s.insert, s.update, s.exists, s.delete, s.deleteIf, s.pending, s.list, s.installation}
}

// The schema, one row per workspace. See the package documentation.
const (
	postgresSequence = `CREATE SEQUENCE IF NOT EXISTS {sequence}`

	postgresTable = `CREATE TABLE IF NOT EXISTS {table} (
	id         text        PRIMARY KEY,
	compute    jsonb       NOT NULL,
	instance   jsonb,
	pending    jsonb,
	version    bigint      NOT NULL DEFAULT nextval('{sequence}') CHECK (version > 0),
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now()
)`

	postgresMeta = `CREATE TABLE IF NOT EXISTS {meta} (
	id           integer PRIMARY KEY CHECK (id = 1),
	installation text    NOT NULL
)`

	// The JSON checks let NULL through explicitly: json_valid(NULL) is 0
	// before SQLite 3.45 and NULL since, and a CHECK fails only on 0.
	sqliteTable = `CREATE TABLE IF NOT EXISTS {table} (
	id         TEXT    NOT NULL PRIMARY KEY,
	compute    TEXT    NOT NULL CHECK (json_valid(compute)),
	instance   TEXT    CHECK (instance IS NULL OR json_valid(instance)),
	pending    TEXT    CHECK (pending IS NULL OR json_valid(pending)),
	version    INTEGER NOT NULL CHECK (version > 0),
	created_at TEXT    NOT NULL DEFAULT ({now}),
	updated_at TEXT    NOT NULL DEFAULT ({now})
) STRICT`

	sqliteMeta = `CREATE TABLE IF NOT EXISTS {meta} (
	id           INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
	installation TEXT    NOT NULL,
	version      INTEGER NOT NULL
) STRICT`

	sqliteInsertTrigger = `CREATE TRIGGER IF NOT EXISTS {trigger_insert} AFTER INSERT ON {table}
BEGIN UPDATE {meta} SET version = NEW.version WHERE id = 1 AND version < NEW.version; END`

	sqliteUpdateTrigger = `CREATE TRIGGER IF NOT EXISTS {trigger_update} AFTER UPDATE OF version ON {table}
BEGIN UPDATE {meta} SET version = NEW.version WHERE id = 1 AND version < NEW.version; END`

	// The partial index holds only the rows with an intent, almost none:
	// Pending reads it instead of the table.
	pendingIndex = `CREATE INDEX IF NOT EXISTS {index} ON {table} (id) WHERE pending IS NOT NULL`

	columns = `compute, instance, pending, version`

	update = `UPDATE {table} SET compute = $3, instance = $4, pending = $5, version = {next}, updated_at = {now}
WHERE id = $1 AND version = $2
RETURNING version`
)

// newStatements returns the SQL of dialect d on table t.
//
// Every version is drawn from one counter per table, so that a workspace
// deleted and created again never takes a version its predecessor had: on
// PostgreSQL a sequence (also the column's DEFAULT, so a hand-written INSERT
// gets a fresh version too), on SQLite the metadata row's high-water mark,
// which triggers raise to every version written. Either way the new version
// is computed inside the one statement that writes it.
func newStatements(d Dialect, t table) statements {
	now, create, meta := "now()", postgresTable, postgresMeta
	next := "nextval('{sequence}')"
	batch := `SELECT id, ` + columns + ` FROM {table} WHERE id = ANY (ARRAY(SELECT jsonb_array_elements_text($1::jsonb)))`
	if d == SQLite {
		now, create, meta = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')", sqliteTable, sqliteMeta
		next = "(SELECT version + 1 FROM {meta} WHERE id = 1)"
		batch = `SELECT id, ` + columns + ` FROM {table} WHERE id IN (SELECT value FROM json_each($1))`
	}
	r := strings.NewReplacer(
		"{next}", next, "{table}", t.String(), "{index}", t.index(), "{now}", now,
		"{sequence}", t.sibling("version"), "{meta}", t.sibling("meta"),
		"{trigger_insert}", t.sibling("version_insert"), "{trigger_update}", t.sibling("version_update"))
	// {next} holds {sequence} or {meta}: replace twice.
	rep := func(q string) string { return r.Replace(r.Replace(q)) }
	stmt := func(q string) *statement { return &statement{query: rep(q), prepare: d == SQLite} }
	s := statements{
		table:        rep(create),
		verify:       rep(`SELECT id, ` + columns + `, created_at, updated_at FROM {table} WHERE 1 = 0`),
		index:        rep(pendingIndex),
		meta:         rep(meta),
		get:          stmt(`SELECT ` + columns + ` FROM {table} WHERE id = $1`),
		batch:        stmt(batch),
		insert:       stmt(`INSERT INTO {table} (id, ` + columns + `) VALUES ($1, $2, $3, $4, {next}) ON CONFLICT (id) DO NOTHING RETURNING version`),
		update:       stmt(update),
		exists:       stmt(`SELECT count(*) FROM {table} WHERE id = $1`),
		delete:       stmt(`DELETE FROM {table} WHERE id = $1`),
		deleteIf:     stmt(`DELETE FROM {table} WHERE id = $1 AND version = $2`),
		pending:      stmt(`SELECT id, ` + columns + ` FROM {table} WHERE pending IS NOT NULL ORDER BY id`),
		list:         stmt(`SELECT id, ` + columns + ` FROM {table} ORDER BY id`),
		installation: stmt(`SELECT installation FROM {meta} WHERE id = 1`),
	}
	if d == Postgres {
		s.sequence = rep(postgresSequence)
		s.sequenceExists = `SELECT to_regclass($1) IS NOT NULL`
		s.adoptSequence = []string{
			rep(`ALTER TABLE {table} ALTER COLUMN version SET DEFAULT nextval('{sequence}')`),
			rep(`ALTER SEQUENCE {sequence} OWNED BY {table}.version`),
			// Past every version the table holds: the next one is new.
			rep(`SELECT setval('{sequence}', COALESCE(max(version), 0) + 1, false) FROM {table}`),
		}
		s.mint = rep(`INSERT INTO {meta} (id, installation) VALUES (1, $1) ON CONFLICT (id) DO NOTHING`)
	} else {
		s.triggers = []string{rep(sqliteInsertTrigger), rep(sqliteUpdateTrigger)}
		// The triggers exist before this runs, and it reads the table's
		// highest version in the same statement that stores it: no version
		// written meanwhile escapes the mark.
		s.mint = rep(`INSERT INTO {meta} (id, installation, version) SELECT 1, $1, COALESCE(max(version), 0) FROM {table} WHERE true ON CONFLICT (id) DO NOTHING`)
	}
	return s
}
