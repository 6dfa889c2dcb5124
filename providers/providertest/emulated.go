package providertest

import (
	"context"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/providers/emulator"
)

// Emulator is a cloud emulator built on package emulator, as this module's
// awstest, hetznertest and gcptest are: it takes scripted faults, counts
// the calls of each operation, pages its listings and shows its ground
// truth.
type Emulator interface {
	// Inject queues f; it fails on an operation the emulator does not
	// serve.
	Inject(f emulator.Fault) error
	// CallCount returns how many calls op received.
	CallCount(op string) int
	// SetPageSize limits how many VMs one page of a listing holds.
	SetPageSize(n int)
	// Live returns every VM that exists now, whatever the listing delays.
	Live() []cloudswitch.Instance
}

// Emulated returns a Harness whose Fail, LoseResponse, SetPageSize,
// ListCalls and Live levers are served by e. ops names the emulator's
// operation that carries out each Op; answers is the cloud's answer to each
// FaultKind (its HTTP status and error code). The caller sets Provider,
// Name and Compute, and whatever other levers its emulator serves.
func Emulated(e Emulator, ops map[Op]string, answers map[FaultKind]emulator.Fault) Harness {
	return Harness{
		Fail: func(op Op, n int, kind FaultKind) {
			f := answers[kind]
			f.Op, f.Times = ops[op], n
			_ = e.Inject(f) // an unknown operation is the emulator's to report
		},
		LoseResponse: func(op Op) { _ = e.Inject(emulator.Fault{Op: ops[op], Times: 1, Drop: true}) },
		SetPageSize:  e.SetPageSize,
		ListCalls:    func() int { return e.CallCount(ops[OpList]) },
		Live:         func(context.Context) ([]cloudswitch.Instance, error) { return e.Live(), nil },
	}
}
