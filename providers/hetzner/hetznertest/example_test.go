package hetznertest_test

import (
	"context"
	"fmt"
	"log"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"

	"github.com/cloudswitch/cloudswitch/providers/hetzner/hetznertest"
)

// A test points an hcloud client at the emulator, scripts faults, and
// checks the ground truth.
func Example() {
	srv, err := hetznertest.Start("127.0.0.1:0") // in a test: hetznertest.NewServer(t)
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()
	client := srv.Client()

	// The API is unavailable once; the create answer is lost the next time.
	srv.Inject(hetznertest.Fault{Op: hetznertest.OpCreateServer, Times: 1, Status: 503, Code: "service_error"})
	srv.Inject(hetznertest.Fault{Op: hetznertest.OpCreateServer, Times: 1, Drop: true})
	opts := hcloud.ServerCreateOpts{
		Name: "web-1", ServerType: &hcloud.ServerType{Name: "cpx31"}, Image: &hcloud.Image{Name: "ubuntu-24.04"},
		Labels: map[string]string{"team": "blue"},
	}
	_, _, err = client.Server.Create(ctx, opts)
	fmt.Println("first attempt:", hcloud.IsError(err, hcloud.ErrorCodeServiceError))
	_, _, err = client.Server.Create(ctx, opts)
	fmt.Println("second attempt failed:", err != nil)
	_, _, err = client.Server.Create(ctx, opts)
	fmt.Println("third attempt:", hcloud.IsError(err, hcloud.ErrorCodeUniquenessError))

	// The second attempt created the server although its answer was lost.
	for _, vm := range srv.Instances() {
		fmt.Println(vm.Name, vm.Type, vm.Location, vm.Status, vm.Labels["team"])
	}
	fmt.Println("create calls:", srv.CallCount(hetznertest.OpCreateServer))
	// Output:
	// first attempt: true
	// second attempt failed: true
	// third attempt: true
	// web-1 cpx31 fsn1 running blue
	// create calls: 3
}
