package awstest

import (
	"fmt"
	"maps"
	"slices"
	"time"
)

// The states of an EC2 instance. An instance is created pending and becomes
// running; TerminateInstances makes it shutting-down, then terminated. A
// terminated instance stays describable (EC2 keeps it for about an hour) but
// is gone: it no longer runs or bills.
const (
	StatePending      = "pending"
	StateRunning      = "running"
	StateShuttingDown = "shutting-down"
	StateTerminated   = "terminated"
	StateStopping     = "stopping"
	StateStopped      = "stopped"
)

// stateCodes are EC2's numeric state codes.
var stateCodes = map[string]int{
	StatePending: 0, StateRunning: 16, StateShuttingDown: 32,
	StateTerminated: 48, StateStopping: 64, StateStopped: 80,
}

// Instance is the emulator's ground truth about one instance, whatever
// DescribeInstances would show of it right now.
type Instance struct {
	ID          string
	Region      string
	Type        string
	ImageID     string
	State       string // one of the State constants
	Tags        map[string]string
	LaunchTime  time.Time
	ClientToken string // "" when created without one (AddInstance)
	// StateReason is why the instance left its last state, as EC2's
	// StateReason code ("Client.UserInitiatedShutdown",
	// "Client.VolumeLimitExceeded", …); "" if none.
	StateReason string
}

// Live reports whether the instance exists as a VM: it is neither
// shutting down nor terminated (EC2 stops billing at shutting-down).
func (i Instance) Live() bool { return i.State != StateShuttingDown && i.State != StateTerminated }

// tag is one EC2 tag, kept in the order it was given.
type tag struct{ key, value string }

// vm is the emulator's record of one instance.
type vm struct {
	seq         uint64
	id          string
	region      string
	reservation *reservation
	launchIndex int
	typ         string
	image       string
	subnet      string
	keyName     string
	groups      []string
	clientToken string
	tags        []tag
	launch      time.Time
	visibleAt   time.Time // DescribeInstances does not list it before
	knownAt     time.Time // calls by id answer NotFound before (eventual consistency)
	state       string
	since       time.Time // when it entered its state
	ending      time.Time // when it was terminated (or its launch failed); zero while live
	reason      string    // its StateReason code
	failLaunch  string    // the StateReason of a launch that will fail; "" for one that will run
}

// stateReasonMessages are EC2's messages for the StateReason codes.
var stateReasonMessages = map[string]string{
	"Client.UserInitiatedShutdown": "Client.UserInitiatedShutdown: User initiated shutdown",
	ReasonVolumeLimitExceeded:      "Client.VolumeLimitExceeded: Volume limit exceeded",
	ReasonInvalidSnapshot:          "Client.InvalidSnapshot.NotFound: The specified snapshot was not found",
	ReasonClientInternalError:      "Client.InternalError: Client error on launch",
	ReasonServerInternalError:      "Server.InternalError: Internal error on launch",
	ReasonInsufficientCapacity:     "Server.InsufficientInstanceCapacity: Insufficient capacity",
}

// forgotten reports whether EC2 no longer knows v: it has been terminated
// longer than the terminated-visibility window; s.mu is held.
func (s *Server) forgotten(v *vm, now time.Time) bool {
	return v.state == StateTerminated && !v.ending.IsZero() && !now.Before(v.ending.Add(s.opts.terminatedVisibility))
}

// reservation is what one RunInstances call launched.
type reservation struct {
	id          string
	fingerprint string // the call's parameters, for ClientToken idempotency
	vms         []*vm
}

// regionState is one region's instances, in creation order, and its
// ClientTokens (EC2 scopes a ClientToken to an account and region).
type regionState struct {
	vms    []*vm
	tokens map[string]*reservation
}

// region returns the state of region name, creating it; s.mu is held.
func (s *Server) region(name string) *regionState {
	r := s.regions[name]
	if r == nil {
		r = &regionState{tokens: make(map[string]*reservation)}
		s.regions[name] = r
	}
	return r
}

// newVM records a new pending instance in region; s.mu is held.
func (s *Server) newVM(region string, res *reservation, now time.Time) *vm {
	s.seq++
	v := &vm{
		seq:         s.seq,
		id:          fmt.Sprintf("i-%08x%09x", s.salt, s.seq),
		region:      region,
		reservation: res,
		launchIndex: len(res.vms),
		launch:      now,
		visibleAt:   now.Add(s.faults.ListLag()),
		knownAt:     now.Add(s.opts.consistencyDelay),
		state:       StatePending,
		since:       now,
	}
	res.vms = append(res.vms, v)
	r := s.region(region)
	r.vms = append(r.vms, v)
	s.byID[v.id] = v
	s.vms = append(s.vms, v)
	return v
}

