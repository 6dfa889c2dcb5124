package main

import (
	"bufio"
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/fleet"
	"github.com/cloudswitch/cloudswitch/store/sqlstore"
)

// seedDB creates a SQLite workspace database holding n workspaces on AWS,
// without VMs, in a directory of its own: the emulated clouds the commands
// keep beside it start empty.
func seedDB(t *testing.T, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "workspaces.db")
	db, err := sql.Open("sqlite", sqlstore.SQLiteDSN(path))
	require.NoError(t, err)
	defer db.Close()
	store, err := sqlstore.New(db, sqlstore.SQLite)
	require.NoError(t, err)
	defer store.Close()
	require.NoError(t, store.Migrate(t.Context()))
	for i := range n {
		_, err := store.Create(t.Context(), cloudswitch.Workspace{
			ID: fmt.Sprintf("ws-%03d", i), Compute: cloudswitch.Compute{Provider: cloudswitch.AWS, InstanceType: "t3.medium"}})
		require.NoError(t, err)
	}
	return path
}

// editDB changes one workspace's instance type, as someone else would.
func editDB(t *testing.T, path, id string) {
	t.Helper()
	db, err := sql.Open("sqlite", sqlstore.SQLiteDSN(path))
	require.NoError(t, err)
	defer db.Close()
	store, err := sqlstore.New(db, sqlstore.SQLite)
	require.NoError(t, err)
	defer store.Close()
	w, err := store.Get(t.Context(), id)
	require.NoError(t, err)
	w.Compute.InstanceType = "t3.large"
	_, err = store.Update(t.Context(), w)
	require.NoError(t, err)
}

type result struct {
	code     int
	out, err string
}

// cli runs the command as a user would, with stdout not a terminal.
func cli(t *testing.T, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	std := stdio{in: strings.NewReader(""), out: &out, err: &errOut, getenv: func(string) string { return "" }}
	code := run(t.Context(), t.Context(), args, std)
	return result{code: code, out: out.String(), err: errOut.String()}
}

// jsonLines decodes every line of out into a map.
func jsonLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var m map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m), "every line is a JSON object: %q", sc.Text())
		lines = append(lines, m)
	}
	return lines
}

func countEvents(lines []map[string]any, kind string) int {
	n := 0
	for _, l := range lines {
		if l["event"] == kind {
			n++
		}
	}
	return n
}

func TestPlanThenApplyThenStatusAsAnOperatorDoes(t *testing.T) {
	db := seedDB(t, 6)
	planFile := filepath.Join(t.TempDir(), "move.plan")

	r := cli(t, "plan", "-db", db, "-where-provider", "aws", "-provider", "hetzner", "-confirm-recreate")
	require.Equal(t, exitOK, r.code, r.err)
	assert.Contains(t, r.out, "WORKSPACE", "plan prints a table to review")
	assert.Contains(t, r.out, "recreate")
	assert.Contains(t, r.out, "6 workspaces: 6 recreate")

	r = cli(t, "plan", "-db", db, "-where-provider", "aws", "-provider", "hetzner", "-confirm-recreate", "-out", planFile)
	require.Equal(t, exitOK, r.code, r.err)
	assert.Contains(t, r.err, "plan saved to")

	r = cli(t, "apply", "-db", db, "-plan", planFile, "-concurrency", "3", "-rate", "hetzner=1000")
	require.Equal(t, exitOK, r.code, r.err)
	lines := jsonLines(t, r.out)
	assert.Equal(t, 6, countEvents(lines, "started"))
	assert.Equal(t, 6, countEvents(lines, "done"))
	last := lines[len(lines)-1]
	assert.Equal(t, "summary", last["event"], "the last line is the summary")

	r = cli(t, "status", "-db", db)
	require.Equal(t, exitOK, r.code, r.err)
	rows := jsonLines(t, r.out)
	require.Len(t, rows, 6)
	for _, row := range rows {
		assert.Equal(t, "hetzner", row["compute"].(map[string]any)["provider"], "%v", row)
		assert.NotNil(t, row["instance"], "%v has its new VM", row["id"])
	}

	wantEveryRecordBacked(t, db)

	// Applying the plan again continues, and finds everything done.
	r = cli(t, "apply", "-db", db, "-plan", planFile)
	require.Equal(t, exitOK, r.code, r.err)
	assert.Equal(t, 6, countEvents(jsonLines(t, r.out), "skipped"))
	wantEveryRecordBacked(t, db)
}

