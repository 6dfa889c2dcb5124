// Package gcp is the cloudswitch.Provider of Google Compute Engine: it
// creates, deletes and lists the VM instances of one project through the
// Compute Engine REST clients of cloud.google.com/go/compute/apiv1.
//
// The driver honours the [cloudswitch.Provider] contract: that is its part of
// the guarantees listed in package cloudswitch's documentation. The sections
// below say how it does so on Compute Engine.
//
// # Use
//
//	d, err := gcp.NewFromClientOptions(ctx, "my-project", nil, // Application Default Credentials
//		gcp.WithZone("europe-west1-b"),
//		gcp.WithSubnetwork("workspaces"),
//		gcp.WithMetadata(map[string]string{"startup-script": script}),
//	)
//	…
//	defer d.Close()
//	sw, err := cloudswitch.New(store, map[string]cloudswitch.Provider{cloudswitch.GCP: d})
//
// New takes clients the caller made and keeps (closing them after the
// driver's Close); NewFromClientOptions makes them from option.ClientOption
// values and Close closes them. Compute.Region
// is the zone (WithZone gives the default), Compute.InstanceType the machine
// type ("e2-standard-2", or "zones/ZONE/machineTypes/TYPE"), and
// Compute.Image the boot image (WithSourceImage gives the default,
// DefaultSourceImage otherwise). A VM gets one boot disk, deleted with it,
// one network interface without an external address, the labels of
// WithLabels and the metadata of WithMetadata.
//
// # Labels, names and idempotency
//
// Every instance carries three labels, four with an installation:
// cloudswitch-owner (the owner, as is), cloudswitch-workspace,
// cloudswitch-token and cloudswitch-installation (the workspace id, the
// token and ProvisionRequest.Installation, as is when they are valid label
// values, else "x-" and their lowercase base32, which Provision and
// Instances decode back into the Instance). Its name is derived from
// the token ("cs-" and the token, or a hash of it) and names are unique in a
// zone; its insert carries requestId RequestID(token), a name-based UUID of
// the token. A repeated Provision — after a lost answer, a timeout, a crash
// — is answered by Compute Engine with the first insert's operation (for as
// long as it remembers the requestId, at least an hour) or with 409
// alreadyExists; either way the driver reads the instance back and returns
// it only if its labels name the request's owner and token. Someone else's
// instance with that name is never adopted: Provision fails with
// cloudswitch.ErrNotOurs.
//
// Deprovision reads the instance's labels before it deletes it, and
// deletes nothing whose workspace or installation label disagrees with the
// Instance it was given (when that names one): the error matches
// cloudswitch.ErrNotOurs.
//
// An insert is asynchronous: the driver polls its zone operation until it
// is DONE and reads the operation's error, which the SDK's Operation.Wait
// does not report. An insert that fails there (QUOTA_EXCEEDED,
// ZONE_RESOURCE_POOL_EXHAUSTED, …) is a permanent *OperationError and
// leaves no instance.
//
// # Errors
//
// A 404 naming the instance matches cloudswitch.ErrInstanceNotFound (and a
// Deprovision that meets one succeeds) once confirmed as "Deleting" below
// says; a 404 about anything else — the
// project, the zone, an image — is permanent, so that a misconfiguration
// never makes a delete look done. 408, 429, 5xx, 403 with reason
// rateLimitExceeded or userRateLimitExceeded, 400 resourceNotReady, broken
// connections, connections that never opened (a failed dial or DNS lookup)
// and timeouts match cloudswitch.ErrTransient, wrapped so that the cause stays
// reachable with errors.As (a *googleapi.Error, an *apierror.APIError);
// every other error is permanent.
//
// Refusals — the answers Compute Engine gives before a call takes effect —
// match cloudswitch.ErrRefused: every 4xx with an error reason but 408 and
// 400 resourceNotReady (400 invalid or badRequest, 401, 403 forbidden,
// insufficientPermissions or quotaExceeded, a 404 for a missing project,
// zone, image or machine type, 409, and 429 and the 403 rate limits, which
// are transient too), a request that never left (a failed dial or DNS
// lookup, a certificate the TLS handshake rejected), and the requests the
// driver rejects itself (ErrInvalidRequest). A status without a reason (a
// proxy's page) is not Compute Engine's answer: 408, 429 and 5xx are
// transient, and it is never a refusal nor a missing instance. Nothing else
// is a refusal: not a 5xx, a timeout or a broken connection, and nothing
// met once an insert or a delete has been accepted — an error while
// waiting for it is transient (calling again settles it), a failed
// operation an *OperationError. Nor is any answer to an insert, a delete
// or a resize step that net/http sent more than once: it sends an HTTP/2
// request again when the server resets its stream, and the first attempt
// may have acted. The client's own retries are turned off on every call: by
// default Get retries 503 and 504 for up to 10 minutes and then reports
// only "context deadline exceeded". Errors and log lines never carry
// credentials. The driver logs nothing unless given WithLogger.
//
// # Deleting
//
// Deprovision reads the instance, checks its labels (above), and deletes it
// with requestId DeleteRequestID(zone, name, id) — id is the instance's
// unique numeric id, read before the delete — the same for every attempt
// on that instance: a delete repeated after a lost answer is answered, for
// the at least 60 minutes Google keeps a requestId, with the first delete's
// operation, not refused with 400 resourceNotReady while that one runs. A
// later instance of the same name has another id and so another requestId:
// its delete is never answered with its predecessor's. A delete whose
// operation failed is sent again under the next requestId of a
// deterministic chain. 400 resourceNotReady (another operation runs on the
// instance) is transient and not a refusal.
//
// A 404 naming the instance is "gone" only when the credentials can be
// seen to reach the project: a listing of the instance's zone, filtered by
// its name, must succeed and list nothing. Credentials of another project —
// which may be told 404 about every instance — then fail with that
// listing's error (a 403 is a refusal), never as a VM destroyed. The driver
// records no project in the Instance (its ID stays the instance name, as
// in every record written before), so a driver must be given the project
// its VMs were created in; one given another project finds none of them in
// Instances, which a reconciler reports.
//
// # Statuses
//
// What each of the v1 API's twelve Instance.status values means:
//
//	status                                   Instances   Provision of the token's instance
//	PROVISIONING, STAGING, RUNNING           listed      returned (healthy, or on its way up)
//	REPAIRING                                listed      returned (Compute Engine brings it back)
//	PENDING, PENDING_STOP, SUSPENDING        listed      transient error: call again once settled
//	STOPPING, DEPROVISIONING                 listed      transient error (being stopped or deleted)
//	TERMINATED, STOPPED, SUSPENDED, unknown  listed      ErrInstanceDown: permanent, not a refusal
//
// Instances lists everything that exists — a stopped orphan must be found
// like a running one — including STOPPING, which Compute Engine shows both
// for a stop (the VM stays and bills) and a delete, and DEPROVISIONING
// (halted, its network, addresses and disks being released; seen at the
// end of a delete, and documented only as a teardown): the driver cannot
// tell a stop from a delete by the status, and a VM hidden while it stops
// would make its record look dangling, while one listed while it is
// deleted costs a reconciler at most a deduplicated second delete.
// Provision reports provisioned only a VM that is up or coming up.
//
// # Preflight and resizing
//
// The driver is a cloudswitch.Preflighter: Preflight checks a request and
// asks machineTypes.get and images.get (or images.getFromFamily) whether
// the zone offers the machine type and the image exists, answering a
// *cloudswitch.ValidationError naming region, instance_type or image
// (NewFromClientOptions makes the lookup clients; New takes them with
// WithLookupClients). It is a cloudswitch.Resizer too: Resize stops the
// instance, changes its machine type and starts it again, doing only the
// steps still due, so that a resize interrupted anywhere is finished by the
// next call.
//
// # Listing
//
// Instances lists every zone of the project in one aggregated listing,
// filtered on the owner label, 500 instances a page, yielding each page as
// it arrives; WithZones lists chosen zones one by one instead, with the
// statuses above.
//
// # Permissions
//
// The driver's principal needs, on the project (roles/compute.instanceAdmin.v1
// holds them all):
//
//   - compute.instances.create, compute.instances.setLabels and
//     compute.disks.create to create a VM, and compute.subnetworks.use on its
//     subnetwork;
//   - compute.instances.setMetadata with WithMetadata;
//   - compute.instances.setServiceAccount with WithServiceAccount, and
//     iam.serviceAccounts.actAs on that service account
//     (roles/iam.serviceAccountUser);
//   - compute.images.useReadOnly on a private image (public images need
//     nothing);
//   - compute.instances.get, compute.instances.delete and
//     compute.instances.list;
//   - compute.zoneOperations.get;
//   - compute.machineTypes.get and compute.images.get (and
//     compute.images.getFromFamily) for Preflight;
//   - compute.instances.stop, compute.instances.start and
//     compute.instances.setMachineType for Resize.
//
// The emulator in package gcptest speaks the same REST API, so the driver
// runs in tests, examples and local development without credentials.
package gcp
