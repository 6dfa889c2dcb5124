package awstest

import (
	"net/url"
	"regexp"
	"strings"
	"time"
)

// instanceID is the shape of an instance id: "i-" and 8 or 17 hex digits.
var instanceID = regexp.MustCompile(`^i-[0-9a-f]{8}([0-9a-f]{9})?$`)

// instanceIDs reads InstanceId.N, checking each id's shape.
func instanceIDs(form url.Values) ([]string, *apiError) {
	ids, aerr := list(form, "InstanceId")
	if aerr != nil {
		return nil, aerr
	}
	seen := make(map[string]bool, len(ids))
	out := ids[:0]
	for _, id := range ids {
		if !instanceID.MatchString(id) {
			return nil, badRequest("InvalidInstanceID.Malformed", "Invalid id: %q", id)
		}
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out, nil
}

// lookup returns the instances of region with these ids, or
// InvalidInstanceID.NotFound naming those it does not know: an instance of
// another region (EC2 scopes ids to a region), one launched within the
// consistency delay (EC2 is eventually consistent), one terminated longer
// ago than the terminated-visibility window, and, with visibleOnly, one
// still within the listing lag. s.mu is held.
func (s *Server) lookup(region string, ids []string, now time.Time, visibleOnly bool) ([]*vm, *apiError) {
	var found []*vm
	var missing []string
	for _, id := range ids {
		v := s.byID[id]
		if v == nil || v.region != region || now.Before(v.knownAt) || s.forgotten(v, now) || (visibleOnly && now.Before(v.visibleAt)) {
			missing = append(missing, id)
			continue
		}
		found = append(found, v)
	}
	switch len(missing) {
	case 0:
		return found, nil
	case 1:
		return nil, badRequest("InvalidInstanceID.NotFound", "The instance ID '%s' does not exist", missing[0])
	default:
		return nil, badRequest("InvalidInstanceID.NotFound", "The instance IDs '%s' do not exist", strings.Join(missing, ", "))
	}
}

// terminateInstances moves instances to shutting-down (and, per the
// server's shutdown time, on to terminated). Terminating an instance that is
// shutting down or terminated already changes nothing and succeeds.
func (s *Server) terminateInstances(region string, form url.Values) (any, *apiError) {
	ids, aerr := instanceIDs(form)
	if aerr != nil {
		return nil, aerr
	}
	if len(ids) == 0 {
		return nil, badRequest("MissingParameter", "The request must contain the parameter InstanceId.")
	}
	if isTrue(form.Get("DryRun")) {
		return nil, errDryRun
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	vms, aerr := s.lookup(region, ids, now, false)
	if aerr != nil {
		return nil, aerr
	}
	answer := terminateInstancesResponse{Xmlns: namespace, RequestID: newRequestID()}
	for _, v := range vms {
		s.advance(v, now, false)
		prev := v.state
		if v.state != StateShuttingDown && v.state != StateTerminated {
			v.state, v.since, v.ending, v.reason = StateShuttingDown, now, now, "Client.UserInitiatedShutdown"
		}
		answer.Instances.Items = append(answer.Instances.Items, stateChangeXML{
			InstanceID: v.id,
			Current:    stateXML{Code: stateCodes[v.state], Name: v.state},
			Previous:   stateXML{Code: stateCodes[prev], Name: prev},
		})
	}
	return answer, nil
}
