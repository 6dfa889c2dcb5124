package sqlstore_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/providers/memprovider"
	"github.com/cloudswitch/cloudswitch/store/sqlstore"
)

func TestClosedPoolIsNeitherNotFoundNorConflict(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		db := b.open(t)
		st := b.store(t, db)
		w, err := st.Create(ctx, cloudswitch.Workspace{ID: "w", Compute: cloudswitch.Compute{Provider: cloudswitch.AWS}})
		require.NoError(t, err)
		db.Close()
		calls := map[string]error{}
		_, calls["Get"] = st.Get(ctx, "w")
		_, calls["Get of a missing id"] = st.Get(ctx, "missing")
		_, calls["Update"] = st.Update(ctx, w)
		_, calls["Create"] = st.Create(ctx, cloudswitch.Workspace{ID: "w2"})
		calls["Delete"] = st.Delete(ctx, "w")
		calls["Migrate"] = st.Migrate(ctx)
		for _, err := range st.Pending(ctx) {
			calls["Pending"] = err
			break
		}
		for _, err := range st.List(ctx) {
			calls["List"] = err
			break
		}
		for call, err := range calls {
			if err == nil || errors.Is(err, cloudswitch.ErrNotFound) || errors.Is(err, cloudswitch.ErrConflict) {
				t.Errorf("%s on a closed pool: got %v; want an error that is neither ErrNotFound nor ErrConflict", call, err)
			}
		}
	})
}

// outage is one test's clouds, clock and workspace for switches that lose
// their database part-way.
type outage struct {
	clouds    map[string]*memprovider.Provider
	providers map[string]cloudswitch.Provider
	mu        sync.Mutex
	offset    time.Duration // added to the wall clock, to expire leases
}

const outageLease = time.Minute

func newOutage() *outage {
	o := &outage{clouds: map[string]*memprovider.Provider{}, providers: map[string]cloudswitch.Provider{}}
	for _, name := range []string{cloudswitch.AWS, cloudswitch.Hetzner} {
		o.clouds[name] = memprovider.New(name)
		o.providers[name] = o.clouds[name]
	}
	return o
}

func (o *outage) now() time.Time {
	o.mu.Lock()
	defer o.mu.Unlock()
	return time.Now().Add(o.offset)
}

// expireLeases moves the clock past every lease taken so far.
func (o *outage) expireLeases() {
	o.mu.Lock()
	o.offset += outageLease + time.Second
	o.mu.Unlock()
}

func (o *outage) switcher(t *testing.T, st cloudswitch.Store, opts ...cloudswitch.Option) *cloudswitch.Switcher {
	t.Helper()
	opts = append([]cloudswitch.Option{cloudswitch.WithClock(o.now), cloudswitch.WithLease(outageLease)}, opts...)
	sw, err := cloudswitch.New(st, o.providers, opts...)
	require.NoError(t, err)
	return sw
}

// seed creates a workspace on AWS with its VM.
func (o *outage) seed(t *testing.T, st *sqlstore.Store, id string) cloudswitch.Workspace {
	t.Helper()
	ctx := context.Background()
	if _, err := st.Create(ctx, cloudswitch.Workspace{ID: id,
		Compute: cloudswitch.Compute{Provider: cloudswitch.AWS, InstanceType: "t3.medium"}}); err != nil {
		t.Fatal(err)
	}
	res, err := o.switcher(t, st).Switch(ctx, id, cloudswitch.Request{})
	if err != nil || res.Workspace.Instance == nil {
		t.Fatalf("seeding %s with a VM: %+v, %v", id, res, err)
	}
	return res.Workspace
}

// resume lets a healthy process settle workspace id once the lease has
// expired, and checks that it ends unchanged or switched to Hetzner as want
// says, with exactly the VM its record names alive and no intent pending.
func (o *outage) resume(t *testing.T, st cloudswitch.Store, id string, before cloudswitch.Workspace, switched bool, opts ...cloudswitch.Option) {
	t.Helper()
	ctx := context.Background()
	o.expireLeases()
	if _, err := o.switcher(t, st, opts...).Resume(ctx, id); err != nil {
		t.Fatalf("Resume once the database is back: %v", err)
	}
	w, err := st.Get(ctx, id)
	require.NoError(t, err)
	if w.Pending != nil {
		t.Fatalf("after Resume an intent is still pending: %+v", w.Pending)
	}
	var want []string
	if w.Instance != nil {
		want = []string{w.Instance.Provider + "/" + w.Instance.ID}
	}
	if live := liveVMs(o.clouds, id); !slices.Equal(live, want) {
		t.Fatalf("after Resume the live VMs are %v but the record names %v", live, want)
	}
	switch {
	case switched && (w.Compute.Provider != cloudswitch.Hetzner || w.Instance == nil):
		t.Fatalf("want the switch finished on hetzner with a VM, got compute %+v instance %+v", w.Compute, w.Instance)
	case !switched && (w.Compute != before.Compute || w.Instance == nil || w.Instance.ID != before.Instance.ID):
		t.Fatalf("want the workspace unchanged (%+v on %s), got %+v on %+v", before.Compute, before.Instance.ID, w.Compute, w.Instance)
	}
}

