// Package fleet moves many workspaces at once: it plans a switch across a
// selection of workspaces, and applies the plan through a
// cloudswitch.Switcher with a global concurrency limit, per-provider rate
// limits on the clouds' APIs, a canary, a failure budget, a stop button and
// progress events.
//
// A Plan says, per workspace, what a Switch would do — nothing, a
// record-only edit, a resize in place, a new VM where there is none, or a
// recreate (on another provider, or in another region or from another
// image) — and which VM it would destroy, resize or create. The planner
// follows the Switcher's rules and must be configured as the Switcher is.
// Making a plan writes nothing and calls no provider but for preflight
// checks (cloudswitch.Preflighter), one per workspace that would get a VM
// created or resized, as Switch asks. It is printed as a table or as JSON lines, saved
// and loaded (WritePlan, ReadPlan), and applied with Apply, which refuses
// every workspace whose Version changed since the plan was made.
//
// Apply is safe to run again after a stop or a crash: a workspace already at
// its target is skipped as done, one whose switch is journaled is resumed
// (Switcher.Resume). Memory is bounded by the concurrency, not by the fleet:
// selections and saved plans stream.
//
// Rate limits are per provider and shared by every switch: wrap each driver
// with RateLimit before giving it to cloudswitch.New, and every API call
// waits for a token of that provider's bucket.
package fleet
