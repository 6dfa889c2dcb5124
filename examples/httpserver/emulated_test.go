package main

import (
	"context"
	"errors"
	"testing"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/examples/internal/wiring"
	"github.com/cloudswitch/cloudswitch/store/memstore"
)

func TestInProcessEmulatorsRefuseRecordsOfEmulatedVMs(t *testing.T) {
	ctx := context.Background()
	modes := map[string]wiring.Mode{cloudswitch.AWS: wiring.Emulated, cloudswitch.Hetzner: wiring.Real, cloudswitch.GCP: wiring.Off}
	for _, tc := range []struct {
		name   string
		ws     cloudswitch.Workspace
		refuse bool
	}{
		{"no VM yet", cloudswitch.Workspace{Compute: cloudswitch.Compute{Provider: cloudswitch.AWS}}, false},
		{"a VM on a real cloud", cloudswitch.Workspace{Compute: cloudswitch.Compute{Provider: cloudswitch.Hetzner},
			Instance: &cloudswitch.Instance{Provider: cloudswitch.Hetzner, ID: "1"}}, false},
		{"a VM on an emulated cloud", cloudswitch.Workspace{Compute: cloudswitch.Compute{Provider: cloudswitch.AWS},
			Instance: &cloudswitch.Instance{Provider: cloudswitch.AWS, ID: "i-1"}}, true},
		{"a VM recorded before providers were", cloudswitch.Workspace{
			Instance: &cloudswitch.Instance{ID: "i-1"}}, true},
		{"a switch creating a VM on an emulated cloud", cloudswitch.Workspace{Compute: cloudswitch.Compute{Provider: cloudswitch.Hetzner},
			Pending: &cloudswitch.Intent{ID: "x", Provision: true, To: cloudswitch.Compute{Provider: cloudswitch.AWS}}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := memstore.New()
			tc.ws.ID = "ws-1"
			if _, err := store.Create(ctx, tc.ws); err != nil {
				t.Fatal(err)
			}
			err := checkNoEmulatedRecords(ctx, store, modes)
			if refused := errors.Is(err, errEmulatedRecords); refused != tc.refuse || (err != nil && !refused) {
				t.Errorf("err %v, want refused %v", err, tc.refuse)
			}
		})
	}
}
