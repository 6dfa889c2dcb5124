package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	compute "cloud.google.com/go/compute/apiv1"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/hetznercloud/hcloud-go/v2/hcloud"
	"google.golang.org/api/option"
	htransport "google.golang.org/api/transport/http"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/internal/emulated"
	"github.com/cloudswitch/cloudswitch/providers/aws"
	"github.com/cloudswitch/cloudswitch/providers/gcp"
	"github.com/cloudswitch/cloudswitch/providers/hetzner"
)

// mode says where one provider's VMs live: emulated, real or off.
type mode string

const (
	emulatedMode mode = "emulated"
	realMode     mode = "real"
	offMode      mode = "off"
)

func (m *mode) String() string { return string(*m) }

func (m *mode) Set(s string) error {
	switch mode(s) {
	case emulatedMode, realMode, offMode:
		*m = mode(s)
		return nil
	}
	return fmt.Errorf("%q is not a mode: use emulated, real or off", s)
}

// clouds says where each provider's VMs live, as the example programs do.
type clouds struct {
	aws, hetzner, gcp   mode
	emulators           string
	awsImage            string
	gcpProject, gcpZone string
	// transport, when set, wraps the HTTP transport of each provider's
	// SDK client (apply installs its per-provider API rate limits here).
	transport func(provider string, next http.RoundTripper) http.RoundTripper
}

// through returns next wrapped by c.transport for provider, or next.
func (c *clouds) through(provider string, next http.RoundTripper) http.RoundTripper {
	if c.transport == nil {
		return next
	}
	return c.transport(provider, next)
}

func (c *clouds) register(fs *flag.FlagSet) {
	c.aws, c.hetzner, c.gcp = emulatedMode, emulatedMode, emulatedMode
	fs.Var(&c.aws, "aws", "AWS EC2: emulated, real (the AWS SDK's default credentials and region; needs -aws-image) or off")
	fs.Var(&c.hetzner, "hetzner", "Hetzner Cloud: emulated, real (an API token in HCLOUD_TOKEN) or off")
	fs.Var(&c.gcp, "gcp", "GCP Compute Engine: emulated, real (application default credentials; needs -gcp-project and -gcp-zone) or off")
	fs.StringVar(&c.emulators, "emulators", "", "control URL of the emulators served by examples/emulators (default: emulators in this process, gone when it exits)")
	fs.StringVar(&c.awsImage, "aws-image", "", "AMI id (or resolve:ssm:PARAMETER) of instances on real AWS")
	fs.StringVar(&c.gcpProject, "gcp-project", "", "project of the VMs on real GCP")
	fs.StringVar(&c.gcpZone, "gcp-zone", "", "default zone of the VMs on real GCP")
}

// connect makes the driver of every provider that is not off.
func (c *clouds) connect(ctx context.Context, logger *slog.Logger) (map[string]cloudswitch.Provider, func(), error) {
	modes := map[string]mode{cloudswitch.AWS: c.aws, cloudswitch.Hetzner: c.hetzner, cloudswitch.GCP: c.gcp}
	drivers := make(map[string]cloudswitch.Provider)
	var closers []func()
	closeAll := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	var emulatedDrivers map[string]cloudswitch.Provider
	for _, p := range []string{cloudswitch.AWS, cloudswitch.GCP, cloudswitch.Hetzner} {
		switch modes[p] {
		case emulatedMode:
			if emulatedDrivers == nil {
				d, closeD, err := c.connectEmulated(ctx)
				if err != nil {
					closeAll()
					return nil, nil, err
				}
				closers = append(closers, closeD)
				emulatedDrivers = d
			}
			drivers[p] = emulatedDrivers[p]
		case realMode:
			d, closeD, err := c.connectReal(ctx, p, logger)
			if err != nil {
				closeAll()
				return nil, nil, fmt.Errorf("real %s: %w", p, err)
			}
			if closeD != nil {
				closers = append(closers, closeD)
			}
			drivers[p] = d
		}
	}
	if len(drivers) == 0 {
		return nil, nil, usageErr("every provider is off: set -aws, -hetzner or -gcp to emulated or real")
	}
	return drivers, closeAll, nil
}

