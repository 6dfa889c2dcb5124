package awstest

import "time"

// Option configures a Server.
type Option func(*options)

type options struct {
	bootTime             time.Duration
	shutdownTime         time.Duration
	pageSize             int
	consistencyDelay     time.Duration
	tokenWindow          time.Duration
	terminatedVisibility time.Duration
	pageTokenTTL         time.Duration
	instanceLimit        int
}

// The defaults of the documented behaviours the emulator models (see the
// package doc).
const (
	// DefaultConsistencyDelay is how long a new instance is unknown to
	// DescribeInstances by id and to TerminateInstances. EC2 documents no
	// figure ("might not be immediately visible"); the default is short so
	// that tests stay fast, and long enough that a call made right after
	// RunInstances, as a driver makes it, meets it.
	DefaultConsistencyDelay = 10 * time.Millisecond
	// DefaultTokenWindow is how long after its instance terminated a
	// ClientToken is remembered: EC2 says "at least 24 hours".
	DefaultTokenWindow = 24 * time.Hour
	// DefaultTerminatedVisibility is how long a terminated instance stays
	// describable: EC2 says "a short while", about an hour.
	DefaultTerminatedVisibility = time.Hour
	// DefaultPageTokenTTL is how long a DescribeInstances NextToken is
	// valid. EC2 documents that tokens expire (InvalidPaginationToken) but
	// not after how long.
	DefaultPageTokenTTL = time.Hour
)

func defaultOptions() options {
	return options{
		consistencyDelay:     DefaultConsistencyDelay,
		tokenWindow:          DefaultTokenWindow,
		terminatedVisibility: DefaultTerminatedVisibility,
		pageTokenTTL:         DefaultPageTokenTTL,
	}
}

// WithBootTime makes a new instance pending for d before it is running.
// With d = 0 (the default) it is pending in the RunInstances answer and
// running from the next DescribeInstances call on, so a waiter for "running"
// succeeds at its first poll.
func WithBootTime(d time.Duration) Option {
	return func(o *options) { o.bootTime = max(d, 0) }
}

// WithShutdownTime makes a terminated instance shutting-down for d before it
// is terminated. With d = 0 (the default) it is shutting-down in the
// TerminateInstances answer and terminated from the next DescribeInstances
// call on.
func WithShutdownTime(d time.Duration) Option {
	return func(o *options) { o.shutdownTime = max(d, 0) }
}

// WithPageSize caps how many instances one DescribeInstances page holds, as
// SetPageSize does; n <= 0 means no cap beyond the request's MaxResults.
func WithPageSize(n int) Option {
	return func(o *options) { o.pageSize = max(n, 0) }
}

// WithConsistencyDelay sets how long after its launch an instance answers
// InvalidInstanceID.NotFound to DescribeInstances by id and to
// TerminateInstances (default DefaultConsistencyDelay; 0 turns it off), as
// SetConsistencyDelay does.
func WithConsistencyDelay(d time.Duration) Option {
	return func(o *options) { o.consistencyDelay = max(d, 0) }
}

// WithTokenWindow sets how long after its instances terminated a ClientToken
// is remembered (default DefaultTokenWindow): within it, RunInstances with
// the token answers IdempotentInstanceTerminated; after it, the token
// launches a new instance.
func WithTokenWindow(d time.Duration) Option {
	return func(o *options) { o.tokenWindow = max(d, 0) }
}

// WithTerminatedVisibility sets how long a terminated instance stays
// describable (default DefaultTerminatedVisibility); after it, EC2 answers
// InvalidInstanceID.NotFound for its id and listings skip it.
func WithTerminatedVisibility(d time.Duration) Option {
	return func(o *options) { o.terminatedVisibility = max(d, 0) }
}

// WithPageTokenTTL sets how long a NextToken is valid (default
// DefaultPageTokenTTL); an older one is answered InvalidPaginationToken.
func WithPageTokenTTL(d time.Duration) Option {
	return func(o *options) { o.pageTokenTTL = max(d, 0) }
}

// WithInstanceLimit sets the account's instance quota per region: a
// RunInstances that would make more than n instances not yet terminated
// (shutting-down ones count until they are terminated) is answered
// InstanceLimitExceeded. 0, the default, means no limit.
func WithInstanceLimit(n int) Option {
	return func(o *options) { o.instanceLimit = max(n, 0) }
}
