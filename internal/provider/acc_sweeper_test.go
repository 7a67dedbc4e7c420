package provider

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/clouddc"
)

// The sweeper deletes what failed acceptance runs left on an external
// endpoint: every instance whose name begins with accNamePrefix, and
// nothing else. Run it with
//
//	go test ./internal/provider -v -sweep=all -timeout 60m
//
// with the CLOUDDC_ACC_* variables of the account (see CONTRIBUTING.md).

func init() {
	resource.AddTestSweepers("clouddc_instance", &resource.Sweeper{
		Name: "clouddc_instance",
		F: func(string) error {
			if !externalMode() {
				return fmt.Errorf("the sweeper cleans an external endpoint; set %s and the other CLOUDDC_ACC_* variables", EnvAccEndpoint)
			}
			a, err := accTargetFromEnv()
			if err != nil {
				return err
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(context.Background(), 55*time.Minute)
			defer cancel()
			swept, err := sweepInstances(ctx, c, log.Printf)
			log.Printf("[INFO] clouddc_instance sweeper: deleted %d instances named %s*", len(swept), accNamePrefix)
			return err
		},
	})
}

// isSweepable reports whether the sweeper may delete an instance of this
// name: only one that an acceptance test made.
func isSweepable(name string) bool {
	return strings.HasPrefix(name, accNamePrefix) && len(name) > len(accNamePrefix)
}

// sweepInstances deletes every instance of the project that isSweepable and
// is not terminated yet, waits for each, and returns their IDs. It goes on
// after a failure, so that one stuck instance does not keep the others.
func sweepInstances(ctx context.Context, c *clouddc.Client, logf func(string, ...any)) ([]string, error) {
	all, err := c.ListAllInstances(ctx, clouddc.ListInstancesInput{})
	if err != nil {
		return nil, fmt.Errorf("listing the instances to sweep: %w", err)
	}
	var swept []string
	var errs []error
	for _, in := range all {
		if !isSweepable(in.Name) || in.State == clouddc.StateTerminated {
			continue
		}
		logf("[INFO] sweeping instance %s (%s, %s)", in.ID, in.Name, in.State)
		if _, err := c.TerminateInstance(ctx, in.ID); err != nil {
			errs = append(errs, fmt.Errorf("instance %s (%s): %w", in.ID, in.Name, err))
			continue
		}
		swept = append(swept, in.ID)
	}
	return swept, errors.Join(errs...)
}

func TestIsSweepable(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]bool{
		accNamePrefix + "round-trip-abc123": true,
		accNamePrefix + "x":                 true,
		accNamePrefix:                       false,
		"web-1":                             false,
		"keep-" + accNamePrefix + "abc":     false,
		"TF-ACC-TEST-upper":                 false,
		"tf-acc-tes-near-miss":              false,
		"":                                  false,
	} {
		if got := isSweepable(name); got != want {
			t.Errorf("isSweepable(%q) = %v, want %v", name, got, want)
		}
	}
}
