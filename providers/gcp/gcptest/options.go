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
	project          string
	zones            []string
	opTime           time.Duration
	requestIDWindow  time.Duration
	resourceNotReady bool
	clock            func() time.Time
}

// DefaultRequestIDWindow is how long a server remembers a requestId unless
// WithRequestIDWindow says otherwise: the 60 minutes Google guarantees.
const DefaultRequestIDWindow = 60 * time.Minute

func defaults() options {
	return options{project: DefaultProject, zones: DefaultZones, requestIDWindow: DefaultRequestIDWindow, resourceNotReady: true, clock: time.Now}
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

// WithRequestIDWindow sets how long the server remembers a requestId: an
// insert or a delete repeating one seen less than d ago is answered with
// the first call's operation; after d the requestId is forgotten and the
// call acts anew. Google guarantees at least 60 minutes (the default,
// DefaultRequestIDWindow) and promises nothing after that.
func WithRequestIDWindow(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.requestIDWindow = d
		}
	}
}

// WithoutResourceNotReady makes a delete of an instance with an operation
// running on it act at once, instead of answering 400 resourceNotReady as
// Compute Engine does (the default).
func WithoutResourceNotReady() Option {
	return func(o *options) { o.resourceNotReady = false }
}

// WithClock sets the clock the server reads the time from (time.Now by
// default), so that a test can move past the requestId window or an
// operation's time without sleeping. It governs operations, listing lags
// and requestIds; injected latency is real time.
func WithClock(now func() time.Time) Option {
	return func(o *options) {
		if now != nil {
			o.clock = now
		}
	}
}