// losingStore is a Store whose pool is closed just before its closeAt-th
// call, as when the database goes away between two steps of a switch.
type losingStore struct {
	*sqlstore.Store
	db      *sql.DB
	calls   atomic.Int32
	closeAt int32
}

func (s *losingStore) Get(ctx context.Context, id string) (cloudswitch.Workspace, error) {
	s.tick()
	return s.Store.Get(ctx, id)
}

func (s *losingStore) Update(ctx context.Context, w cloudswitch.Workspace) (cloudswitch.Workspace, error) {
	s.tick()
	return s.Store.Update(ctx, w)
}

func (s *losingStore) tick() {
	if s.calls.Add(1) == s.closeAt {
		s.db.Close()
	}
}

// TestDatabaseLostMidSwitch closes the pool before each of the four
// statements of a switch from AWS to Hetzner (read, claim, commit, record).
// The switch must abort (nothing done) or report itself incomplete, never
// succeed; once the database is back, Resume must settle it.
func TestDatabaseLostMidSwitch(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		steps := []struct {
			stage    cloudswitch.Stage
			abort    bool // nothing was done
			switched bool // how Resume settles it
		}{
			{cloudswitch.StageRead, true, false},
			{cloudswitch.StageClaim, false, false}, // the claim never reached the database: nothing to resume
			{cloudswitch.StageCommit, false, true}, // the old VM is gone: forward
			{cloudswitch.StageRecord, false, true}, // the new VM exists: record it
		}
		table := b.newTable(t)
		for i, step := range steps {
			t.Run(fmt.Sprintf("before %s", step.stage), func(t *testing.T) {
				ctx := context.Background()
				o := newOutage()
				id := fmt.Sprintf("ws-%d", i)
				db := b.open(t)
				st := b.storeOn(t, db, table)
				before := o.seed(t, st, id)

				lossy := &losingStore{Store: st, db: db, closeAt: int32(i + 1)}
				_, err := o.switcher(t, lossy).Switch(ctx, id, cloudswitch.Request{
					Compute: cloudswitch.Compute{Provider: cloudswitch.Hetzner}, ConfirmRecreate: true})
				var abort *cloudswitch.AbortError
				var incomplete *cloudswitch.IncompleteError
				switch {
				case err == nil:
					t.Fatalf("the switch succeeded although the database went away before its %s", step.stage)
				case step.abort && !(errors.As(err, &abort) && abort.Stage == step.stage):
					t.Fatalf("database gone before the %s: got %v; want *AbortError at %s", step.stage, err, step.stage)
				case !step.abort && !(errors.As(err, &incomplete) && incomplete.Stage == step.stage):
					t.Fatalf("database gone before the %s: got %v; want *IncompleteError at %s", step.stage, err, step.stage)
				}

				back := b.storeOn(t, b.open(t), table) // the database returns: a new pool
				o.resume(t, back, id, before, step.switched)
			})
		}
	})
}

