package wiring

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
)

func TestALibpqKeywordValueStringIsRefusedNotTakenForAFileName(t *testing.T) {
	dir := t.TempDir()
	dsn := "host=" + dir + " user=app password=hunter2 dbname=ws"
	for _, open := range []func(context.Context, string) (*DB, error){OpenDB, OpenExistingDB} {
		db, err := open(t.Context(), dsn)
		if db != nil {
			_ = db.Close()
		}
		require.Error(t, err)
		assert.Contains(t, err.Error(), "postgres:// URL")
		assert.NotContains(t, err.Error(), "hunter2", "the error repeats the password")
	}
	matches, _ := filepath.Glob(filepath.Join(dir, "*"))
	assert.Empty(t, matches, "a file was created from the connection string")
}

func TestOpenExistingDBOpensOnlyAMigratedDatabase(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "ws.db")
	_, err := OpenExistingDB(ctx, path)
	require.ErrorIs(t, err, errNoDatabase)
	assert.NoFileExists(t, path)

	db, err := OpenDB(ctx, path)
	require.NoError(t, err)
	_, err = db.Store.Create(ctx, cloudswitch.Workspace{ID: "ws-1"})
	require.NoError(t, err)
	require.NoError(t, db.Close())

	db, err = OpenExistingDB(ctx, path)
	require.NoError(t, err)
	defer db.Close()
	_, err = db.Store.Get(ctx, "ws-1")
	assert.NoError(t, err)
}
