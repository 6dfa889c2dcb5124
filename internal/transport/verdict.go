package transport

// Verdict is what a failure means to the caller of a cloud API.
type Verdict struct {
	// Cancelled: the caller's context ended. The failure is the context's,
	// neither transient nor refused.
	Cancelled bool
	// Transient: the same call may succeed when retried.
	Transient bool
	// Refused: the cloud certainly did not act on the call, because the
	// request never left this process.
	Refused bool
}
