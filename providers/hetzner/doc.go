// Package hetzner is the cloudswitch.Provider of Hetzner Cloud, on
// github.com/hetznercloud/hcloud-go/v2/hcloud: a workspace's VM is a Hetzner
// server.
//
// The driver honours the [cloudswitch.Provider] contract: that is its part of
// the guarantees listed in package cloudswitch's documentation. The sections
// below say how it does so on Hetzner Cloud.
//
//	driver, err := hetzner.NewFromToken(os.Getenv("HCLOUD_TOKEN"),
//		hetzner.WithLocation("nbg1"), hetzner.WithSSHKeys("ops"))
//	…
//	sw, err := cloudswitch.New(store, map[string]cloudswitch.Provider{cloudswitch.Hetzner: driver})
//
// A Compute for Hetzner names a server type (InstanceType, such as "cpx31"),
// a location (Region, such as "fsn1"; default WithLocation's, DefaultLocation)
// and optionally an image (default WithImage's, DefaultImage).
//
// # The API token
//
// NewFromToken takes a project API token with read & write permission: the
// driver creates and deletes servers (and reads SSH keys when WithSSHKeys
// names them). A read-only token can list but every Provision and
// Deprovision is refused (forbidden or token_readonly), a permanent error. The token never
// appears in an error message or a log line. New takes an *hcloud.Client
// instead; turn its retries off as ClientOptions does, since a refusal
// must speak of the only attempt.
//
// # Labels
//
// Every server the driver creates carries these labels (keys from
// the ownership package, the same on every cloud):
//
//	cloudswitch-owner         the Switcher's owner, as it is ("cloudswitch" by default)
//	cloudswitch-workspace     the workspace id, encoded by ownership.EncodeLabel
//	cloudswitch-token         the idempotency token, encoded the same way
//	cloudswitch-installation  the installation id, encoded the same way (only when the request names one)
//
// Hetzner label values are at most 63 letters, digits, '-', '_' and '.': a
// workspace id that is lowercase letters, digits, '-' and '_' is written as
// it is, any other of up to 38 bytes ("Team_A.Workspace-42", "UPPER") as
// "x-" and its base32, and a longer one is refused before any API call.
// Instances finds servers by the owner label (label_selector
// cloudswitch-owner=OWNER) and decodes the others; Provision and Instances
// also report the server type and image a server runs. WithLabels adds
// labels of your own; it may not set these four.
//
// # Fenced destruction
//
// Deprovision reads the server before it deletes it, and deletes it only
// when its workspace and installation labels name the workspace and the
// installation the Instance names (each when the Instance names one). A
// server labelled for another workspace or installation, or not labelled at
// all, is left alone: Deprovision returns an error matching
// cloudswitch.ErrNotOurs.
//
// # Idempotent creation
//
// Hetzner has no idempotency key, but server names are unique in a project.
// The server of a token is named ownership.Name(token) ("cs-" and the
// token, or a hash of it), so creating it twice is refused with
// uniqueness_error. When that happens — the first answer was lost, or a
// resumed switch provisions again — the driver looks the server up by name
// and returns it only if its labels say it was created for the same owner,
// token and installation. A server that has the name but not those labels
// is someone else's: it is never adopted and never touched, and Provision
// fails with cloudswitch.ErrNotOurs.
//
// The name guards only while the server lives: nothing in a project
// remembers a deleted server's name, so Provision with a token whose server
// was deleted creates another one (the driver never returns
// cloudswitch.ErrTokenSpent). One token never has two live servers, and a
// late server carries its token's labels, so Instances lists it and a
// Reconciler that finds no record naming it reports it as an orphan (and
// destroys it under WithDeleteOrphans).
//
// An adopted server must also be healthy. A create action can end in status
// "error" (Hetzner Cloud API reference, "Actions"), and the server of a
// failed create may stay, holding the token's name. So the driver reads the
// server's actions (GET /servers/{id}/actions): while its create or start
// action runs, it waits for it; when one failed, it deletes the server and
// creates it anew (once per call). A failed server that cannot be deleted is
// reported with a transient error, never a refusal and never as
// provisioned. A server being deleted is not adopted either (transient).
//
// # Locks
//
// Deleting a server while another action runs on it (its create, after a
// Provision whose wait was cut short) is answered 423 locked. Deprovision
// then waits for the server's running actions and deletes again, up to
// three times; a lock that outlasts that is transient.
//
// # Not found, and the project
//
// A token is bound to one project, and a valid token of another project
// gets not_found for every server of this one: taking that for "gone" would
// make every switch forget, and leak, its old server. The API names no
// project, so the driver keeps evidence of its own: before its first
// Provision for an installation it ensures an anchor in the project, a
// placement group named cloudswitch-anchor[-INSTALLATION] (free; it places
// nothing), so the anchor is older than every server it vouches for.
//
// Deprovision then counts a server as gone (cloudswitch.ErrInstanceNotFound)
// only when the credentials can be shown to see the project it was created
// in: the read before the delete found it (a later not_found is trusted),
// or an older server (server ids grow across all of Hetzner) labelled for
// the Instance's installation (when the Instance names none: a cloudswitch
// server without an installation label) is listed, or the installation's
// anchor is there and no younger than the Instance, or one of the
// WithSSHKeys keys given by id is in the project (a key found by name is no
// evidence: names are not unique across projects). Evidence of another
// installation never counts: its servers may be in any project. Without such evidence
// Deprovision returns a permanent error that is neither not-found nor a
// refusal: the switch stays journaled instead of forgetting a server that
// may exist. That is the case for a server created by a driver without the
// anchor (an earlier version) that is the last of its installation, until
// the project shows again. A token of another project still creates
// servers there: nothing in the API tells the driver which project it
// should be; the anchor's age keeps such a driver from vouching for older
// servers.
//
// # Preflight and Resize
//
// The driver is a cloudswitch.Preflighter: Preflight looks up the server
// type, the location, the image (for the type's architecture) and the SSH
// keys, and checks the type is available in the location, creating
// nothing; a refusal is a *cloudswitch.ValidationError naming the field.
// It is a cloudswitch.Resizer: Resize shuts the server down (powering it
// off after a minute), changes its type without upgrading the disk, and
// powers it on, keeping its id and addresses; it is idempotent, fenced by
// the labels as Deprovision is, and a refused type change leaves the
// server running as it was.
//
// # Errors
//
// not_found is cloudswitch.ErrInstanceNotFound (for Deprovision, success).
// rate_limit_exceeded, conflict, locked, server_error, service_error,
// unavailable, maintenance, timeout, bad_gateway, the capacity answers
// resource_unavailable and placement_error, bare 408, 429 and 5xx answers,
// broken and refused connections, DNS failures and network timeouts match
// cloudswitch.ErrTransient. The driver's client makes one attempt of each
// call (see ClientOptions); the Switcher retries.
//
// Capacity (resource_unavailable, 412; placement_error, 422) refuses a
// create: it is transient and a refusal, so the Switcher retries and, when
// the capacity does not come back, reports that nothing changed.
//
// An answer the Hetzner Cloud API reference ("Errors"; "Create a Server"
// for placement_error) documents as given before the call took effect
// matches cloudswitch.ErrRefused, the Switcher's only proof that nothing
// changed: unauthorized, token_readonly, forbidden, invalid_input,
// json_error, uniqueness_error (other than a repeat the driver adopts),
// resource_limit_exceeded, resource_unavailable, placement_error,
// protected, resource_locked, maintenance, unsupported_error,
// method_not_allowed, deprecated_api_endpoint, rate_limit_exceeded (also
// transient), not_found for a create (a missing image or type), a request
// that never left (a failed dial or DNS lookup, a certificate the TLS
// handshake rejected), and every request the driver refuses before calling
// the API. Nothing else is a
// refusal: not a 5xx or an unknown code, not locked or conflict, not a bare
// status from something in front of the API, not a broken connection, and
// never an error after the API accepted a create or a delete (a failed or
// unfinished action while waiting), and never an answer to a create, a
// delete or an action that net/http sent more than once (it sends an
// HTTP/2 request again when the server resets its stream, and the first
// attempt may have acted). A context that ends yields the
// context's error. When an accepted call's outcome is unknown the error is
// transient: calling again settles it. errors.As reaches the hcloud.Error
// under every error.
//
// The hetznertest package emulates the API for tests and for running
// without an account.
package hetzner
