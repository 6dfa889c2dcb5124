package soak

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/cloudswitch/cloudswitch"
)

// The shape of a soak run.
const (
	workers        = 4   // worker processes running at once
	workspaces     = 16  // shared by every worker, spread over the three clouds
	defaultRounds  = 150 // switches each worker attempts
	reconcileEvery = 6   // a worker runs a Reconciler pass every this many rounds

	// lease is short so that the intents of the killed worker are taken
	// over within the run; grace is longer, so that no Reconciler pass ever
	// judges a VM a switch in flight may still record.
	lease = 2500 * time.Millisecond
	grace = 4 * lease

	// budget bounds the whole run; it is a failure guard, never a
	// measurement: a healthy run takes a fraction of it.
	budget = 4 * time.Minute
)

// owner is the ownership tag of every VM of the soak.
const owner = "cloudswitch-soak"

// retryPolicy is fast, so that retries run out within a round and the
// switches that give up are resumed by someone else.
var retryPolicy = cloudswitch.RetryPolicy{
	InitialInterval: 5 * time.Millisecond,
	MaxInterval:     40 * time.Millisecond,
	MaxElapsedTime:  time.Second,
	MaxAttempts:     4,
}

// baseOptions are the options of every Switcher of the soak, and the resume
// options of every Reconciler.
func baseOptions(extra ...cloudswitch.Option) []cloudswitch.Option {
	return append([]cloudswitch.Option{
		cloudswitch.WithOwner(owner),
		cloudswitch.WithLease(lease),
		cloudswitch.WithRetryPolicy(retryPolicy),
	}, extra...)
}

// The environment of a soak run.
const (
	// envPostgresDSN and envRequirePostgres are CI's: .ci/run starts a
	// throwaway PostgreSQL and sets both.
	envPostgresDSN     = "CLOUDSWITCH_TEST_POSTGRES_DSN"
	envRequirePostgres = "CLOUDSWITCH_REQUIRE_POSTGRES"

	// envSeed and envRounds let a developer replay a run's random choices
	// and make it longer or shorter.
	envSeed   = "CLOUDSWITCH_SOAK_SEED"
	envRounds = "CLOUDSWITCH_SOAK_ROUNDS"

	// envWorker holds a worker's configuration as JSON. Only the parent sets
	// it, on the processes it starts; TestSoakWorker skips without it.
	envWorker = "CLOUDSWITCH_SOAK_WORKER"
)

// workerConfig is everything a worker process needs to know.
type workerConfig struct {
	Name       string    `json:"name"`
	Database   database  `json:"database"`
	ControlURL string    `json:"control_url"` // the emulators' control API
	Workspaces []string  `json:"workspaces"`
	Seed       uint64    `json:"seed"`
	Rounds     int       `json:"rounds"`
	Deadline   time.Time `json:"deadline"` // a failure guard
}

// environ returns the environment of a worker process with cfg.
func (cfg workerConfig) environ() ([]string, error) {
	b, err := json.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("encoding the configuration of %s: %w", cfg.Name, err)
	}
	return append(os.Environ(), envWorker+"="+string(b)), nil
}

// workerFromEnv returns the configuration the parent gave this process, and
// false when this process is not a worker.
func workerFromEnv() (workerConfig, bool, error) {
	v, ok := os.LookupEnv(envWorker)
	if !ok {
		return workerConfig{}, false, nil
	}
	var cfg workerConfig
	if err := json.Unmarshal([]byte(v), &cfg); err != nil {
		return cfg, true, fmt.Errorf("decoding %s: %w", envWorker, err)
	}
	return cfg, true, nil
}

// envUint returns the unsigned integer in environment variable name, or def
// when it is unset.
func envUint(name string, def uint64) (uint64, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s=%q is not a non-negative integer: %w", name, v, err)
	}
	return n, nil
}
