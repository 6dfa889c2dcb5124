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
//	for _, vm := range srv.Servers() { … }           // the ground truth
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
//     and is gone when its delete_server action ends), GET /actions?id=…
//     (at least one id), GET /actions/{id}, GET /ssh_keys?name=….
//   - Anything else: 404 not_found.
//
// Every call must bear the server's token (Token) as a bearer token, or is
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
// # Ground truth
//
// Servers returns every server as the emulator holds it, whatever a listing
// shows; AddServer plants a server created outside cloudswitch, such as
// someone else's server that happens to have the name a token derives.
package hetznertest
