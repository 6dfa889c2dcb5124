package wiring

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/internal/emulated"
	"github.com/cloudswitch/cloudswitch/store/memstore"
)

func TestEmulatorsThatDoNotKnowTheRecordedVMsAreRefused(t *testing.T) {
	ctx := t.Context()
	modes := map[string]Mode{cloudswitch.AWS: Emulated, cloudswitch.Hetzner: Emulated, cloudswitch.GCP: Real}
	onAWS := cloudswitch.Workspace{Compute: cloudswitch.Compute{Provider: cloudswitch.AWS},
		Instance: &cloudswitch.Instance{Provider: cloudswitch.AWS, ID: "i-1"}}
	onHetzner := cloudswitch.Workspace{Compute: cloudswitch.Compute{Provider: cloudswitch.Hetzner},
		Instance: &cloudswitch.Instance{Provider: cloudswitch.Hetzner, ID: "7"}}
	for _, tc := range []struct {
		name   string
		ws     cloudswitch.Workspace
		vms    []emulated.VM
		refuse bool
	}{
		{"no VM yet", cloudswitch.Workspace{Compute: cloudswitch.Compute{Provider: cloudswitch.AWS}}, nil, false},
		{"a VM on a real cloud", cloudswitch.Workspace{Compute: cloudswitch.Compute{Provider: cloudswitch.GCP},
			Instance: &cloudswitch.Instance{Provider: cloudswitch.GCP, ID: "cs-1"}}, nil, false},
		{"fresh emulators", onAWS, nil, true},
		{"a VM recorded before providers were, fresh emulators", cloudswitch.Workspace{
			Instance: &cloudswitch.Instance{ID: "i-1"}}, nil, true},
		{"emulators that kept their state", onAWS,
			[]emulated.VM{{Provider: cloudswitch.AWS, ID: "i-1", WorkspaceID: "ws-1", Live: true}}, false},
		{"a recorded VM gone from emulators that kept their state", onHetzner,
			[]emulated.VM{{Provider: cloudswitch.AWS, ID: "i-9", WorkspaceID: "ws-1", State: "terminated"}}, false},
		{"an id reused for another workspace", onHetzner,
			[]emulated.VM{{Provider: cloudswitch.Hetzner, ID: "7", WorkspaceID: "ws-other", Live: true}}, true},
		{"a switch that destroys a VM fresh emulators lack", cloudswitch.Workspace{Compute: cloudswitch.Compute{Provider: cloudswitch.GCP},
			Pending: &cloudswitch.Intent{ID: "x", Old: &cloudswitch.Instance{Provider: cloudswitch.Hetzner, ID: "3"}}}, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := memstore.New()
			tc.ws.ID = "ws-1"
			_, err := store.Create(ctx, tc.ws)
			require.NoError(t, err)
			err = CheckEmulatorsKnowRecords(ctx, store, modes, tc.vms)
			if tc.refuse {
				assert.ErrorIs(t, err, ErrEmulatedRecords)
			} else {
				assert.NoError(t, err)
			}
		})
	}
}
