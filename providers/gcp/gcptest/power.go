package gcptest

import (
	"io"
	"net/http"
	"slices"
	"time"

	"cloud.google.com/go/compute/apiv1/computepb"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// stoppedStatuses are the statuses of an instance that is stopped.
var stoppedStatuses = []string{StatusTerminated, StatusStopped}

// powerCall reads what every stop, start and setMachineType starts with:
// the requestId and the instance, or the answer already due; s.mu is held.
func (s *Server) powerCall(r *http.Request, now time.Time) (string, *vm, proto.Message, *apiError) {
	rid, aerr := requestID(r)
	if aerr != nil {
		return "", nil, nil, aerr
	}
	s.settle(now)
	if _, ok := s.zones[r.PathValue("zone")]; ok {
		if op := s.seen(rid, now); op != nil {
			return "", nil, s.operationProto(op), nil
		}
	}
	v, aerr := s.lookup(r.PathValue("zone"), r.PathValue("instance"))
	if aerr != nil {
		return "", nil, nil, aerr
	}
	if s.opts.resourceNotReady && s.busy(v) {
		return "", nil, nil, errorf(http.StatusBadRequest, "resourceNotReady", "The resource '%s' is not ready", instancePath(s.opts.project, v.zone, v.name))
	}
	return rid, v, nil, nil
}

// stop serves instances.stop: POST …/instances/{instance}/stop. The
// instance is STOPPING until the operation is DONE, then TERMINATED; a
// stopped instance stays so.
func (s *Server) stop(r *http.Request, now time.Time) (proto.Message, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rid, v, answer, aerr := s.powerCall(r, now)
	if v == nil {
		return answer, aerr
	}
	op := s.newOperation("stop", OpStop, v, now)
	op.prevStatus = v.status
	if !slices.Contains(stoppedStatuses, v.status) {
		v.status = StatusStopping
	}
	s.remember(rid, op, now)
	return s.operationProto(op), nil
}

// start serves instances.start: POST …/instances/{instance}/start. A
// stopped instance is STAGING until the operation is DONE, then RUNNING; a
// running one stays so.
func (s *Server) start(r *http.Request, now time.Time) (proto.Message, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rid, v, answer, aerr := s.powerCall(r, now)
	if v == nil {
		return answer, aerr
	}
	op := s.newOperation("start", OpStart, v, now)
	op.prevStatus = v.status
	if slices.Contains(stoppedStatuses, v.status) {
		v.status = StatusStaging
	}
	s.remember(rid, op, now)
	return s.operationProto(op), nil
}

// setMachineType serves instances.setMachineType: POST
// …/instances/{instance}/setMachineType with {"machineType":
// "zones/ZONE/machineTypes/TYPE"}. The instance must be stopped, and the
// zone must offer the type; the type changes when the operation is DONE.
func (s *Server) setMachineType(r *http.Request, now time.Time) (proto.Message, *apiError) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, invalid("Invalid JSON payload received: %v", err)
	}
	var in computepb.InstancesSetMachineTypeRequest
	if err := protojson.Unmarshal(body, &in); err != nil {
		return nil, invalid("Invalid JSON payload received: %v", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rid, v, answer, aerr := s.powerCall(r, now)
	if v == nil {
		return answer, aerr
	}
	mt, ok := machineType(v.zone, in.GetMachineType())
	switch {
	case !ok:
		return nil, invalid("Invalid value for field 'resource.machineType': '%s'. Machine type must be zones/%s/machineTypes/TYPE.", in.GetMachineType(), v.zone)
	case !s.hasMachineType(v.zone, mt):
		return nil, invalid("Invalid value for field 'resource.machineType': '%s'. Machine type with name '%s' does not exist in zone '%s'.", in.GetMachineType(), mt, v.zone)
	case !slices.Contains(stoppedStatuses, v.status):
		return nil, errorf(http.StatusBadRequest, "invalidResourceUsage", "Invalid resource usage: 'Instance '%s' must be stopped to change its machine type.'", v.name)
	}
	op := s.newOperation("setMachineType", OpSetMachineType, v, now)
	op.prevStatus = v.status
	op.machineType = mt
	s.remember(rid, op, now)
	return s.operationProto(op), nil
}
