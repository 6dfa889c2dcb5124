// Package soak proves the no-orphan guarantee on real processes: several OS
// processes of one test binary share one database and one emulated cloud
// (EC2, Hetzner Cloud and Compute Engine, served by internal/emulated), run
// random switches and Reconciler passes under injected faults, and one of
// them is SIGKILLed mid-run and started again. When they are done, every live
// VM must be the one its workspace record names, no intent may be pending and
// no workspace row may be lost.
//
// The package holds nothing but that test. TestSoak is the parent: it starts
// the emulators, the database table and the workspaces, and re-executes its
// own test binary as the workers (TestSoakWorker, which does nothing unless
// the parent started it). It runs on the PostgreSQL database named by
// CLOUDSWITCH_TEST_POSTGRES_DSN, as in CI, and otherwise on a SQLite file
// in WAL mode that every process opens; with CLOUDSWITCH_REQUIRE_POSTGRES=1
// a missing DSN is a failure. -short skips it.
//
//	go test -race -run TestSoak -v ./internal/soak
//
// The seed of the random choices is logged. CLOUDSWITCH_SOAK_SEED=N starts
// a run from it again — which worker dies and when, each worker's seed — but
// the processes interleave differently every time, and what happens next
// depends on it. CLOUDSWITCH_SOAK_ROUNDS=N changes how many switches each
// worker attempts.
package soak