func TestApplyInlineWithoutAPlanFile(t *testing.T) {
	db := seedDB(t, 3)
	r := cli(t, "apply", "-db", db, "-ids", "ws-000,ws-002", "-provider", "gcp", "-confirm-recreate", "-canary", "1")
	require.Equal(t, exitOK, r.code, r.err+r.out)
	lines := jsonLines(t, r.out)
	assert.Equal(t, 2, countEvents(lines, "done"))
	assert.Equal(t, 1, countEvents(lines, "canary"))
}

func TestExitCodesTellSuccessPartialFailureAndRefusal(t *testing.T) {
	db := seedDB(t, 3)
	r := cli(t, "plan", "-db", db, "-all", "-provider", "hetzner", "-type", "t3.medium", "-confirm-recreate")
	assert.Equal(t, exitRefused, r.code, "a target the allowlist refuses: %s", r.err)
	assert.Contains(t, r.err, "instance_type")

	r = cli(t, "plan", "-db", db, "-all", "-provider", "hetzner")
	assert.Equal(t, exitRefused, r.code, "every step refused (no -confirm-recreate): %s", r.err)

	planFile := filepath.Join(t.TempDir(), "p.plan")
	require.Equal(t, exitOK, cli(t, "plan", "-db", db, "-all", "-provider", "hetzner", "-confirm-recreate", "-out", planFile).code)
	editDB(t, db, "ws-001")
	r = cli(t, "apply", "-db", db, "-plan", planFile)
	assert.Equal(t, exitPartial, r.code, "one workspace changed since planning: partial")
	assert.Equal(t, 1, countEvents(jsonLines(t, r.out), "refused"))

	db2 := seedDB(t, 2)
	plan2 := filepath.Join(t.TempDir(), "p2.plan")
	require.Equal(t, exitOK, cli(t, "plan", "-db", db2, "-all", "-provider", "hetzner", "-confirm-recreate", "-out", plan2).code)
	editDB(t, db2, "ws-000")
	editDB(t, db2, "ws-001")
	r = cli(t, "apply", "-db", db2, "-plan", plan2)
	assert.Equal(t, exitRefused, r.code, "every workspace changed since planning: refused")

	assert.Equal(t, exitUsage, cli(t, "apply", "-db", db).code, "neither a plan nor a selection")
	assert.Equal(t, exitUsage, cli(t, "frobnicate").code)
	assert.Equal(t, exitOK, cli(t, "plan", "-h").code)
}

func TestPlanJSONIsThePlanFileFormat(t *testing.T) {
	db := seedDB(t, 2)
	r := cli(t, "plan", "-db", db, "-ids", "ws-000,nope", "-type", "t3.large", "-json")
	require.Equal(t, exitOK, r.code, r.err)
	h, steps, err := fleet.ReadPlan(strings.NewReader(r.out))
	require.NoError(t, err)
	assert.Equal(t, "t3.large", h.Request.Compute.InstanceType)
	var actions []fleet.Action
	for s, err := range steps {
		require.NoError(t, err)
		actions = append(actions, s.Action)
	}
	assert.Equal(t, []fleet.Action{fleet.ActionProvision, fleet.ActionRefuse}, actions)
}

