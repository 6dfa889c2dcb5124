package fleet_test

import (
	"context"
	"fmt"
	"os"

	"golang.org/x/time/rate"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/fleet"
	"github.com/cloudswitch/cloudswitch/providers/memprovider"
	"github.com/cloudswitch/cloudswitch/store/memstore"
)

// Move every workspace on AWS to Hetzner: plan, review, apply with rate
// limits and a canary.
func Example() {
	ctx := context.Background()
	store := memstore.New()
	aws, hz := memprovider.New(cloudswitch.AWS), memprovider.New(cloudswitch.Hetzner)
	for _, id := range []string{"alpha", "beta", "gamma"} {
		c := cloudswitch.Compute{Provider: cloudswitch.AWS, InstanceType: "t3.medium"}
		vm := aws.Add(cloudswitch.DefaultOwner, id, c)
		_, _ = store.Create(ctx, cloudswitch.Workspace{ID: id, Compute: c, Instance: &vm})
	}
	// Every switch shares one token bucket per cloud.
	drivers := fleet.RateLimitAll(
		map[string]cloudswitch.Provider{cloudswitch.AWS: aws, cloudswitch.Hetzner: hz},
		map[string]*rate.Limiter{cloudswitch.AWS: rate.NewLimiter(20, 1), cloudswitch.Hetzner: rate.NewLimiter(10, 1)})

	planner, _ := fleet.NewPlanner(store, drivers)
	req := cloudswitch.Request{Compute: cloudswitch.Compute{Provider: cloudswitch.Hetzner}, ConfirmRecreate: true}
	plan, err := planner.Plan(ctx, fleet.Where("on aws", fleet.OnProvider(cloudswitch.AWS, "")), req)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(plan.Counts())

	sw, _ := cloudswitch.New(store, drivers)
	applier, _ := fleet.NewApplier(sw, store)
	sum, _ := applier.Apply(ctx, plan.Header, plan.All(), fleet.Options{
		Concurrency: 2,
		Canary:      1,
		AfterCanary: func(context.Context, fleet.Progress) error { return nil }, // a health check
		MaxFailures: 1,
	})
	fmt.Printf("%d done, %d failed\n", sum.Done, sum.Failed)
	_, _ = fleet.WriteTable(os.Stdout, plan.Header, plan.All())
	// Output:
	// 3 workspaces: 3 recreate, VMs destroyed aws 3, created hetzner 3
	// 3 done, 0 failed
	// Plan: switch to hetzner for on aws, recreate confirmed
	// WORKSPACE  VERSION  ACTION    FROM           TO             DESTROY           CREATE         NOTE
	// alpha      1        recreate  aws:t3.medium  hetzner:cpx31  aws/aws-00000001  hetzner:cpx31  -
	// beta       2        recreate  aws:t3.medium  hetzner:cpx31  aws/aws-00000002  hetzner:cpx31  -
	// gamma      3        recreate  aws:t3.medium  hetzner:cpx31  aws/aws-00000003  hetzner:cpx31  -
	// 3 workspaces: 3 recreate, VMs destroyed aws 3, created hetzner 3
}
