package soak

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// The lines a worker writes to its stderr for the parent. Every other line
// is relayed to the test log as it is.
const (
	// beginMarker starts a switch: "SOAK-BEGIN <round> <workspace>". The
	// parent times its kill by them.
	beginMarker = "SOAK-BEGIN"
	// summaryMarker ends a worker: "SOAK-SUMMARY <tally as JSON>".
	summaryMarker = "SOAK-SUMMARY"
)

// tally is what one worker did, or, summed, what all of them did.
type tally struct {
	Rounds      int            `json:"rounds"`
	Switches    map[string]int `json:"switches"` // Switch calls by outcome
	Resumes     map[string]int `json:"resumes"`  // Resume calls, explicit or a Reconciler's, by outcome
	Passes      int            `json:"passes"`   // Reconciler passes
	Orphans     int            `json:"orphans"`  // reported by those passes
	Deleted     int            `json:"deleted"`
	PassErrors  int            `json:"pass_errors"` // errors of those passes (faults cause them)
	Injected    map[string]int `json:"injected"`    // provider calls the injector failed, by fate
	CloudFaults int            `json:"cloud_faults"`
}

func newTally() tally {
	return tally{Switches: map[string]int{}, Resumes: map[string]int{}, Injected: map[string]int{}}
}

// add sums o into t.
func (t *tally) add(o tally) {
	t.Rounds += o.Rounds
	t.Passes += o.Passes
	t.Orphans += o.Orphans
	t.Deleted += o.Deleted
	t.PassErrors += o.PassErrors
	t.CloudFaults += o.CloudFaults
	for _, pair := range []struct{ dst, src map[string]int }{
		{t.Switches, o.Switches}, {t.Resumes, o.Resumes}, {t.Injected, o.Injected},
	} {
		for k, n := range pair.src {
			pair.dst[k] += n
		}
	}
}

// summaryLine is the line a worker ends with.
func (t tally) summaryLine() (string, error) {
	b, err := json.Marshal(t)
	if err != nil {
		return "", fmt.Errorf("encoding the summary: %w", err)
	}
	return summaryMarker + " " + string(b), nil
}

// parseSummary decodes a summary line's JSON.
func parseSummary(payload string) (tally, error) {
	t := newTally()
	if err := json.Unmarshal([]byte(payload), &t); err != nil {
		return t, fmt.Errorf("decoding a worker's summary %q: %w", payload, err)
	}
	return t, nil
}

func (t tally) String() string {
	return fmt.Sprintf("%d rounds; switches %s; resumes %s; %d reconciler passes (%d orphans reported, %d deleted, %d pass errors); injected faults %s, %d in the emulators",
		t.Rounds, counts(t.Switches), counts(t.Resumes), t.Passes, t.Orphans, t.Deleted, t.PassErrors, counts(t.Injected), t.CloudFaults)
}

// counts spells a map of counts in key order.
func counts(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s=%d", k, m[k]))
	}
	return strings.Join(parts, " ")
}
