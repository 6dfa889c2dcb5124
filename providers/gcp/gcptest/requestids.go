package gcptest

import "time"

// seenRequest is a requestId the server saw: the operation it started, and
// when.
type seenRequest struct {
	op *operation
	at time.Time
}

// seen returns the operation rid started if the server saw rid within the
// requestId window, and forgets it once the window has passed; s.mu is
// held.
func (s *Server) seen(rid string, now time.Time) *operation {
	if rid == "" {
		return nil
	}
	r, ok := s.requestIDs[rid]
	if !ok {
		return nil
	}
	if now.Sub(r.at) >= s.opts.requestIDWindow {
		delete(s.requestIDs, rid)
		return nil
	}
	return r.op
}

// remember records that rid started op at now; s.mu is held.
func (s *Server) remember(rid string, op *operation, now time.Time) {
	if rid != "" {
		s.requestIDs[rid] = seenRequest{op: op, at: now}
	}
}
