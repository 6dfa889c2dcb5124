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
//   - zoneOperations.get (…/zones/{zone}/operations/{name}), which answers
//     DONE at the first poll, so tests never sleep — unless
//     WithOperationTime makes operations take time.
//
// Instances live through Compute Engine's lifecycle: PROVISIONING until
// their insert is DONE, then RUNNING; STOPPING while a delete runs, then
// gone; SetStatus moves one to TERMINATED or any other status, as a stop
// would. An insert or a delete can be made to fail after it was accepted
// (FailOperation): its operation then finishes DONE with
// httpErrorStatusCode, httpErrorMessage and error.errors[], and its effect
// is undone — a failed insert leaves no instance.
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
// Programs that are not tests (a demo, a local development stack) start one
// with Start and stop it with Close.
package gcptest
