package sqlstore

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
)

// FuzzDecodeRow checks the row decoder on any column contents: it never
// panics; what it refuses is a *DecodeError naming the row and the column,
// never "not found" or "conflict"; and what it accepts encodes back to
// columns it decodes the same way. The seeds run in plain go test; go test
// -fuzz=FuzzDecodeRow ./store/sqlstore searches further.
func FuzzDecodeRow(f *testing.F) {
	for _, seed := range [][3]string{
		{`{"provider":"aws","instance_type":"t3.medium"}`, ``, ``},
		{`{"provider":"hetzner"}`, `{"provider":"hetzner","id":"42","region":"fsn1","workspace_id":"ws","token":"t","installation":"i"}`, ``},
		{`{}`, `{"provider":"aws","id":"i-1"}`, `{"id":"x","phase":"deprovision","claims":1,"unknown":true}`},
		{`{"provder":"aws"}`, ``, ``},
		{`null`, `null`, `null`},
		{`{"provider":"aws"} {}`, ``, ``},
		{` {"provider":"aws"}`, `[]`, `"s"`},
		{`{"provider":1}`, `{"created_at":"not a time"}`, `{"lease_expires":"x"}`},
	} {
		f.Add(seed[0], seed[1], seed[2], seed[1] != "", seed[2] != "")
	}
	f.Fuzz(func(t *testing.T, compute, instance, pending string, hasInstance, hasPending bool) {
		var inst, pend []byte
		if hasInstance {
			inst = []byte(instance)
		}
		if hasPending {
			pend = []byte(pending)
		}
		w, err := decodeRow("ws", []byte(compute), inst, pend, 7)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) || de.WorkspaceID != "ws" || de.Column == "" {
				t.Fatalf("a refused row is not a *DecodeError naming the row and column: %v", err)
			}
			if errors.Is(err, cloudswitch.ErrNotFound) || errors.Is(err, cloudswitch.ErrConflict) {
				t.Fatalf("an undecodable row reads as not found or conflict: %v", err)
			}
			return
		}
		if w.ID != "ws" || w.Version != 7 || (w.Instance != nil) != hasInstance || (w.Pending != nil) != hasPending {
			t.Fatalf("decoded %+v from a row with instance=%v pending=%v", w, hasInstance, hasPending)
		}
		c, i, p, err := columnsOf(w)
		require.NoError(t, err, "a decoded row does not encode")
		var ib, pb []byte
		if s, ok := i.(string); ok {
			ib = []byte(s)
		}
		if s, ok := p.(string); ok {
			pb = []byte(s)
		}
		again, err := decodeRow("ws", []byte(c), ib, pb, 7)
		require.NoError(t, err, "a row encoded from a decoded one does not decode")
		if again.Compute != w.Compute || (again.Instance == nil) != (w.Instance == nil) ||
			(w.Instance != nil && !again.Instance.CreatedAt.Equal(w.Instance.CreatedAt)) {
			t.Fatalf("round trip changed the row: %+v then %+v", w, again)
		}
	})
}
