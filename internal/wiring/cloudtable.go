package wiring

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"

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

// cloud is everything wiring knows of one provider. Adding a cloud is one
// entry in cloudTable, and its fields in Clouds.
type cloud struct {
	// name is the provider's name; it is also the name of its mode flag.
	name string
	// usage is the mode flag's usage.
	usage string
	// mode is where c keeps this provider's mode.
	mode func(c *Clouds) *Mode
	// register defines the provider's own settings flags, if any.
	register func(c *Clouds, fs *flag.FlagSet)
	// emulatedRegions are the regions the emulated driver lists; nil: all.
	emulatedRegions func(ep emulated.Endpoints) []string
	// connectReal makes the driver of the real cloud.
	connectReal func(ctx context.Context, c *Clouds, logger *slog.Logger) (realDriver, error)
}

// realDriver is the driver of one real cloud, the regions it lists (nil:
// all), and what closes it (nil: nothing to close).
type realDriver struct {
	driver  cloudswitch.Provider
	regions []string
	close   func()
}

// cloudTable lists the providers wiring connects, sorted by name.
func cloudTable() []cloud {
	return []cloud{
		{
			name:  cloudswitch.AWS,
			usage: "AWS EC2: emulated, real (the AWS SDK's default credentials and region, e.g. AWS_PROFILE and AWS_REGION; needs -aws-image) or off",
			mode:  func(c *Clouds) *Mode { return &c.AWS },
			register: func(c *Clouds, fs *flag.FlagSet) {
				fs.StringVar(&c.AWSImage, "aws-image", "", "AMI id (or resolve:ssm:PARAMETER) of the instances on real AWS")
				fs.StringVar(&c.AWSRegions, "aws-regions", "", "comma-separated regions of the instances on real AWS, every one of them listed by the reconciler (default: the SDK configuration's region)")
			},
			emulatedRegions: func(ep emulated.Endpoints) []string {
				if len(ep.AWS.Regions) > 0 {
					return slices.Clone(ep.AWS.Regions)
				}
				return []string{ep.AWS.Region}
			},
			connectReal: connectAWS,
		},
		{
			name:  cloudswitch.GCP,
			usage: "GCP Compute Engine: emulated, real (Google application default credentials; needs -gcp-project and -gcp-zone) or off",
			mode:  func(c *Clouds) *Mode { return &c.GCP },
			register: func(c *Clouds, fs *flag.FlagSet) {
				fs.StringVar(&c.GCPProject, "gcp-project", "", "project of the VMs on real GCP")
				fs.StringVar(&c.GCPZone, "gcp-zone", "", "default zone of the VMs on real GCP, e.g. europe-west1-b")
			},
			emulatedRegions: func(ep emulated.Endpoints) []string { return slices.Clone(ep.GCP.Zones) },
			connectReal:     connectGCP,
		},
		{
			name:        cloudswitch.Hetzner,
			usage:       "Hetzner Cloud: emulated, real (a read & write API token in HCLOUD_TOKEN) or off",
			mode:        func(c *Clouds) *Mode { return &c.Hetzner },
			connectReal: connectHetzner,
		},
	}
}

// connectAWS makes the driver of real EC2, listing every region of
// -aws-regions.
func connectAWS(ctx context.Context, c *Clouds, logger *slog.Logger) (realDriver, error) {
	if c.AWSImage == "" {
		return realDriver{}, errors.New("-aws-image is required: the AMI id (or resolve:ssm:PARAMETER) new instances boot from")
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return realDriver{}, fmt.Errorf("loading the AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return realDriver{}, errors.New("no AWS region: set AWS_REGION or a region in the AWS profile")
	}
	if c.Transport != nil {
		cfg.HTTPClient = &http.Client{Transport: c.Transport(cloudswitch.AWS, awshttp.NewBuildableClient().GetTransport())}
	}
	regions := []string{cfg.Region}
	if c.AWSRegions != "" {
		regions = strings.Split(c.AWSRegions, ",")
	}
	drv, err := aws.NewFromConfig(cfg, aws.WithImage(c.AWSImage), aws.WithRegions(regions...), aws.WithLogger(logger))
	if err != nil {
		return realDriver{}, err
	}
	return realDriver{driver: drv, regions: regions}, nil
}

// connectHetzner makes the driver of real Hetzner Cloud, with the token in
// HCLOUD_TOKEN.
func connectHetzner(_ context.Context, c *Clouds, logger *slog.Logger) (realDriver, error) {
	token := os.Getenv("HCLOUD_TOKEN")
	if token == "" {
		return realDriver{}, errors.New("HCLOUD_TOKEN is not set: create a read & write API token in the Hetzner Cloud console")
	}
	opts := []hetzner.Option{hetzner.WithLogger(logger)}
	if c.Transport != nil {
		opts = append(opts, hetzner.WithClientOptions(hcloud.WithHTTPClient(
			&http.Client{Transport: c.Transport(cloudswitch.Hetzner, http.DefaultTransport)})))
	}
	drv, err := hetzner.NewFromToken(token, opts...)
	if err != nil {
		return realDriver{}, err
	}
	return realDriver{driver: drv}, nil
}

// connectGCP makes the driver of real Compute Engine, with Google
// application default credentials.
func connectGCP(ctx context.Context, c *Clouds, logger *slog.Logger) (realDriver, error) {
	if c.GCPProject == "" || c.GCPZone == "" {
		return realDriver{}, errors.New("-gcp-project and -gcp-zone are required")
	}
	// No client options: application default credentials.
	var clientOpts []option.ClientOption
	if c.Transport != nil {
		// The wrapper goes under the authentication, so that every request
		// to the API, token refreshes aside, passes through it.
		rt, err := htransport.NewTransport(ctx, c.Transport(cloudswitch.GCP, http.DefaultTransport),
			option.WithScopes(compute.DefaultAuthScopes()...))
		if err != nil {
			return realDriver{}, fmt.Errorf("authenticating to GCP: %w", err)
		}
		clientOpts = append(clientOpts, option.WithHTTPClient(&http.Client{Transport: rt}))
	}
	drv, err := gcp.NewFromClientOptions(ctx, c.GCPProject, clientOpts, gcp.WithZone(c.GCPZone), gcp.WithLogger(logger))
	if err != nil {
		return realDriver{}, err
	}
	return realDriver{driver: drv, regions: []string{c.GCPZone}, close: func() { _ = drv.Close() }}, nil
}
