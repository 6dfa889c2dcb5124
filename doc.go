// Package cloudswitch moves a workspace — one record in a database, backed by
// one VM on a cloud — from one provider to another without ever leaving a VM
// running that no record points at. Such a VM keeps billing and nobody
// finds it; this package exists to make that impossible, under crashes,
// retries, concurrent callers and flaky clouds. Drivers for AWS EC2, Hetzner
// Cloud and GCP Compute Engine ship with it; a driver for any other cloud
// implements [Provider].
//
// # What a switch does
//
// A [Switcher] reads the workspace from a [Store], validates the target
// against an [Allowlist], and — on a provider change — journals an [Intent]
// in the workspace's record with a compare-and-swap write before it calls any
// provider. Then, in the order of its [Strategy], it destroys the old VM on
// the old provider and writes the new compute; that write clears the old VM
// from the record. It creates the new VM with an idempotency token derived
// from the intent. The last write records the new VM and clears the intent.
// A same-provider change is a single compare-and-swap write.
//
// If the process dies at any step, the intent stays in the record.
// [Switcher.Resume] — or the [Reconciler], once the intent's lease has
// expired — picks it up and takes the recorded step again: destroying a VM
// that is gone succeeds, and provisioning with the same token returns the VM
// an earlier attempt created. The workspace always ends either unchanged or
// switched.
//
// # The guarantees
//
// Each guarantee is stated here once; the README, the drivers and the
// conformance suites refer to this list.
//
//   - Validate first: a target the allowlist refuses is a *[ValidationError]
//     before anything is written or any provider is called. So is a target
//     the cloud says it would not create, when its driver is a
//     [Preflighter].
//   - Fail closed: a read that fails (other than "not found") aborts with
//     nothing done; "not found" and "could not read" are never confused.
//   - The old VM is destroyed on its own provider, and that succeeds, before
//     the new compute is written; a stop the provider refused aborts the
//     switch with the record untouched ([AbortError]).
//   - Transient provider errors are retried with backoff and jitter within a
//     [RetryPolicy]; permanent ones are not retried at all; a VM already gone
//     counts as destroyed.
//   - Refusals are explicit: only an outcome the provider proved by refusing
//     ([ErrRefused]: every attempt of the call was refused — authorization,
//     validation, quota, throttling) may be reported as [AbortError]. Any
//     other failure of a call that may have acted — a 5xx, a timeout, a
//     broken connection, an error after the cloud accepted the call, or an
//     error a driver did not mark — leaves the switch journaled
//     ([IncompleteError]).
//   - One switch at a time per workspace, across every process sharing the
//     store: others get [ErrSwitchInProgress].
//   - Crash safety: every step is journaled; an outcome that is unknown (a
//     write or a provider call that may have taken effect) is reported as
//     [IncompleteError], never as "nothing changed", and Resume finishes it.
//     Resume reports a switch settled only when no intent remains.
//   - Hooks are journaled: an intent records that it requires the
//     BeforeDeprovision hook and when the hook completed. A Switcher or
//     Reconciler without the hook never advances such a switch past it
//     ([ErrHookRequired]), and a completed hook is not run again.
//   - Versions never repeat for a workspace id, across deletion and
//     re-creation, so a compare-and-swap prepared against a deleted
//     workspace can never land on its successor. A workspace counts as
//     deleted mid-switch only when the store says so twice, and no provider
//     call of a switch outlives its lease, whatever an [Observer] returns.
//   - The write that changes the provider clears the old instance: no record
//     ever names a VM of another provider than its compute.
//   - Never a guess: an unknown provider, a provider without a driver, or a
//     driver that cannot tell whether a VM exists never makes a VM "gone".
//   - No implicit switch: an empty provider in a request keeps the current
//     one. Whatever destroys the VM (a provider change, a change of region
//     or image) requires [Request.ConfirmRecreate]. A change of instance
//     type resizes the VM in place where its driver is a [Resizer]; the
//     record takes the new type only once the VM has it.
//   - Every VM carries ownership tags (owner, installation, workspace,
//     token), so the [Reconciler] can find any VM no record points at; a VM
//     the driver returned but that cannot be accepted stays journaled by its
//     token, never forgotten.
//   - Destruction is fenced: a driver destroys a VM only if its tags name the
//     workspace and installation the [Instance] names ([ErrNotOurs]).
//   - The Reconciler's reach is fenced: it judges only its installation's
//     VMs ([InstallationStore]), deletes nothing when its store holds no
//     workspace, and nothing in a pass with more orphans than
//     [WithDeleteLimit] allows.
//   - Credentials never appear in errors, log lines or observer events.
//
// # Example
//
// A program that moves a workspace and maps the errors to HTTP is
// examples/ownserver (the README shows it whole); in short:
//
//	awsDriver, err := aws.NewFromConfig(cfg, aws.WithImage(ami))      // providers/aws
//	hetznerDriver, err := hetzner.NewFromToken(os.Getenv("HCLOUD_TOKEN")) // providers/hetzner
//	sw, err := cloudswitch.New(store, map[string]cloudswitch.Provider{
//		cloudswitch.AWS:     awsDriver,
//		cloudswitch.Hetzner: hetznerDriver,
//	}, cloudswitch.WithOwner("acme-prod"))
//	…
//	res, err := sw.Switch(ctx, "ws-1", cloudswitch.Request{
//		Compute:         cloudswitch.Compute{Provider: cloudswitch.Hetzner},
//		ConfirmRecreate: true,
//	})
//	var abort *cloudswitch.AbortError
//	var incomplete *cloudswitch.IncompleteError
//	switch { // in this order
//	case errors.As(err, &incomplete):                                // 202: journaled, Resume or the Reconciler finishes it
//	case errors.As(err, &abort) && abort.Stage == cloudswitch.StageRead: // 503: the record could not be read; nothing changed
//	case errors.As(err, &abort):                                     // 502: refused or the hook failed; nothing changed, retry
//	case errors.Is(err, cloudswitch.ErrInvalid):                     // 400: the allowlist refused the target
//	case errors.Is(err, cloudswitch.ErrConfirmRequired):             // 428: ask the user to confirm
//	case errors.Is(err, cloudswitch.ErrNotFound):                    // 404
//	case errors.Is(err, cloudswitch.ErrSwitchInProgress):            // 409: another switch is pending
//	case errors.Is(err, cloudswitch.ErrConflict):                    // 412 with If-Match, else 409: changed meanwhile
//	}
//
// The Reconciler that finds leaked VMs comes from the same Switcher, so that
// it lists the same owner and resumes with the same hooks:
//
//	rec, err := sw.Reconciler(cloudswitch.WithGracePeriod(30 * time.Minute))
//	…
//	report, err := rec.Reconcile(ctx) // every few minutes
//
// Drivers live in providers/aws, providers/hetzner and providers/gcp, each
// with an emulator of its cloud's API for tests; providers/memprovider and
// store/memstore are in-memory implementations with fault injection, and
// store/sqlstore keeps workspaces in PostgreSQL or SQLite. store/storetest
// and providers/providertest check your own Store or Provider against the
// contract.
package cloudswitch
