package cloudswitch

import (
	"errors"
	"fmt"
	"testing"
)

type apiError struct{ code string }

func (e *apiError) Error() string { return e.code }

func TestAfterEffectIsNeverARefusalButKeepsEveryOtherClass(t *testing.T) {
	cause := fmt.Errorf("modify: %w: %w", ErrTransient, Refused(&apiError{code: "RequestLimitExceeded"}))
	err := AfterEffect(cause)
	if errors.Is(err, ErrRefused) {
		t.Fatal("an error after the effect matches ErrRefused")
	}
	if !errors.Is(err, ErrTransient) {
		t.Fatal("the transient class was lost")
	}
	var api *apiError
	if !errors.As(err, &api) || api.code != "RequestLimitExceeded" {
		t.Fatal("errors.As no longer reaches the cause")
	}
	if AfterEffect(nil) != nil {
		t.Fatal("AfterEffect(nil) must be nil")
	}
	plain := errors.New("x")
	if AfterEffect(plain) != plain {
		t.Fatal("an error that is no refusal is returned as it is")
	}
}
