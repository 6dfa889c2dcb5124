package gcptest

import (
	"maps"
	"slices"
	"time"
)

// Instance is an instance as the server holds it: the ground truth, whatever
// the listing lag.
type Instance struct {
	Name        string
	Zone        string
	MachineType string // the type's name, "e2-standard-2"
	Status      string // PROVISIONING, RUNNING, STOPPING, TERMINATED, …
	Labels      map[string]string
	Created     time.Time
	ID          uint64

	// What the insert asked for.
	SourceImage        string
	DiskSizeGB         int64 // 0: the image's size
	BootDiskAutoDelete bool  // the boot disk is deleted with the instance
	Network            string
	Subnetwork         string
	ServiceAccount     string
	Scopes             []string
	Metadata           map[string]string
}

// Instances returns every instance that exists now, those being created or
// deleted included, sorted by zone and name.
func (s *Server) Instances() []Instance {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settle(s.now())
	var out []Instance
	for _, zn := range s.zoneNames {
		z := s.zones[zn]
		for _, name := range slices.Sorted(maps.Keys(z.vms)) {
			out = append(out, z.vms[name].public())
		}
	}
	return out
}

func (v *vm) public() Instance {
	return Instance{
		Name: v.name, Zone: v.zone, MachineType: v.machineType, Status: v.status,
		Labels: maps.Clone(v.labels), Created: v.created, ID: v.id,
		SourceImage: v.sourceImage, DiskSizeGB: v.diskSizeGB, BootDiskAutoDelete: v.autoDelete,
		Network: v.network, Subnetwork: v.subnetwork,
		ServiceAccount: v.serviceAccount, Scopes: slices.Clone(v.scopes), Metadata: maps.Clone(v.metadata),
	}
}

// AddInstance creates a RUNNING e2-medium instance directly, as someone
// outside cloudswitch would (another tool, a user in the console), visible
// to listings at once, and returns it. A zone the server does not know, an
// invalid name, a name taken in the zone, or labels Compute Engine would
// refuse are reported as a test error (for a server made by NewServer) and
// give the zero Instance.
func (s *Server) AddInstance(zone, name string, labels map[string]string) Instance {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.settle(now)
	z, ok := s.zones[zone]
	switch {
	case !ok:
		s.misuse("AddInstance: unknown zone %q (the server knows %v)", zone, s.zoneNames)
		return Instance{}
	case !resourceName.MatchString(name):
		s.misuse("AddInstance: %q is not a valid instance name", name)
		return Instance{}
	case z.vms[name] != nil:
		s.misuse("AddInstance: instance %q already exists in %s", name, zone)
		return Instance{}
	}
	for k, v := range labels {
		if !labelKey.MatchString(k) || !labelValue.MatchString(v) {
			s.misuse("AddInstance: label %q=%q breaks Compute Engine's label rules", k, v)
			return Instance{}
		}
	}
	v := &vm{
		id: s.nextID(), zone: zone, name: name, machineType: "e2-medium", status: StatusRunning,
		labels: maps.Clone(labels), created: now, visibleAt: now,
		sourceImage: "projects/debian-cloud/global/images/family/debian-12", autoDelete: true,
		network: "global/networks/default", metadata: map[string]string{},
	}
	if v.labels == nil {
		v.labels = map[string]string{}
	}
	z.vms[name] = v
	return v.public()
}

// SetStatus sets the status of an instance to any of the twelve of the v1
// API, as an operation run outside the emulator would ("STOPPING",
// "TERMINATED", "SUSPENDED", "REPAIRING", …); it stays so until set again.
// An instance left in a status of an operation in flight (PROVISIONING,
// STAGING, PENDING_STOP, STOPPING, SUSPENDING, DEPROVISIONING) answers a
// delete with 400 resourceNotReady. It reports whether the instance exists
// and status is a Compute Engine instance status.
func (s *Server) SetStatus(zone, name, status string) bool {
	if !slices.Contains(statuses, status) {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settle(s.now())
	z, ok := s.zones[zone]
	if !ok || z.vms[name] == nil {
		return false
	}
	z.vms[name].status = status
	return true
}

// Stop stops an instance as someone outside cloudswitch would (the console,
// a schedule): it is STOPPING while the stop operation runs
// (WithOperationTime; by the next request with the default 0), during which
// a delete answers 400 resourceNotReady, and then TERMINATED. It reports
// whether the instance exists and is not being deleted.
func (s *Server) Stop(zone, name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.settle(now)
	z, ok := s.zones[zone]
	if !ok || z.vms[name] == nil || z.vms[name].deleting {
		return false
	}
	v := z.vms[name]
	op := s.newOperation("stop", "", v, now)
	op.prevStatus = v.status
	v.status = StatusStopping
	return true
}

// RemoveInstance deletes an instance at once, as someone outside cloudswitch
// would, and reports whether it existed.
func (s *Server) RemoveInstance(zone, name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settle(s.now())
	z, ok := s.zones[zone]
	if !ok || z.vms[name] == nil {
		return false
	}
	delete(z.vms, name)
	return true
}

// ExpireRequestIDs forgets every requestId seen so far, as Compute Engine
// may once its deduplication window (at least 60 minutes) has passed, at
// once, without moving the clock: a repeated insert then gets 409
// alreadyExists instead of its first operation, and a repeated delete acts
// anew.
func (s *Server) ExpireRequestIDs() {
	s.mu.Lock()
	clear(s.requestIDs)
	s.mu.Unlock()
}
