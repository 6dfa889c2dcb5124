package emulator

import "time"

// Fault is one scripted misbehaviour of an emulator. Every emulator of this
// module takes this type; what a Status without a Code (or a Code without a
// Status) answers is each emulator's choice, documented on its Inject.
type Fault struct {
	// Op is the operation it applies to, one of the emulator's Op
	// constants; "" applies to every operation.
	Op string
	// Times is how many calls it applies to; 0 means every call until
	// ClearFaults.
	Times int
	// Status and Code make the call fail, without effect, with this HTTP
	// status and the cloud's error code (and Message).
	Status  int
	Code    string
	Message string
	// Latency is added before the call is answered (or fails).
	Latency time.Duration
	// Drop makes the call take effect and then closes the connection
	// without an answer, as when a response is lost: the client sees a
	// broken connection (EOF or a reset).
	Drop bool
}

// Decision is what happens to one call.
type Decision struct {
	Status  int
	Code    string
	Message string
	Drop    bool
}

// Fail reports whether the call must fail with an error answer, without
// effect.
func (d Decision) Fail() bool { return d.Status != 0 }

// Completed returns f with its error answer filled in: a Code without a
// Status answers 400, a Status without a Code gets code(Status), and a
// failing fault without a Message gets one naming the emulator and the
// code. A fault that does not fail is returned as it is.
func (f Fault) Completed(emulatorName string, code func(status int) string) Fault {
	if f.Code != "" && f.Status == 0 {
		f.Status = 400
	}
	if f.Status != 0 && f.Code == "" {
		f.Code = code(f.Status)
	}
	if f.Status != 0 && f.Message == "" {
		f.Message = emulatorName + ": injected fault " + f.Code
	}
	return f
}
