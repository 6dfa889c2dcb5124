package sqlstore

import (
	"context"
	"fmt"
	"regexp"
)

// installationID is the shape of an installation id
// (cloudswitch.InstallationStore).
var installationID = regexp.MustCompile(`^[a-z0-9_-]{1,63}$`)

// InstallationID returns the id Migrate minted for the Store's table: the
// same in every process and replica that shares the table, for the table's
// whole life. It reads it with one statement the first time and keeps it.
// It fails when the metadata table has no row (Migrate never ran on this
// table: run it, or insert the row as the package documentation shows),
// and when the stored id is not a valid installation id.
func (s *Store) InstallationID(ctx context.Context) (string, error) {
	if id := s.installation.Load(); id != nil {
		return *id, nil
	}
	var id string
	err := s.sql.installation.queryRow(ctx, s.db).Scan(&id)
	switch {
	case noRows(ctx, err):
		return "", fmt.Errorf("sqlstore: table %s has no installation id: run Migrate", s.table.plain())
	case err != nil:
		return "", fail("reading the installation id of", s.table.plain(), orContext(ctx, err))
	case !installationID.MatchString(id):
		return "", fmt.Errorf("sqlstore: table %s: the stored installation id %q is not 1 to 63 lowercase letters, digits, '-' or '_'", s.table.plain(), id)
	}
	s.installation.Store(&id)
	return id, nil
}