func (c *clouds) connectEmulated(ctx context.Context) (map[string]cloudswitch.Provider, func(), error) {
	var ep emulated.Endpoints
	var closers []func()
	if c.emulators != "" {
		remote := emulated.Remote{URL: c.emulators, Client: &http.Client{Timeout: 10 * time.Second}}
		var err error
		if ep, err = remote.Endpoints(ctx); err != nil {
			return nil, nil, fmt.Errorf("reaching the emulators at %s (is examples/emulators running?): %w", c.emulators, err)
		}
	} else {
		set, err := emulated.Start(emulated.Addrs{})
		if err != nil {
			return nil, nil, fmt.Errorf("starting the emulators: %w", err)
		}
		closers = append(closers, set.Close)
		ep = set.Endpoints()
	}
	drivers, closeDrivers, err := emulated.DriversThrough(ctx, ep, c.transport)
	if err != nil {
		for _, f := range closers {
			f()
		}
		return nil, nil, err
	}
	closers = append(closers, closeDrivers)
	return drivers, func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}, nil
}

func (c *clouds) connectReal(ctx context.Context, provider string, logger *slog.Logger) (cloudswitch.Provider, func(), error) {
	switch provider {
	case cloudswitch.AWS:
		if c.awsImage == "" {
			return nil, nil, errors.New("-aws-image is required: the AMI id (or resolve:ssm:PARAMETER) new instances boot from")
		}
		cfg, err := awsconfig.LoadDefaultConfig(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("loading the AWS configuration: %w", err)
		}
		if cfg.Region == "" {
			return nil, nil, errors.New("no AWS region: set AWS_REGION or a region in the AWS profile")
		}
		if c.transport != nil {
			cfg.HTTPClient = &http.Client{Transport: c.through(cloudswitch.AWS, awshttp.NewBuildableClient().GetTransport())}
		}
		drv, err := aws.NewFromConfig(cfg, aws.WithImage(c.awsImage), aws.WithLogger(logger))
		return drv, nil, err
	case cloudswitch.Hetzner:
		token := os.Getenv("HCLOUD_TOKEN")
		if token == "" {
			return nil, nil, errors.New("HCLOUD_TOKEN is not set")
		}
		opts := []hetzner.Option{hetzner.WithLogger(logger)}
		if c.transport != nil {
			opts = append(opts, hetzner.WithClientOptions(hcloud.WithHTTPClient(
				&http.Client{Transport: c.through(cloudswitch.Hetzner, http.DefaultTransport)})))
		}
		drv, err := hetzner.NewFromToken(token, opts...)
		return drv, nil, err
	case cloudswitch.GCP:
		if c.gcpProject == "" || c.gcpZone == "" {
			return nil, nil, errors.New("-gcp-project and -gcp-zone are required")
		}
		var clientOpts []option.ClientOption
		if c.transport != nil {
			// The limit goes under the authentication, so that every
			// request to the API, token refreshes aside, takes a token.
			rt, err := htransport.NewTransport(ctx, c.through(cloudswitch.GCP, http.DefaultTransport),
				option.WithScopes(compute.DefaultAuthScopes()...))
			if err != nil {
				return nil, nil, fmt.Errorf("authenticating to GCP: %w", err)
			}
			clientOpts = append(clientOpts, option.WithHTTPClient(&http.Client{Transport: rt}))
		}
		drv, err := gcp.NewFromClientOptions(ctx, c.gcpProject, clientOpts, gcp.WithZone(c.gcpZone), gcp.WithLogger(logger))
		if err != nil {
			return nil, nil, err
		}
		return drv, func() { _ = drv.Close() }, nil
	}
	return nil, nil, fmt.Errorf("no real driver for provider %q", provider)
}
