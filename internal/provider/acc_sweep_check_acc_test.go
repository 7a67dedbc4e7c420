package provider

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/acctest"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/clouddc"
)

// make testacc-external proves that `go test -sweep` works as a process of
// its own: TestAccSweep_seed leaves an instance named with the prefix (as a
// failed run would) and one without it, the sweeper runs, and
// TestAccSweep_check finds the first deleted and the second untouched,
// then deletes it. Both run only when CLOUDDC_ACC_SWEEP_CHECK names the
// file that carries the IDs between the runs: an instance without the
// prefix is never left on an account by accident.
const envAccSweepCheck = "CLOUDDC_ACC_SWEEP_CHECK"

func sweepCheckTarget(t *testing.T) (*accTarget, *clouddc.Client, string) {
	t.Helper()
	file := os.Getenv(envAccSweepCheck)
	if file == "" || !externalMode() {
		t.Skipf("runs only in make testacc-external, between the suite and the sweeper (%s and %s set)", envAccSweepCheck, EnvAccEndpoint)
	}
	a := newAccTarget(t)
	c, err := a.client()
	if err != nil {
		t.Fatal(err)
	}
	return a, c, file
}

func TestAccSweep_seed(t *testing.T) {
	a, c, file := sweepCheckTarget(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	var lines []string
	for _, name := range []string{a.name("left-behind"), "not-a-test-" + acctest.RandString(6)} {
		id, err := c.CreateInstanceByHand(ctx, clouddc.CreateInstanceInput{Name: name, ImageID: a.imageID, VPCID: a.vpcID, Password: testPassword,
			NetworkInterfaces: []clouddc.NetworkInterface{{SubnetID: a.subnetID}}})
		if err != nil {
			t.Fatalf("creating %s: %v", name, err)
		}
		if _, err := c.WaitForInstanceRunning(ctx, id); err != nil {
			t.Fatalf("%s (%s): %v", id, name, err)
		}
		lines = append(lines, id+" "+name)
	}
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestAccSweep_check(t *testing.T) {
	_, c, file := sweepCheckTarget(t)
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("TestAccSweep_seed did not run first: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		id, name, _ := strings.Cut(line, " ")
		in, err := c.GetInstance(ctx, id)
		gone := errors.Is(err, clouddc.ErrNotFound) || (err == nil && in.State == clouddc.StateTerminated)
		if err != nil && !errors.Is(err, clouddc.ErrNotFound) {
			t.Fatal(err)
		}
		switch {
		case isSweepable(name) && !gone:
			t.Errorf("the sweeper left %s (%s), which is %s", id, name, in.State)
		case !isSweepable(name) && gone:
			t.Errorf("the sweeper deleted %s (%s), whose name does not begin with %s", id, name, accNamePrefix)
		case !isSweepable(name):
			if _, err := c.TerminateInstance(ctx, id); err != nil {
				t.Errorf("deleting %s (%s) after the check: %v", id, name, fmt.Sprint(err))
			}
		}
	}
}
