// Package hetzner is the cloudswitch.Provider of Hetzner Cloud, on
// github.com/hetznercloud/hcloud-go/v2/hcloud: a workspace's VM is a Hetzner
// server.
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
// Deprovision fails with 403 forbidden, a permanent error. The token never
// appears in an error message or a log line. New takes an *hcloud.Client
// instead; bound its retries as ClientOptions does.
//
// # Labels
//
// Every server the driver creates carries three labels (keys from
// internal/ownership, the same on every cloud):
//
//	cloudswitch-owner      the Switcher's owner, as it is ("cloudswitch" by default)
//	cloudswitch-workspace  the workspace id, encoded by ownership.EncodeLabel
//	cloudswitch-token      the idempotency token, encoded the same way
//
// Hetzner label values are at most 63 letters, digits, '-', '_' and '.': a
// workspace id that is lowercase letters, digits, '-' and '_' is written as
// it is, any other of up to 38 bytes ("Team_A.Workspace-42", "UPPER") as
// "x-" and its base32, and a longer one is refused with a permanent error
// before any API call. Instances finds servers by the owner label
// (label_selector cloudswitch-owner=OWNER) and decodes the other two.
// WithLabels adds labels of your own; it may not set these three.
//
// # Idempotent creation
//
// Hetzner has no idempotency key, but server names are unique in a project.
// The server of a token is named ownership.Name(token) ("cs-" and the
// token, or a hash of it), so creating it twice is refused with
// uniqueness_error. When that happens — the first answer was lost, or a
// resumed switch provisions again — the driver looks the server up by name
// and returns it only if its labels say it was created for the same owner
// and token. A server that has the name but not those labels is someone
// else's: it is never adopted and never touched, and Provision fails with
// ErrNotOurs, a permanent error.
//
// # Errors
//
// not_found is cloudswitch.ErrInstanceNotFound (for Deprovision, success).
// rate_limit_exceeded, conflict, locked, server_error, service_error,
// maintenance, timeout, bad_gateway, bare 429/500/502/503/504 answers,
// broken and refused connections and network timeouts match
// cloudswitch.ErrTransient: hcloud-go retries only some of them itself (not
// 503, locked or maintenance), and the Switcher retries the rest.
// unauthorized, forbidden, invalid_input, json_error, uniqueness_error (other
// than a repeat the driver adopts), resource_limit_exceeded, protected and
// every other 4xx are permanent. A context that ends yields the context's
// error. When an accepted call's outcome is unknown — waiting for its action
// failed — the error is transient, never permanent: calling again settles
// it. errors.As reaches the hcloud.Error under every error.
//
// The hetznertest package emulates the API for tests and for running
// without an account.
package hetzner
