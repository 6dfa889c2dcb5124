package gcptest

import (
	"net/http"
	"time"

	"google.golang.org/protobuf/proto"
)

// getOperation serves zoneOperations.get: GET
// …/zones/{zone}/operations/{operation}. An operation whose time has come is
// DONE by the time it is answered, so a client that polls at once never
// waits (with the default operation time of 0).
func (s *Server) getOperation(r *http.Request, now time.Time) (proto.Message, *apiError) {
	zone, name := r.PathValue("zone"), r.PathValue("operation")
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settle(now)
	z, ok := s.zones[zone]
	if !ok {
		return nil, notFound(zonePath(s.opts.project, zone))
	}
	op, ok := z.ops[name]
	if !ok {
		return nil, notFound(operationPath(s.opts.project, zone, name))
	}
	return s.operationProto(op), nil
}
