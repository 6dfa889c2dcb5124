package memstore_test

import (
	"testing"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/store/memstore"
	"github.com/cloudswitch/cloudswitch/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) cloudswitch.Store { return memstore.New() })
}
