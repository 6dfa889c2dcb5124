// Package hetznertest emulates the Hetzner Cloud API for tests and demos:
// an httptest server that speaks the API's JSON for the calls the
// cloudswitch Hetzner driver makes, so that the real hcloud-go code runs
// against it without an account or a network.
//
//	srv := hetznertest.NewServer(t)                 // closed when the test ends
//	driver, err := hetzner.New(srv.Client())        // an hcloud client pointed at it
//	srv.Inject(hetznertest.Fault{Op: hetznertest.OpDeleteServer, Times: 2,
//		Status: 503, Code: "service_error"})        // two failed deletes, then success
//	srv.Inject(hetznertest.Fault{Op: hetznertest.OpCreateServer, Times: 1, Drop: true})
//	                                                // created, but the answer is lost
//	for _, vm := range srv.Instances() { … }        // the ground truth
//
// # What it serves
//
//   - POST /servers: checks the request (a host name, a known server type
//     and location, an image, existing SSH key ids, valid labels, user
//     data within 32 KiB: 400 invalid_input otherwise), refuses a taken
//     name with 409 uniqueness_error, and answers 201 with the server
//     ("initializing"), its create_server action and a start_server next
//     action, both "running".
//   - GET /servers: filtered by name, status and label_selector ("k=v",
//     "k==v", "k!=v", "k", "!k", "k in (a,b)", "k notin (a,b)", joined by
//     commas), sorted by sort (id, name, created; :asc or :desc), one page
//     of per_page (default 25, at most 50) with meta.pagination as the API
//     spells it.
//   - GET /servers/{id}, DELETE /servers/{id} (the server turns "deleting"
//     and is gone when its delete_server action ends; 423 locked while
//     another action runs on it), GET /servers/{id}/actions (filtered by
//     status), GET /actions?id=… (at least one id), GET /actions/{id},
//     GET /ssh_keys?name=…, GET /ssh_keys/{id}.
//   - POST /servers/{id}/actions/shutdown, /poweroff, /poweron and
//     /change_type (the server must be off: 409 server_not_stopped; an
//     unknown type is invalid_input; SetUnavailable refuses it with
//     resource_unavailable), each an action, locked like a delete.
//   - GET /placement_groups?name=…, POST /placement_groups (type spread;
//     a taken name is uniqueness_error): only their names, labels and
//     creation times, without placement.
//   - The catalog: GET /server_types?name=… (WithServerTypes, each listing
//     the locations it is offered in and whether it is available there, as
//     SetUnavailable says), GET /locations?name=… (WithLocations), GET
//     /images?name=…&architecture=… and GET /images/{id} (DefaultImages and
//     WithImages, each for x86 and Arm).
//   - Anything else: 404 not_found.
//
// Every call must bear the project's token (Token) as a bearer token, or
// OtherProjectToken's, which reaches another, empty project; any other is
// answered 401 unauthorized. Errors use the API's envelope
// {"error":{"code","message","details"}} with Content-Type
// application/json. Actions are "running" in the answer that starts them
// and "success" from the next request on (WithActionDuration makes them
// run longer), so waiting for one takes no sleep.
//
// # Faults
//
// Inject scripts a Fault for the next N calls of an operation (OpCreateServer,
// OpListServers, …, or all): an error answer without effect (an API code, or
// a bare status as from a proxy), added latency, or Drop — the call takes
// effect and the connection is dropped before the answer, as when a response
// is lost. SetLatency slows every call, SetListLag hides new servers from
// listings for a while, SetPageSize makes listings page sooner, and Calls
// counts the calls of each operation. The machinery is shared with the
// other cloudswitch emulators.
//
// # Documented behaviours
//
// Read against the Hetzner Cloud API reference (docs.hetzner.cloud), the
// emulator models, each on by default where the API does it and with a
// knob to force or disable it:
//
//   - "Errors": the error envelope and the table of codes with their
//     statuses (412 resource_unavailable, 423 locked and protected, 429
//     rate_limit_exceeded, …), for injected faults.
//   - "locked — the item you are trying to access is locked (there is
//     already an Action running)": a DELETE of a server whose create or
//     start action runs is answered 423 locked, without effect (on by
//     default; visible with WithActionDuration; SetLocking turns it off).
//   - "Actions": an action ends in status "success" or "error", with
//     error.code and error.message. FailActions makes the next create,
//     start or delete actions fail; a failed create leaves the server "off"
//     in the project (so its name stays taken), a failed delete leaves it as
//     it was. Off by default: the reference does not say how often it
//     happens.
//   - Capacity: 412 resource_unavailable ("not available for order", from
//     the error table) and 422 placement_error ("Create a Server",
//     operation-specific errors) for a server type and location
//     SetUnavailable names, without effect. Off by default.
//   - "A token is bound to a Project" (Getting started): OtherProjectToken
//     authenticates to another project, which sees none of this project's
//     servers, actions or SSH keys — every server of this project answers
//     it 404 not_found — while server and action ids stay unique across
//     both.
//
// Not modelled: POST /servers accepts any image name, listed or not;
// rate limiting by itself (RateLimit-* headers; inject 429
// instead), protection (protected), maintenance, the deprecated GET
// /actions listing without ids, what Hetzner does with the server of a
// failed create beyond keeping it, a second DELETE of a server being
// deleted being locked (it answers the running delete action), placement
// groups, datacenters, volumes, primary IPs, and server type availability
// per location (every type exists in every location unless SetUnavailable
// says otherwise).
//
// # Ground truth
//
// Instances returns every server as the emulator holds it, whatever a
// listing shows, and Live the servers that exist as cloudswitch.Instance
// values; AddInstance plants a server created outside cloudswitch, such as
// someone else's server that happens to have the name a token derives.
// Harness wires a driver talking to the emulator into the providertest
// conformance suite. The fault vocabulary (Fault, CallCount, SetLatency,
// SetListLag, …) is the one every emulator of this module shares (package
// emulator).
package hetznertest
