package awstest

import "time"

// Option configures a Server.
type Option func(*options)

type options struct {
	bootTime     time.Duration
	shutdownTime time.Duration
	pageSize     int
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
