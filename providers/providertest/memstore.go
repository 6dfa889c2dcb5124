package providertest

import (
	"testing"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/internal/switchtest"
	"github.com/cloudswitch/cloudswitch/store/memstore"
)

func newMemStore(*testing.T) (cloudswitch.Store, switchtest.CreateFunc) {
	st := memstore.New()
	return st, st.Create
}
