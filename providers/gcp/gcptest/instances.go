package gcptest

import (
	"io"
	"net/http"
	"time"

	"cloud.google.com/go/compute/apiv1/computepb"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// insert serves instances.insert: POST …/zones/{zone}/instances?requestId=….
// A requestId seen before answers the operation it started, whatever the
// body; a name taken in the zone answers 409 alreadyExists.
func (s *Server) insert(r *http.Request, now time.Time) (proto.Message, *apiError) {
	zone := r.PathValue("zone")
	rid, aerr := requestID(r)
	if aerr != nil {
		return nil, aerr
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, invalid("Invalid JSON payload received: %v", err)
	}
	var in computepb.Instance
	if err := protojson.Unmarshal(body, &in); err != nil {
		return nil, invalid("Invalid JSON payload received: %v", err)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.settle(now)
	z, ok := s.zones[zone]
	if !ok {
		return nil, notFound(zonePath(s.opts.project, zone))
	}
	if op := s.seen(rid, now); op != nil {
		return s.operationProto(op), nil
	}
	v, aerr := newVM(zone, &in)
	if aerr != nil {
		return nil, aerr
	}
	if !s.hasMachineType(zone, v.machineType) {
		return nil, invalid("Invalid value for field 'resource.machineType': '%s'. Machine type with name '%s' does not exist in zone '%s'.", in.GetMachineType(), v.machineType, zone)
	}
	if img := s.imagePath(v.sourceImage); !s.hasImage(img) {
		return nil, notFound(img)
	}
	if _, taken := z.vms[v.name]; taken {
		return nil, errorf(http.StatusConflict, "alreadyExists", "The resource '%s' already exists", instancePath(s.opts.project, zone, v.name))
	}
	v.id = s.nextID()
	v.status = StatusProvisioning
	v.created = now
	v.visibleAt = now.Add(s.faults.ListLag())
	z.vms[v.name] = v
	op := s.newOperation("insert", OpInsert, v, now)
	s.remember(rid, op, now)
	return s.operationProto(op), nil
}

// get serves instances.get: GET …/zones/{zone}/instances/{instance}.
func (s *Server) get(r *http.Request, now time.Time) (proto.Message, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settle(now)
	v, aerr := s.lookup(r.PathValue("zone"), r.PathValue("instance"))
	if aerr != nil {
		return nil, aerr
	}
	return s.instanceProto(v), nil
}

// delete serves instances.delete: DELETE
// …/zones/{zone}/instances/{instance}?requestId=…. The instance is STOPPING,
// then DEPROVISIONING, until the operation is DONE, then gone. A requestId
// seen within the window answers the first delete's operation; an instance
// with an operation running on it answers 400 resourceNotReady (unless
// WithoutResourceNotReady).
func (s *Server) delete(r *http.Request, now time.Time) (proto.Message, *apiError) {
	rid, aerr := requestID(r)
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settle(now)
	if _, ok := s.zones[r.PathValue("zone")]; ok {
		if op := s.seen(rid, now); op != nil {
			return s.operationProto(op), nil
		}
	}
	v, aerr := s.lookup(r.PathValue("zone"), r.PathValue("instance"))
	if aerr != nil {
		return nil, aerr
	}
	if s.opts.resourceNotReady && s.busy(v) {
		return nil, errorf(http.StatusBadRequest, "resourceNotReady", "The resource '%s' is not ready", instancePath(s.opts.project, v.zone, v.name))
	}
	prev := v.status
	if v.deleting {
		prev = v.statusBeforeDelete
	}
	v.status, v.deleting, v.statusBeforeDelete = StatusStopping, true, prev
	op := s.newOperation("delete", OpDelete, v, now)
	op.prevStatus = prev
	s.remember(rid, op, now)
	return s.operationProto(op), nil
}

// lookup finds an instance; s.mu is held.
func (s *Server) lookup(zone, name string) (*vm, *apiError) {
	z, ok := s.zones[zone]
	if !ok {
		return nil, notFound(zonePath(s.opts.project, zone))
	}
	v, ok := z.vms[name]
	if !ok {
		return nil, notFound(instancePath(s.opts.project, zone, name))
	}
	return v, nil
}

// requestID reads and checks the requestId query parameter ("" if absent).
func requestID(r *http.Request) (string, *apiError) {
	rid := r.URL.Query().Get("requestId")
	if rid != "" && !validRequestID(rid) {
		return "", invalid("Invalid value for field 'requestId': '%s'. The request ID must be a valid UUID with the exception that zero UUID is not supported.", rid)
	}
	return rid, nil
}

// newVM checks the body of an insert into zone as Compute Engine would and
// returns the instance it describes.
func newVM(zone string, in *computepb.Instance) (*vm, *apiError) {
	v := &vm{zone: zone, name: in.GetName(), labels: map[string]string{}, metadata: map[string]string{}}
	if !resourceName.MatchString(v.name) {
		return nil, invalid("Invalid value for field 'resource.name': '%s'. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'", v.name)
	}
	mt, ok := machineType(zone, in.GetMachineType())
	if !ok {
		return nil, invalid("Invalid value for field 'resource.machineType': '%s'. Machine type must be zones/%s/machineTypes/TYPE.", in.GetMachineType(), zone)
	}
	v.machineType = mt

	if len(in.GetLabels()) > maxLabels {
		return nil, invalid("Invalid value for field 'resource.labels': a resource may have at most %d labels.", maxLabels)
	}
	for k, val := range in.GetLabels() {
		if !labelKey.MatchString(k) {
			return nil, invalid("Invalid value for field 'resource.labels': label key '%s' violates format constraints.", k)
		}
		if !labelValue.MatchString(val) {
			return nil, invalid("Invalid value for field 'resource.labels': label value '%s' of key '%s' violates format constraints.", val, k)
		}
		v.labels[k] = val
	}

	var boot *computepb.AttachedDisk
	for _, d := range in.GetDisks() {
		if d.GetBoot() {
			if boot != nil {
				return nil, invalid("Invalid value for field 'resource.disks': an instance has one boot disk.")
			}
			boot = d
		}
	}
	if boot == nil || boot.GetInitializeParams().GetSourceImage() == "" {
		return nil, invalid("Invalid value for field 'resource.disks': a boot disk with initializeParams.sourceImage is required.")
	}
	if size := boot.GetInitializeParams().GetDiskSizeGb(); size != 0 && (size < 10 || size > 65536) {
		return nil, invalid("Invalid value for field 'resource.disks[0].initializeParams.diskSizeGb': '%d'. Disk size must be between 10 and 65536 GB.", size)
	}
	v.sourceImage = boot.GetInitializeParams().GetSourceImage()
	v.diskSizeGB = boot.GetInitializeParams().GetDiskSizeGb()
	v.autoDelete = boot.GetAutoDelete()

	nics := in.GetNetworkInterfaces()
	if len(nics) == 0 {
		return nil, invalid("Invalid value for field 'resource.networkInterfaces': an instance needs at least one network interface.")
	}
	v.network, v.subnetwork = nics[0].GetNetwork(), nics[0].GetSubnetwork()
	if v.network == "" && v.subnetwork == "" {
		v.network = "global/networks/default"
	}

	for _, item := range in.GetMetadata().GetItems() {
		k := item.GetKey()
		if !metadataKey.MatchString(k) {
			return nil, invalid("Invalid value for field 'resource.metadata': key '%s' violates format constraints.", k)
		}
		if _, dup := v.metadata[k]; dup {
			return nil, invalid("Invalid value for field 'resource.metadata': duplicate key '%s'.", k)
		}
		v.metadata[k] = item.GetValue()
	}

	switch sas := in.GetServiceAccounts(); {
	case len(sas) > 1:
		return nil, invalid("Invalid value for field 'resource.serviceAccounts': at most one service account.")
	case len(sas) == 1:
		if sas[0].GetEmail() == "" {
			return nil, invalid("Invalid value for field 'resource.serviceAccounts[0].email': ''.")
		}
		v.serviceAccount, v.scopes = sas[0].GetEmail(), sas[0].GetScopes()
	}
	return v, nil
}
