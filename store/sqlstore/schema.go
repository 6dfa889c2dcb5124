package sqlstore

import "strings"

// statements holds the SQL a Store runs, with its table spliced in.
type statements struct {
	table  string // Migrate's CREATE TABLE
	verify string // selects every column, no rows: fails unless the table has the Store's shape
	index  string // Migrate's CREATE INDEX

	get    *statement // compute, instance, pending, version of one id
	insert *statement // Create: returns the version, or no row when the id exists
	// update is the compare-and-swap: it returns the new version, or no row
	// when it wrote nothing; exists then tells a conflict from a missing row.
	update  *statement
	exists  *statement // count of rows with the id (0 or 1)
	delete  *statement
	pending *statement // id, compute, instance, pending, version of pending rows, by id
	list    *statement // the same for every row
}

// all returns the statements the Store runs after Migrate.
func (s *statements) all() []*statement {
	return []*statement{s.get, s.insert, s.update, s.exists, s.delete, s.pending, s.list}
}

// The schema, one row per workspace. See the package documentation.
const (
	postgresTable = `CREATE TABLE IF NOT EXISTS {table} (
	id         text        PRIMARY KEY,
	compute    jsonb       NOT NULL,
	instance   jsonb,
	pending    jsonb,
	version    bigint      NOT NULL CHECK (version > 0),
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now()
)`

	sqliteTable = `CREATE TABLE IF NOT EXISTS {table} (
	id         TEXT    NOT NULL PRIMARY KEY,
	compute    TEXT    NOT NULL CHECK (json_valid(compute)),
	instance   TEXT    CHECK (json_valid(instance)),
	pending    TEXT    CHECK (json_valid(pending)),
	version    INTEGER NOT NULL CHECK (version > 0),
	created_at TEXT    NOT NULL DEFAULT ({now}),
	updated_at TEXT    NOT NULL DEFAULT ({now})
) STRICT`

	// The partial index holds only the rows with an intent, almost none:
	// Pending reads it instead of the table.
	pendingIndex = `CREATE INDEX IF NOT EXISTS {index} ON {table} (id) WHERE pending IS NOT NULL`

	columns = `compute, instance, pending, version`

	update = `UPDATE {table} SET compute = $3, instance = $4, pending = $5, version = version + 1, updated_at = {now}
WHERE id = $1 AND version = $2
RETURNING version`
)

// newStatements returns the SQL of dialect d on table t.
func newStatements(d Dialect, t table) statements {
	now, create := "now()", postgresTable
	if d == SQLite {
		now, create = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')", sqliteTable
	}
	r := strings.NewReplacer("{table}", t.String(), "{index}", t.index(), "{now}", now)
	stmt := func(q string) *statement { return &statement{query: r.Replace(q), prepare: d == SQLite} }
	return statements{
		table:   r.Replace(create),
		verify:  r.Replace(`SELECT id, ` + columns + `, created_at, updated_at FROM {table} WHERE 1 = 0`),
		index:   r.Replace(pendingIndex),
		get:     stmt(`SELECT ` + columns + ` FROM {table} WHERE id = $1`),
		insert:  stmt(`INSERT INTO {table} (id, ` + columns + `) VALUES ($1, $2, $3, $4, 1) ON CONFLICT (id) DO NOTHING RETURNING version`),
		update:  stmt(update),
		exists:  stmt(`SELECT count(*) FROM {table} WHERE id = $1`),
		delete:  stmt(`DELETE FROM {table} WHERE id = $1`),
		pending: stmt(`SELECT id, ` + columns + ` FROM {table} WHERE pending IS NOT NULL ORDER BY id`),
		list:    stmt(`SELECT id, ` + columns + ` FROM {table} ORDER BY id`),
	}
}
