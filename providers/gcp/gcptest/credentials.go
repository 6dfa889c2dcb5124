package gcptest

import (
	"net/http"
)

// SetCallerProject makes the server answer as if the clients' credentials
// belonged to project, a project with no role on the one the server serves
// (a service account of another project, Application Default Credentials
// picked up from the wrong environment). Every instance then looks absent:
// instances.get, delete, stop, start and setMachineType answer 404
// notFound naming the instance, and zoneOperations.get 404 naming the operation — the worst a
// driver can meet, since such a 404 reads like "already gone". A call about
// the project as a whole says what is wrong, as Compute Engine's
// PERMISSIONS_ERROR does: instances.list and instances.aggregatedList
// answer 403 forbidden "Required 'compute.instances.list' permission for
// 'projects/P'", and instances.insert 403 "Required
// 'compute.instances.create' permission". "" (or the served project)
// restores the credentials of the served project.
func (s *Server) SetCallerProject(project string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if project == s.opts.project {
		project = ""
	}
	s.caller = project
}

// foreignCaller returns the answer a caller whose credentials belong to
// another project gets for op, or nil when the credentials are the served
// project's.
func (s *Server) foreignCaller(op string, r *http.Request) *apiError {
	s.mu.Lock()
	caller := s.caller
	s.mu.Unlock()
	if caller == "" {
		return nil
	}
	p, zone := s.opts.project, r.PathValue("zone")
	switch op {
	case OpGet, OpDelete, OpStop, OpStart, OpSetMachineType:
		return notFound(instancePath(p, zone, r.PathValue("instance")))
	case OpOperationGet:
		return notFound(operationPath(p, zone, r.PathValue("operation")))
	case OpInsert:
		return permissionDenied("compute.instances.create", zonePath(p, zone))
	case OpMachineTypeGet:
		return permissionDenied("compute.machineTypes.get", zonePath(p, zone))
	default:
		return permissionDenied("compute.instances.list", projectPath(p))
	}
}

// permissionDenied is Compute Engine's PERMISSIONS_ERROR: 403 forbidden
// "Required 'PERMISSION' permission for 'RESOURCE'".
func permissionDenied(permission, resource string) *apiError {
	return errorf(http.StatusForbidden, "forbidden", "Required '%s' permission for '%s'", permission, resource)
}
