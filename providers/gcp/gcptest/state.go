package gcptest

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"cloud.google.com/go/compute/apiv1/computepb"
	"google.golang.org/protobuf/proto"
)

// The instance statuses of the Compute Engine v1 API (Instance.status),
// every one of which the emulator can show.
const (
	StatusProvisioning   = "PROVISIONING"   // resources are being allocated (an insert runs)
	StatusStaging        = "STAGING"        // resources allocated, the instance is being started
	StatusRunning        = "RUNNING"        // running
	StatusPendingStop    = "PENDING_STOP"   // gracefully shutting down before a stop
	StatusStopping       = "STOPPING"       // being stopped, or being deleted
	StatusStopped        = "STOPPED"        // stopped successfully
	StatusTerminated     = "TERMINATED"     // stopped, by a stop or by a failure
	StatusSuspending     = "SUSPENDING"     // being suspended
	StatusSuspended      = "SUSPENDED"      // suspended
	StatusRepairing      = "REPAIRING"      // in repair after a host error
	StatusDeprovisioning = "DEPROVISIONING" // halted, being torn down (a delete's last phase)
	StatusPending        = "PENDING"        // flex-start or TPU instance waiting for capacity
)

// statuses are every status of a Compute Engine instance.
var statuses = []string{
	StatusDeprovisioning, StatusPending, StatusPendingStop, StatusProvisioning, StatusRepairing, StatusRunning,
	StatusStaging, StatusStopped, StatusStopping, StatusSuspended, StatusSuspending, StatusTerminated,
}

// busyStatuses are the statuses of an instance with an operation running
// on it (its own insert, delete or stop, or one run outside the emulator,
// set with SetStatus): a delete answers 400 resourceNotReady.
var busyStatuses = []string{StatusProvisioning, StatusStaging, StatusPendingStop, StatusStopping, StatusSuspending, StatusDeprovisioning}

// vm is one instance as the server holds it.
type vm struct {
	id          uint64
	zone, name  string
	machineType string // the type's name: "e2-standard-2"
	status      string
	labels      map[string]string
	created     time.Time
	visibleAt   time.Time // listings skip it before
	lastStart   time.Time // when it last reached RUNNING (zero: never)
	lastStop    time.Time // when it was last stopped (zero: never)
	deleting    bool      // a delete operation is pending
	// statusBeforeDelete is restored if the delete fails.
	statusBeforeDelete string

	sourceImage    string
	diskSizeGB     int64
	autoDelete     bool
	network        string
	subnetwork     string
	serviceAccount string
	scopes         []string
	metadata       map[string]string
}

// operation is one zonal operation.
type operation struct {
	id          uint64
	name        string
	zone        string
	kind        string // "insert" or "delete"
	target      *vm
	created     time.Time
	doneAt      time.Time
	done        bool
	ended       time.Time
	failure     *opFailure
	prevStatus  string // of the target of a delete, stop or start, restored if it fails
	machineType string // the type a setMachineType sets
}

// zoneState is what one zone holds.
type zoneState struct {
	vms          map[string]*vm        // by name
	ops          map[string]*operation // by name
	machineTypes map[string]bool       // offered, by name
}

// settle finishes every pending operation whose time has come, in the order
// they were created; s.mu is held.
func (s *Server) settle(now time.Time) {
	n := 0
	for _, op := range s.pending {
		if now.Before(op.doneAt) {
			op.progress(now)
			s.pending[n] = op
			n++
			continue
		}
		s.finish(op, now)
	}
	clear(s.pending[n:])
	s.pending = s.pending[:n]
}

// progress moves the target of a running operation to its second phase
// once half the operation's time has passed: an instance being created from
// PROVISIONING to STAGING, one being deleted from STOPPING to
// DEPROVISIONING.
func (op *operation) progress(now time.Time) {
	if now.Before(op.created.Add(op.doneAt.Sub(op.created) / 2)) {
		return
	}
	t := op.target
	switch {
	case op.kind == "insert" && t.status == StatusProvisioning:
		t.status = StatusStaging
	case op.kind == "delete" && t.status == StatusStopping:
		t.status = StatusDeprovisioning
	}
}

// finish completes op: its effect takes place, or is undone if it fails;
// s.mu is held.
func (s *Server) finish(op *operation, now time.Time) {
	op.done, op.ended = true, now
	z := s.zones[op.zone]
	current := z.vms[op.target.name] == op.target
	switch {
	case op.kind == "insert" && op.failure == nil:
		if current && (op.target.status == StatusProvisioning || op.target.status == StatusStaging) && !op.target.deleting {
			op.target.status = StatusRunning
			op.target.lastStart = now
		}
	case op.kind == "stop" || op.kind == "start":
		if current && !op.target.deleting {
			switch {
			case op.failure != nil:
				op.target.status = op.prevStatus
			case op.kind == "stop":
				op.target.status = StatusTerminated
				op.target.lastStop = now
			default:
				op.target.status = StatusRunning
				op.target.lastStart = now
			}
		}
	case op.kind == "setMachineType":
		if current && op.failure == nil {
			op.target.machineType = op.machineType
		}
	case op.kind == "insert":
		if current {
			delete(z.vms, op.target.name)
		}
	case op.failure == nil: // delete
		if current {
			delete(z.vms, op.target.name)
		}
	default: // failed delete
		if current {
			op.target.status, op.target.deleting = op.prevStatus, false
		}
	}
}

