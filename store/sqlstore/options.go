package sqlstore

import (
	"fmt"
	"regexp"
	"strings"
)

// DefaultTable is the table a Store uses when WithTable is not given.
const DefaultTable = "cloudswitch_workspaces"

// Option configures a Store; see New.
type Option func(*config)

type config struct {
	table string
}

// WithTable sets the table the Store keeps its workspaces in (default
// DefaultTable), so that it can live in an existing database beside other
// tables, or so that several installations can share one database.
//
// The name must be a plain identifier: a lowercase letter or underscore, then
// up to 54 lowercase letters, digits and underscores (short enough that the
// index and sequence named after it fit PostgreSQL's 63 bytes). On PostgreSQL it may be
// qualified by an existing schema, "schema.table". The Store quotes it, so
// reserved words are fine. Anything else is an error from New: the name is
// spliced into SQL, and nothing but an identifier may be.
func WithTable(name string) Option {
	return func(c *config) { c.table = name }
}

var identifier = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,54}$`)

// table is a validated table name, possibly schema-qualified.
type table struct {
	schema, name string
}

// parseTable validates name for dialect d.
func parseTable(name string, d Dialect) (table, error) {
	var t table
	t.name = name
	if schema, rest, ok := strings.Cut(name, "."); ok {
		if d != Postgres {
			return table{}, fmt.Errorf("sqlstore: table name %q: only PostgreSQL tables may be schema-qualified", name)
		}
		t.schema, t.name = schema, rest
		if !identifier.MatchString(t.schema) {
			return table{}, fmt.Errorf("sqlstore: table name %q: schema %q is not a plain identifier (lowercase letters, digits and underscores, at most 55, not starting with a digit)", name, t.schema)
		}
	}
	if !identifier.MatchString(t.name) {
		return table{}, fmt.Errorf("sqlstore: table name %q is not a plain identifier (lowercase letters, digits and underscores, at most 55, not starting with a digit; on PostgreSQL optionally schema.table)", name)
	}
	return t, nil
}

// plain returns the name as given, for messages.
func (t table) plain() string {
	if t.schema == "" {
		return t.name
	}
	return t.schema + "." + t.name
}

// String returns the quoted, qualified name, ready for SQL.
func (t table) String() string {
	if t.schema == "" {
		return `"` + t.name + `"`
	}
	return `"` + t.schema + `"."` + t.name + `"`
}

// index returns the quoted name of the table's pending index. PostgreSQL
// creates an index in its table's schema, so it is never qualified.
func (t table) index() string {
	return `"` + t.name + `_pending"`
}

// sibling returns the quoted, qualified name of an object Migrate creates
// beside the table, named after it: name_suffix, in the table's schema.
func (t table) sibling(suffix string) string {
	return table{schema: t.schema, name: t.name + "_" + suffix}.String()
}
