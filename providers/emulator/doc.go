// Package emulator is the shared shape of this module's cloud emulators
// (awstest, hetznertest, gcptest): the fault vocabulary every emulator
// takes, and the machinery that applies it. A third party writing an
// emulator of another cloud can use it too, and its tests then read like
// those of this module.
//
// An emulator names its operations (an EC2 action, "POST /servers", …) in
// Op constants, checks a Fault's Op against them with CheckOp, queues it on
// an Injector, calls Take at the start of each request, and acts on the
// Decision:
//
//	d := s.faults.Take(ctx, OpRunInstances) // counts the call, sleeps its latency
//	if d.Fail() { writeError(w, d.Status, d.Code, d.Message); return }
//	… perform the call …
//	if d.Drop { emulator.DropConnection(w); return } // effect taken, answer lost
//	… write the answer …
//
// Every emulator of this module spells the same things the same way:
// Inject(Fault), ClearFaults, SetLatency, SetListLag, SetPageSize,
// CallCount(op), ResetCalls, Instances (its own ground truth), Live (the
// ground truth as cloudswitch.Instance values) and Harness (a ready
// providertest.Harness for a driver talking to it).
package emulator