// newOperation starts an operation of kind on target; s.mu is held.
func (s *Server) newOperation(kind, opName string, target *vm, now time.Time) *operation {
	s.seq++
	op := &operation{
		id:      s.nextID(),
		name:    fmt.Sprintf("operation-%d-%08x-%04d", now.UnixMilli(), s.salt, s.seq),
		zone:    target.zone,
		kind:    kind,
		target:  target,
		created: now,
		doneAt:  now.Add(s.opts.opTime),
		failure: s.takeOpFailure(opName), // nil for an operation no API call started
	}
	s.zones[target.zone].ops[op.name] = op
	s.pending = append(s.pending, op)
	return op
}

// nextID returns a fresh numeric resource id; s.mu is held.
func (s *Server) nextID() uint64 {
	s.ids++
	return uint64(s.salt)<<32 | s.ids
}

// timestamp formats t as Compute Engine does: RFC 3339 with milliseconds and
// a numeric offset.
func timestamp(t time.Time) string { return t.Format("2006-01-02T15:04:05.000-07:00") }

// operationProto renders op as the API answers it.
func (s *Server) operationProto(op *operation) *computepb.Operation {
	p := s.opts.project
	status, progress := computepb.Operation_RUNNING, int32(0)
	if op.done {
		status, progress = computepb.Operation_DONE, 100
	}
	out := &computepb.Operation{
		Kind:          proto.String("compute#operation"),
		Id:            proto.Uint64(op.id),
		Name:          proto.String(op.name),
		OperationType: proto.String(op.kind),
		Status:        status.Enum(),
		Progress:      proto.Int32(progress),
		TargetLink:    proto.String(apiBase + instancePath(p, op.zone, op.target.name)),
		TargetId:      proto.Uint64(op.target.id),
		Zone:          proto.String(apiBase + zonePath(p, op.zone)),
		SelfLink:      proto.String(apiBase + operationPath(p, op.zone, op.name)),
		InsertTime:    proto.String(timestamp(op.created)),
		StartTime:     proto.String(timestamp(op.created)),
		User:          proto.String("gcptest@" + p + ".iam.gserviceaccount.com"),
	}
	if op.done {
		out.EndTime = proto.String(timestamp(op.ended))
		if f := op.failure; f != nil {
			out.HttpErrorStatusCode = proto.Int32(int32(f.status))
			out.HttpErrorMessage = proto.String(httpStatusText(f.status))
			out.Error = &computepb.Error{Errors: []*computepb.Errors{{
				Code:    proto.String(f.reason),
				Message: proto.String(f.message),
			}}}
		}
	}
	return out
}

// instanceProto renders v as the API answers it.
func (s *Server) instanceProto(v *vm) *computepb.Instance {
	p := s.opts.project
	labels := maps.Clone(v.labels)
	out := &computepb.Instance{
		Kind:               proto.String("compute#instance"),
		Id:                 proto.Uint64(v.id),
		Name:               proto.String(v.name),
		Zone:               proto.String(apiBase + zonePath(p, v.zone)),
		MachineType:        proto.String(apiBase + zonePath(p, v.zone) + "/machineTypes/" + v.machineType),
		Status:             proto.String(v.status),
		Labels:             labels,
		LabelFingerprint:   proto.String(strconv.FormatUint(v.id, 36)),
		CreationTimestamp:  proto.String(timestamp(v.created)),
		LastStartTimestamp: optionalTimestamp(v.lastStart),
		LastStopTimestamp:  optionalTimestamp(v.lastStop),
		SelfLink:           proto.String(apiBase + instancePath(p, v.zone, v.name)),
		Disks: []*computepb.AttachedDisk{{
			Boot:       proto.Bool(true),
			AutoDelete: proto.Bool(v.autoDelete),
			DeviceName: proto.String(v.name),
			Mode:       proto.String("READ_WRITE"),
			Type:       proto.String("PERSISTENT"),
			Source:     proto.String(apiBase + zonePath(p, v.zone) + "/disks/" + v.name),
			DiskSizeGb: proto.Int64(max(v.diskSizeGB, 10)),
		}},
		NetworkInterfaces: []*computepb.NetworkInterface{{
			Name:       proto.String("nic0"),
			Network:    proto.String(v.network),
			Subnetwork: proto.String(v.subnetwork),
			NetworkIP:  proto.String(fmt.Sprintf("10.128.%d.%d", v.id>>8&0xff, v.id&0xff)),
		}},
	}
	if len(v.metadata) > 0 {
		md := &computepb.Metadata{Kind: proto.String("compute#metadata")}
		for _, k := range slices.Sorted(maps.Keys(v.metadata)) {
			md.Items = append(md.Items, &computepb.Items{Key: proto.String(k), Value: proto.String(v.metadata[k])})
		}
		out.Metadata = md
	}
	if v.serviceAccount != "" {
		out.ServiceAccounts = []*computepb.ServiceAccount{{Email: proto.String(v.serviceAccount), Scopes: slices.Clone(v.scopes)}}
	}
	return out
}

// httpStatusText is the httpErrorMessage of a failed operation.
func httpStatusText(status int) string {
	switch status {
	case 400:
		return "BAD REQUEST"
	case 403:
		return "FORBIDDEN"
	case 404:
		return "NOT FOUND"
	case 409:
		return "CONFLICT"
	case 429:
		return "TOO MANY REQUESTS"
	case 503:
		return "SERVICE UNAVAILABLE"
	}
	if status >= 500 {
		return "INTERNAL SERVER ERROR"
	}
	return "ERROR"
}

// busy reports whether an operation is running on v: its insert or delete
// has not finished, or its status is one of an operation in flight; s.mu is
// held.
func (s *Server) busy(v *vm) bool {
	if v.deleting || slices.Contains(busyStatuses, v.status) {
		return true
	}
	for _, op := range s.pending {
		if op.target == v {
			return true
		}
	}
	return false
}

// optionalTimestamp is t as Compute Engine writes it, or nil for the zero
// time.
func optionalTimestamp(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	return proto.String(timestamp(t))
}
