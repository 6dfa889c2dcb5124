package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/cloudswitch/cloudswitch"
)

// The error-to-status table, error by error, including the cases the
// handler tests cannot easily provoke.
func TestProblemForMapsEveryErrorOfSwitchAndResume(t *testing.T) {
	read := cloudswitch.Result{Workspace: cloudswitch.Workspace{ID: "ws-1", Version: 7,
		Compute: cloudswitch.Compute{Provider: cloudswitch.AWS}}}
	incomplete := &cloudswitch.IncompleteError{Stage: cloudswitch.StageDeprovision, WorkspaceID: "ws-1",
		IntentID: "abc", Err: cloudswitch.ErrTransient}
	for _, tc := range []struct {
		name      string
		err       error
		ifVersion int64
		status    int
		typ       string
	}{
		{"incomplete", incomplete, 0, http.StatusAccepted, typeIncomplete},
		{"incomplete, taken over by another process", &cloudswitch.IncompleteError{Stage: cloudswitch.StageCommit,
			WorkspaceID: "ws-1", IntentID: "abc", Err: cloudswitch.ErrSwitchInProgress}, 0, http.StatusAccepted, typeIncomplete},
		{"aborted at read", &cloudswitch.AbortError{Stage: cloudswitch.StageRead, WorkspaceID: "ws-1",
			Err: errors.New("database is closed")}, 0, http.StatusServiceUnavailable, typeUnavailable},
		{"aborted at deprovision", &cloudswitch.AbortError{Stage: cloudswitch.StageDeprovision, WorkspaceID: "ws-1",
			Err: errors.New("403 forbidden")}, 0, http.StatusBadGateway, typeAborted},
		{"aborted: unknown stored provider", &cloudswitch.AbortError{Stage: cloudswitch.StageValidate, WorkspaceID: "ws-1",
			Err: cloudswitch.ErrUnknownProvider}, 0, http.StatusBadGateway, typeAborted},
		{"invalid", &cloudswitch.ValidationError{Field: "region", Value: "EU West", Reason: "must be lowercase"}, 0,
			http.StatusBadRequest, typeInvalid},
		{"confirmation required", fmt.Errorf("ws-1: %w", cloudswitch.ErrConfirmRequired), 0,
			http.StatusPreconditionRequired, typeConfirmRequired},
		{"not found", fmt.Errorf("ws-1: %w", cloudswitch.ErrNotFound), 0, http.StatusNotFound, typeNotFound},
		{"in progress", fmt.Errorf("ws-1: %w", cloudswitch.ErrSwitchInProgress), 0, http.StatusConflict, typeInProgress},
		{"in progress, with If-Match", fmt.Errorf("ws-1: %w", cloudswitch.ErrSwitchInProgress), 7,
			http.StatusConflict, typeInProgress},
		{"version conflict, with If-Match", fmt.Errorf("ws-1: %w", cloudswitch.ErrConflict), 6,
			http.StatusPreconditionFailed, typeVersionMismatch},
		{"changed under the request, with If-Match", fmt.Errorf("ws-1: %w", cloudswitch.ErrConflict), 7,
			http.StatusPreconditionFailed, typeVersionMismatch},
		{"changed under the request", fmt.Errorf("ws-1: %w", cloudswitch.ErrConflict), 0, http.StatusConflict, typeConflict},
		{"cancelled", context.Canceled, 0, http.StatusServiceUnavailable, typeUnavailable},
		{"something else", errors.New("boom"), 0, http.StatusInternalServerError, typeInternal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := problemFor("ws-1", cloudswitch.Request{IfVersion: tc.ifVersion}, read, tc.err)
			if p.Status != tc.status || p.Type != tc.typ {
				t.Errorf("status %d %s, want %d %s", p.Status, p.Type, tc.status, tc.typ)
			}
			if p.Workspace != "ws-1" || p.Title == "" || p.Detail == "" {
				t.Errorf("incomplete problem %+v", p)
			}
		})
	}
}

func TestProblemsNeverCarryTheTextOfUnknownErrors(t *testing.T) {
	p := problemFor("ws-1", cloudswitch.Request{}, cloudswitch.Result{},
		errors.New("dial tcp: password=hunter2 rejected"))
	if p.Status != http.StatusInternalServerError || containsAny(p.Detail, "hunter2", "dial") {
		t.Errorf("problem %+v", p)
	}
	p = storeProblem("ws-1", errors.New("pq: password authentication failed for user secret-user"))
	if p.Status != http.StatusServiceUnavailable || containsAny(p.Detail, "secret-user", "password") {
		t.Errorf("problem %+v", p)
	}
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
