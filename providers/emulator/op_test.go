package emulator

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckOpRefusesAnOperationNotServed(t *testing.T) {
	served := []string{"RunInstances", "TerminateInstances"}
	for _, op := range []string{"", "RunInstances", "TerminateInstances"} {
		if err := CheckOp(op, served); err != nil {
			t.Errorf("CheckOp(%q): %v; want nil", op, err)
		}
	}
	err := CheckOp("RunInstance", served)
	if !errors.Is(err, ErrUnknownOp) {
		t.Fatalf("CheckOp of a typo: %v; want ErrUnknownOp", err)
	}
	if !strings.Contains(err.Error(), `"RunInstance"`) || !strings.Contains(err.Error(), "TerminateInstances") {
		t.Errorf("CheckOp's error %q names neither the typo nor what is served", err)
	}
}