func TestResumeAndReconcileReportAsJSON(t *testing.T) {
	db := seedDB(t, 2)
	r := cli(t, "resume", "-db", db)
	assert.Equal(t, exitOK, r.code, r.err)
	assert.Empty(t, r.out, "nothing pending, nothing resumed")
	r = cli(t, "reconcile", "-db", db)
	require.Equal(t, exitOK, r.code, r.err)
	lines := jsonLines(t, r.out)
	require.Len(t, lines, 1)
	assert.Contains(t, lines[0], "orphans")
}

func TestEnvironmentVariablesStandInForConnectionFlagsOnly(t *testing.T) {
	db := seedDB(t, 1)
	var out, errOut bytes.Buffer
	env := map[string]string{"CLOUDSWITCH_DB": db, "CLOUDSWITCH_PROVIDER": "hetzner", "CLOUDSWITCH_CONFIRM_RECREATE": "true"}
	std := stdio{in: strings.NewReader(""), out: &out, err: &errOut, getenv: func(k string) string { return env[k] }}
	require.Equal(t, exitOK, run(t.Context(), t.Context(), []string{"status"}, std), errOut.String())
	assert.Contains(t, out.String(), "ws-000")

	// What to do is never taken from the environment: the plan keeps the
	// provider, since -provider was not given.
	out.Reset()
	require.Equal(t, exitOK, run(t.Context(), t.Context(), []string{"plan", "-all", "-json"}, std), errOut.String())
	assert.NotContains(t, out.String(), `"recreate"`)
}

func TestCanaryCheckCommandDecidesWhetherTheRestGoesOn(t *testing.T) {
	db := seedDB(t, 8)
	r := cli(t, "apply", "-db", db, "-all", "-provider", "hetzner", "-confirm-recreate", "-canary", "2", "-canary-check", "exit 1")
	assert.Equal(t, exitPartial, r.code, r.err)
	lines := jsonLines(t, r.out)
	assert.Equal(t, 2, countEvents(lines, "done"), "only the canary switched")
	assert.Equal(t, 1, countEvents(lines, "stopped"))

	r = cli(t, "apply", "-db", db, "-all", "-provider", "hetzner", "-confirm-recreate", "-canary", "2", "-canary-check", "true")
	assert.Equal(t, exitOK, r.code, r.err)
	assert.Equal(t, 6, countEvents(jsonLines(t, r.out), "done"), "the rest went on after the check passed")
	wantEveryRecordBacked(t, db)
}

func TestConfigurationErrorsAreUsageErrors(t *testing.T) {
	db := seedDB(t, 1)
	r := cli(t, "status", "-db", db, "-aws", "off", "-hetzner", "off", "-gcp", "off")
	assert.Equal(t, exitUsage, r.code, r.err)
	assert.Contains(t, r.err, "every provider is off")

	dir := t.TempDir()
	r = cli(t, "status", "-db", "host="+dir+" user=app password=hunter2")
	assert.Equal(t, exitUsage, r.code, r.err)
	assert.NotContains(t, r.err, "hunter2")
	matches, _ := filepath.Glob(filepath.Join(dir, "*"))
	assert.Empty(t, matches, "a file was created from the connection string")

	r = cli(t, "status", "-db", db, "-lease", "0s")
	assert.Equal(t, exitUsage, r.code, r.err)
}

func TestTheConnectionFlagsAndOnlyThemNameTheirEnvironmentVariable(t *testing.T) {
	r := cli(t, "apply", "-h")
	require.Equal(t, exitOK, r.code)
	for _, name := range []string{"DB", "AWS", "HETZNER", "GCP", "EMULATORS", "AWS_IMAGE", "AWS_REGIONS", "GCP_PROJECT", "GCP_ZONE",
		"OWNER", "LEASE", "ALLOWLIST", "V"} {
		assert.Contains(t, r.err, "(env CLOUDSWITCH_"+name+")")
	}
	for _, name := range []string{"ALL", "PROVIDER", "PLAN", "CONCURRENCY", "RATE", "CONFIRM_RECREATE"} {
		assert.NotContains(t, r.err, "(env CLOUDSWITCH_"+name+")")
	}
}
