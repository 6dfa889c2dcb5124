package gcptest

import "time"

// DefaultProject is the project a server serves unless WithProject says
// otherwise.
const DefaultProject = "cloudswitch-emulator"

// DefaultZones are the zones a server knows unless WithZones says otherwise.
var DefaultZones = []string{"asia-east1-a", "europe-west1-b", "us-central1-a", "us-central1-b", "us-central1-f"}

// Option configures a Server.
type Option func(*options)

type options struct {
	project string
	zones   []string
	opTime  time.Duration
}

func defaults() options {
	return options{project: DefaultProject, zones: DefaultZones}
}

// WithProject sets the one project the server serves; requests naming
// another project get 404 notFound, as they would for a project that does
// not exist.
func WithProject(project string) Option {
	return func(o *options) {
		if project != "" {
			o.project = project
		}
	}
}

// WithZones sets the zones the server knows. Requests naming another zone get
// 404 notFound, and an aggregated list has one entry for each of them.
func WithZones(zones ...string) Option {
	return func(o *options) {
		if len(zones) > 0 {
			o.zones = append([]string(nil), zones...)
		}
	}
}

// WithOperationTime sets how long an insert or a delete takes. Until it has
// passed, the operation answers RUNNING, an instance being created is
// PROVISIONING and one being deleted is STOPPING; then the operation is DONE,
// the instance RUNNING or gone. The default, 0, finishes every operation by
// the next request the server receives, so that a client polling it is
// answered DONE at once and tests never sleep.
func WithOperationTime(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.opTime = d
		}
	}
}
