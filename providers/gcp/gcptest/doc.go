// Package gcptest is a Compute Engine emulator for tests: an HTTP server
// speaking the Compute Engine v1 REST API — JSON as the REST clients of
// cloud.google.com/go/compute/apiv1 read and write it, Compute Engine's
// error envelope — for the calls the cloudswitch GCP driver makes, so the
// real client code runs against it without credentials or a network.
//
// It serves, for one project and a fixed set of zones:
//
//   - instances.insert (POST …/zones/{zone}/instances?requestId=…): checks
//     the instance as Compute Engine would (name, machine type of the zone,
//     a boot disk with a source image, a network interface, labels,
//     metadata) and answers a RUNNING operation; an insert whose requestId
//     it has seen answers the first insert's operation, and a name taken in
//     the zone answers 409 alreadyExists;
//   - instances.get, instances.delete (…/instances/{name}?requestId=…), with
//     404 notFound naming the missing resource, as Compute Engine's
//     "The resource 'projects/P/zones/Z/instances/N' was not found";
//   - instances.list (…/zones/{zone}/instances) and instances.aggregatedList
//     (/compute/v1/projects/{project}/aggregated/instances, items keyed
//     "zones/ZONE", a NO_RESULTS_ON_PAGE warning for a zone with none on
//     the page), filtered by `labels.KEY = "VALUE"` comparisons (also `!=`,
//     name and status, joined by AND) and paginated with maxResults (at most
//     500) and pageToken/nextPageToken;
//   - instances.stop, instances.start and instances.setMachineType
//     (…/instances/{name}/stop, /start, /setMachineType), each a zone
//     operation: a stop makes the instance STOPPING, then TERMINATED; a start
//     STAGING, then RUNNING; a machine type change needs a stopped instance
//     and a type the zone offers (lastStartTimestamp and lastStopTimestamp
//     say when it last started and stopped);
//   - machineTypes.get, images.get and images.getFromFamily, answered from a
//     catalogue (DefaultMachineTypes in every zone, custom types, and
//     DefaultImages; AddMachineType, AddImage), which instances.insert
//     checks too: an unknown machine type is 400, an unknown image 404;
//   - zoneOperations.get (…/zones/{zone}/operations/{name}), which answers
//     DONE at the first poll, so tests never sleep — unless
//     WithOperationTime makes operations take time.
//
// # What it models, and from which documentation
//
//   - Instance life cycle ("Compute instance lifecycle", cloud.google.com/
//     compute/docs/instances/instance-lifecycle, and the v1 API reference of
//     Instance.status, whose twelve values are StatusProvisioning …
//     StatusPending): an inserted instance is PROVISIONING, then STAGING
//     (from half its operation's time), then RUNNING when the insert is
//     DONE; a deleted one is STOPPING, then DEPROVISIONING, then gone (the
//     last phase is the emulator's reading of the enum's "halted and … tear
//     down tasks like network deprogramming, releasing quota, IP, tearing
//     down disks"); Stop makes one STOPPING, then TERMINATED. SetStatus puts an instance in any
//     of the twelve, as an operation outside the emulator would. With the
//     default operation time of 0 every operation is DONE by the next
//     request, so the intermediate statuses are seen only WithOperationTime.
//   - resourceNotReady: a delete, stop, start or machine type change of an
//     instance that has an operation running on it — its insert or an earlier delete not DONE, a stop, or a
//     status of an operation in flight (PROVISIONING, STAGING, PENDING_STOP,
//     STOPPING, SUSPENDING, DEPROVISIONING) — answers 400 with reason
//     resourceNotReady, "The resource 'projects/P/zones/Z/instances/N' is
//     not ready", as Compute Engine does (Google's error catalog for the
//     v1 API does not list it; its clients meet it, as reported in
//     googleapis/google-api-python-client#485 and
//     googleapis/google-cloud-java#9312). On by default;
//     WithoutResourceNotReady turns it off, and a Fault with Code
//     "resourceNotReady" forces it.
//   - requestId: the insert and delete reference ("requestId: … the server
//     will know to ignore the request if it has already been completed …
//     for at least 60 minutes after the first request") — a repeated
//     requestId is answered with the first call's operation within the
//     window (DefaultRequestIDWindow, WithRequestIDWindow), then forgotten;
//     ExpireRequestIDs forgets them at once, and WithClock lets a test move
//     past the window without sleeping.
//   - Credentials of another project: SetCallerProject. Compute Engine's
//     error catalog (compute/docs/reference/rest/v1/errors) documents
//     PERMISSIONS_ERROR, 403 "Required '{permission}' permission for
//     '{resource}'"; the emulator answers the project-wide calls (list,
//     aggregatedList, insert) so, and — as the worst case a driver must
//     survive — every call about one instance or operation with 404
//     notFound, which reads like "already gone".
//   - Failed operations: an insert or a delete can be made to fail after
//     it was accepted (FailOperation): its operation then finishes DONE
//     with httpErrorStatusCode, httpErrorMessage and error.errors[], and its
//     effect is undone — a failed insert leaves no instance.
//
// Not modelled: instances.suspend, resume, reset and every call but those
// above; regional and global operations; quotas and
// zone capacity (ZONE_RESOURCE_POOL_EXHAUSTED) except through faults;
// eventual consistency of instances.get (Compute Engine documents none: it
// reads its own writes), while listings can lag (SetListLag); an
// instance's boot disk as a resource of its own; IAM beyond the one
// foreign-project switch.
//
// A test scripts faults — fail the next N calls of an operation with an HTTP
// status and an error reason, add latency, make new instances invisible to
// listings for a while, cap the page size, or let a call take effect and then
// drop the connection — counts calls, and reads the ground truth:
//
//	srv := gcptest.NewServer(t)
//	instances, operations, err := srv.Clients(ctx) // REST clients pointed at srv
//	srv.Inject(gcptest.Fault{Op: gcptest.OpDelete, Times: 2, Status: 503})
//	srv.Inject(gcptest.Fault{Op: gcptest.OpInsert, Times: 1, Drop: true}) // created, answer lost
//	srv.FailOperation(gcptest.OpInsert, 1, 403, "QUOTA_EXCEEDED", "Quota 'CPUS' exceeded.")
//	srv.SetPageSize(3)
//	… exercise code that uses the clients (or srv.ClientOptions()) …
//	for _, vm := range srv.Instances() { … vm.Status, vm.Labels … }
//
// Live returns the ground truth as cloudswitch.Instance values, and Harness
// wires a driver talking to the emulator into the providertest conformance
// suite. The fault vocabulary (Fault, CallCount, SetLatency, SetListLag, …)
// is the one every emulator of this module shares (package emulator); a
// Fault naming an operation the emulator does not serve is refused.
//
// Programs that are not tests (a demo, a local development stack) start one
// with Start and stop it with Close.
package gcptest