// TestPostgresRefusingThePoolMidSwitch makes PostgreSQL itself go away for
// one pool between the claim and the commit of a switch: its role may no
// longer log in and its connections are killed. The switch must report
// itself incomplete, reads during the outage must fail rather than say "not
// found", and once the role may log in again the same pool resumes the
// switch.
func TestPostgresRefusingThePoolMidSwitch(t *testing.T) {
	t.Parallel()
	b := postgresBackend(t)
	ctx := context.Background()
	admin := b.open(t)
	table := b.newTable(t)
	b.storeOn(t, admin, table)

	var r [6]byte
	rand.Read(r[:])
	role, password := "cs_role_"+hex.EncodeToString(r[:]), hex.EncodeToString(r[:])
	mustExec(t, admin, `CREATE ROLE `+role+` LOGIN PASSWORD '`+password+`'`)
	t.Cleanup(func() {
		mustExec(t, admin, `DROP OWNED BY `+role)
		mustExec(t, admin, `DROP ROLE `+role)
	})
	mustExec(t, admin, `GRANT SELECT, INSERT, UPDATE, DELETE ON "`+table+`" TO `+role)
	mustExec(t, admin, `GRANT USAGE ON SEQUENCE "`+table+`_version" TO `+role)
	mustExec(t, admin, `GRANT SELECT ON "`+table+`_meta" TO `+role)

	cfg, err := pgx.ParseConfig(postgresDSN(t))
	require.NoError(t, err)
	cfg.User, cfg.Password = role, password
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(4)
	t.Cleanup(func() { db.Close() })
	st, err := sqlstore.New(db, sqlstore.Postgres, sqlstore.WithTable(table))
	require.NoError(t, err)

	o := newOutage()
	before := o.seed(t, st, "ws")
	var readDuringOutage error
	hook := cloudswitch.Hooks{BeforeDeprovision: func(ctx context.Context, w cloudswitch.Workspace) error {
		mustExec(t, admin, `ALTER ROLE `+role+` NOLOGIN`)
		mustExec(t, admin, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1`, role)
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			var n int
			if err := admin.QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity WHERE usename = $1`, role).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("the role's %d connections outlived pg_terminate_backend", n)
			}
		}
		_, readDuringOutage = st.Get(ctx, w.ID)
		return nil
	}}
	_, err = o.switcher(t, st, cloudswitch.WithHooks(hook)).Switch(ctx, "ws", cloudswitch.Request{
		Compute: cloudswitch.Compute{Provider: cloudswitch.Hetzner}, ConfirmRecreate: true})
	var incomplete *cloudswitch.IncompleteError
	// The first write after the hook journals that it ran.
	if !errors.As(err, &incomplete) || incomplete.Stage != cloudswitch.StageHook {
		t.Fatalf("the database refused the pool after the claim: got %v; want *IncompleteError at the hook's journal write", err)
	}
	if readDuringOutage == nil || errors.Is(readDuringOutage, cloudswitch.ErrNotFound) || errors.Is(readDuringOutage, cloudswitch.ErrConflict) {
		t.Fatalf("Get while the database refused the pool: got %v; want an error that is neither ErrNotFound nor ErrConflict", readDuringOutage)
	}

	mustExec(t, admin, `ALTER ROLE `+role+` LOGIN`)
	// The journal requires the hook: the resumer has it too.
	backedUp := cloudswitch.Hooks{BeforeDeprovision: func(context.Context, cloudswitch.Workspace) error { return nil }}
	o.resume(t, st, "ws", before, true, cloudswitch.WithHooks(backedUp))
}

// TestSQLiteLockedMidSwitch holds SQLite's write lock from another
// connection, longer than the Store's busy timeout, between the claim and the
// commit of a switch, as a backup or a long migration of another process
// would. The switch must report itself incomplete; once the lock is released,
// Resume settles it.
func TestSQLiteLockedMidSwitch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := t.TempDir() + "/locked.db"
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(200)&_pragma=journal_mode(WAL)")
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	st, err := sqlstore.New(db, sqlstore.SQLite)
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	require.NoError(t, st.Migrate(ctx))
	other, err := sql.Open("sqlite", sqlstore.SQLiteDSN(path))
	require.NoError(t, err)
	t.Cleanup(func() { other.Close() })
	locker, err := other.Conn(ctx)
	require.NoError(t, err)
	defer locker.Close()

	o := newOutage()
	before := o.seed(t, st, "ws")
	hook := cloudswitch.Hooks{BeforeDeprovision: func(ctx context.Context, _ cloudswitch.Workspace) error {
		_, err := locker.ExecContext(ctx, `BEGIN EXCLUSIVE`)
		return err
	}}
	_, err = o.switcher(t, st, cloudswitch.WithHooks(hook)).Switch(ctx, "ws", cloudswitch.Request{
		Compute: cloudswitch.Compute{Provider: cloudswitch.Hetzner}, ConfirmRecreate: true})
	var incomplete *cloudswitch.IncompleteError
	// The first write after the hook journals that it completed.
	if !errors.As(err, &incomplete) || incomplete.Stage != cloudswitch.StageHook {
		t.Fatalf("the database was locked after the claim: got %v; want *IncompleteError at hook", err)
	}
	if _, err := locker.ExecContext(ctx, `ROLLBACK`); err != nil {
		t.Fatal(err)
	}
	// The journal requires the hook: the resumer has it too.
	backedUp := cloudswitch.Hooks{BeforeDeprovision: func(context.Context, cloudswitch.Workspace) error { return nil }}
	o.resume(t, st, "ws", before, true, cloudswitch.WithHooks(backedUp))
}

func mustExec(t *testing.T, db *sql.DB, query string, args ...any) {
	t.Helper()
	if _, err := db.ExecContext(context.Background(), query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}
