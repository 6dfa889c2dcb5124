package awstest

import (
	"encoding/xml"
	"net/url"
)

// StopInstances, StartInstances and ModifyInstanceAttribute (InstanceType),
// as EC2 documents them in "Stop and start Amazon EC2 instances" and "Change
// the instance type" (EC2 User Guide): an instance is stopped to change its
// type, which only a stopped instance accepts. Stopping takes the shutdown
// time (WithShutdownTime) and starting the boot time (WithBootTime).

type stopInstancesResponse struct {
	XMLName   xml.Name          `xml:"StopInstancesResponse"`
	Xmlns     string            `xml:"xmlns,attr"`
	RequestID string            `xml:"requestId"`
	Instances stateChangeSetXML `xml:"instancesSet"`
}

type startInstancesResponse struct {
	XMLName   xml.Name          `xml:"StartInstancesResponse"`
	Xmlns     string            `xml:"xmlns,attr"`
	RequestID string            `xml:"requestId"`
	Instances stateChangeSetXML `xml:"instancesSet"`
}

type modifyInstanceAttributeResponse struct {
	XMLName   xml.Name `xml:"ModifyInstanceAttributeResponse"`
	Xmlns     string   `xml:"xmlns,attr"`
	RequestID string   `xml:"requestId"`
	Return    bool     `xml:"return"`
}

// transition moves the instances of form's InstanceId.N to a state: stop
// (running or pending → stopping) or start (stopped → pending). An instance
// already on its way there is left as it is; one that cannot get there
// (terminated, or stopping when started) is IncorrectInstanceState, and
// nothing changes.
func (s *Server) transition(region string, form url.Values, stop bool) (stateChangeSetXML, *apiError) {
	var set stateChangeSetXML
	ids, aerr := instanceIDs(form)
	if aerr != nil {
		return set, aerr
	}
	if len(ids) == 0 {
		return set, badRequest("MissingParameter", "The request must contain the parameter InstanceId.")
	}
	if isTrue(form.Get("DryRun")) {
		return set, errDryRun
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	vms, aerr := s.lookup(region, ids, now, false)
	if aerr != nil {
		return set, aerr
	}
	for _, v := range vms {
		s.advance(v, now, false)
		ok := v.state == StateRunning || v.state == StatePending || v.state == StateStopping || v.state == StateStopped
		if !stop {
			ok = v.state != StateShuttingDown && v.state != StateTerminated && v.state != StateStopping
		}
		if !ok {
			return set, badRequest("IncorrectInstanceState", "The instance '%s' is not in a state from which it can be %s.", v.id, map[bool]string{true: "stopped", false: "started"}[stop])
		}
	}
	for _, v := range vms {
		prev := v.state
		switch {
		case stop && (v.state == StateRunning || v.state == StatePending):
			v.state, v.since, v.reason = StateStopping, now, "Client.UserInitiatedShutdown"
		case !stop && v.state == StateStopped:
			v.state, v.since, v.reason = StatePending, now, ""
		}
		set.Items = append(set.Items, stateChangeXML{
			InstanceID: v.id,
			Current:    stateXML{Code: stateCodes[v.state], Name: v.state},
			Previous:   stateXML{Code: stateCodes[prev], Name: prev},
		})
	}
	return set, nil
}

func (s *Server) stopInstances(region string, form url.Values) (any, *apiError) {
	set, aerr := s.transition(region, form, true)
	if aerr != nil {
		return nil, aerr
	}
	return stopInstancesResponse{Xmlns: namespace, RequestID: newRequestID(), Instances: set}, nil
}

func (s *Server) startInstances(region string, form url.Values) (any, *apiError) {
	set, aerr := s.transition(region, form, false)
	if aerr != nil {
		return nil, aerr
	}
	return startInstancesResponse{Xmlns: namespace, RequestID: newRequestID(), Instances: set}, nil
}

// modifyInstanceAttribute changes the instance type of a stopped instance.
func (s *Server) modifyInstanceAttribute(region string, form url.Values) (any, *apiError) {
	id := form.Get("InstanceId")
	if !instanceID.MatchString(id) {
		return nil, badRequest("InvalidInstanceID.Malformed", "Invalid id: %q", id)
	}
	typ := form.Get("InstanceType.Value")
	if typ == "" {
		return nil, badRequest("InvalidParameterCombination", "awstest serves only the InstanceType attribute.")
	}
	if isTrue(form.Get("DryRun")) {
		return nil, errDryRun
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	vms, aerr := s.lookup(region, []string{id}, now, false)
	if aerr != nil {
		return nil, aerr
	}
	v := vms[0]
	s.advance(v, now, false)
	if !s.catalog.types[typ] {
		return nil, badRequest("InvalidParameterValue", "Invalid value '%s' for InstanceType.", typ)
	}
	if v.state != StateStopped {
		return nil, badRequest("IncorrectInstanceState", "The instance '%s' is not in the 'stopped' state.", v.id)
	}
	v.typ = typ
	return modifyInstanceAttributeResponse{Xmlns: namespace, RequestID: newRequestID(), Return: true}, nil
}