// newReservation returns an empty reservation; s.mu is held.
func (s *Server) newReservation(fingerprint string) *reservation {
	s.seq++
	return &reservation{id: fmt.Sprintf("r-%08x%09x", s.salt, s.seq), fingerprint: fingerprint}
}

// advance moves v along its lifecycle as of now: pending becomes running and
// shutting-down becomes terminated once the configured boot or shutdown
// time has passed, or, when that time is zero, as soon as a DescribeInstances
// call (describing) looks at it. s.mu is held.
func (s *Server) advance(v *vm, now time.Time, describing bool) {
	due := func(d time.Duration) bool {
		if d <= 0 {
			return describing
		}
		return !now.Before(v.since.Add(d))
	}
	switch {
	case v.state == StatePending && due(s.opts.bootTime) && v.failLaunch != "":
		v.state, v.since, v.ending, v.reason = StateTerminated, now, now, v.failLaunch
	case v.state == StatePending && due(s.opts.bootTime):
		v.state, v.since = StateRunning, now
	case v.state == StateShuttingDown && due(s.opts.shutdownTime):
		v.state, v.since = StateTerminated, now
	case v.state == StateStopping && due(s.opts.shutdownTime):
		v.state, v.since = StateStopped, now
	}
}

// public returns the ground-truth view of v; s.mu is held.
func (v *vm) public() Instance {
	tags := make(map[string]string, len(v.tags))
	for _, t := range v.tags {
		tags[t.key] = t.value
	}
	return Instance{
		ID: v.id, Region: v.region, Type: v.typ, ImageID: v.image, State: v.state,
		Tags: tags, LaunchTime: v.launch, ClientToken: v.clientToken, StateReason: v.reason,
	}
}

// wire returns v as the SDK reads it.
func (v *vm) wire() instanceXML {
	x := instanceXML{
		InstanceID:     v.id,
		ImageID:        v.image,
		State:          stateXML{Code: stateCodes[v.state], Name: v.state},
		PrivateDNSName: fmt.Sprintf("ip-10-0-%d-%d.%s.compute.internal", (v.seq>>8)&0xff, v.seq&0xff, v.region),
		KeyName:        v.keyName,
		AmiLaunchIndex: v.launchIndex,
		InstanceType:   v.typ,
		LaunchTime:     launchTime(v.launch),
		Placement:      placementXML{AvailabilityZone: v.region + "a", Tenancy: "default"},
		SubnetID:       v.subnet,
		ClientToken:    v.clientToken,
	}
	if v.reason != "" {
		msg := stateReasonMessages[v.reason]
		if msg == "" {
			msg = v.reason
		}
		x.StateReason = &stateReasonXML{Code: v.reason, Message: msg}
	}
	for _, g := range v.groups {
		x.Groups.Items = append(x.Groups.Items, groupXML{GroupID: g})
	}
	for _, t := range v.tags {
		x.Tags.Items = append(x.Tags.Items, tagXML{Key: t.key, Value: t.value})
	}
	return x
}

// Instances returns every instance ever created on the server, in every
// region and state (terminated ones included), in creation order: the ground
// truth a test compares a listing with. Time-based state changes due by now
// are applied first.
func (s *Server) Instances() []Instance {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	out := make([]Instance, 0, len(s.vms))
	for _, v := range s.vms {
		s.advance(v, now, false)
		out = append(out, v.public())
	}
	return out
}

// AddInstance creates a running instance in region (DefaultRegion if empty)
// with tags, as someone outside cloudswitch would: another owner, a user in
// the console. It is visible to DescribeInstances at once, has no
// ClientToken, and is returned as the ground truth sees it.
func (s *Server) AddInstance(region string, tags map[string]string) Instance {
	if region == "" {
		region = DefaultRegion
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	v := s.newVM(region, s.newReservation(""), now)
	v.typ, v.image, v.state, v.visibleAt, v.knownAt = "t3.micro", "ami-0123456789abcdef0", StateRunning, now, now
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		v.tags = append(v.tags, tag{k, tags[k]})
	}
	return v.public()
}
