package cloudswitch

import (
	"context"
	"errors"
	"fmt"
)

// deprovision destroys inst on its provider, retrying transient errors by
// the RetryPolicy; a VM already gone is success. It reports the call as the
// stage at, with inst's provider and id, unless quiet. It reports whether a
// failure was a refusal: the provider said of every attempt that it did not
// act. A switch and a Reconciler's pass destroy VMs with it alike.
func (s *Switcher) deprovision(ctx context.Context, at StageEvent, quiet bool, inst Instance) (refused bool, err error) {
	p := s.providers[inst.Provider]
	if p == nil {
		return false, fmt.Errorf("VM %s is on provider %q, which has no driver here: %w", inst.ID, inst.Provider, ErrUnknownProvider)
	}
	at.Provider, at.InstanceID = inst.Provider, inst.ID
	sp := s.startStage(ctx, quiet, at)
	var rt refusalTally
	attempts, err := s.retrier(&sp).Do(sp.ctx, func(ctx context.Context) error {
		err := p.Deprovision(ctx, inst)
		if errors.Is(err, ErrInstanceNotFound) && !errors.Is(err, ErrNotOurs) {
			return nil
		}
		return rt.note(foreignCause(err))
	})
	sp.ev.Attempts = attempts
	sp.end(err)
	return rt.refused(err), err
}
