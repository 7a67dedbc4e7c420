package clouddc

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/simulator"
)

// The cross-check: the simulator verifies signatures with an
// implementation of its own (internal/simulator/aksk.go), so a request the
// simulator accepts was signed the way the algorithm says, not merely the
// way this package believes it says.

const otherProject = "ffffffffffffffffffffffffffffffff"

func newAKSKSim(t *testing.T) *simulator.TestServer {
	t.Helper()
	return simulator.StartTest(t, simulator.Options{
		CreateDuration: 50 * time.Millisecond, DeleteDuration: 50 * time.Millisecond, Retention: time.Hour,
		AccessKeys: map[string]simulator.AccessKey{
			testAccessKey:        {Secret: testSecretKey},
			"AKTEMPORARY0000001": {Secret: "temporary-" + testSecretKey, SecurityToken: testSecurityToken},
			"AKOTHERPROJECT0001": {Secret: testSecretKey, ProjectID: otherProject},
		},
	})
}

func newAKSKClient(t *testing.T, sim *simulator.TestServer, ak, sk, st string) *Client {
	t.Helper()
	c, err := NewClient(WithEndpoint(sim.URL), WithProjectID(sim.ProjectID()), WithAKSK(ak, sk, st), WithPollSchedule(simPoll), noRetry)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

// TestClient_akskAcceptedBySimulator drives every kind of request the
// provider makes (bodies, queries, path IDs; GET, POST, PUT, DELETE)
// with a signing client.
func TestClient_akskAcceptedBySimulator(t *testing.T) {
	t.Parallel()
	for _, key := range []struct{ name, ak, sk, st string }{
		{"permanent key", testAccessKey, testSecretKey, ""},
		{"temporary key", "AKTEMPORARY0000001", "temporary-" + testSecretKey, testSecurityToken},
	} {
		t.Run(key.name, func(t *testing.T) {
			t.Parallel()
			sim := newAKSKSim(t)
			c := newAKSKClient(t, sim, key.ak, key.sk, key.st)
			ctx := testContextFor(t, 10*time.Second)
			id := mustCreate(t, c, validInput("signed-1"))
			if _, err := c.WaitForInstanceRunning(ctx, id); err != nil {
				t.Fatalf("WaitForInstanceRunning: %v", err)
			}
			list, err := c.ListInstances(ctx, ListInstancesInput{Limit: 20, State: StateRunning, InstanceIDs: []string{id}})
			if err != nil || list.Count != 1 || list.Instances[0].ID != id {
				t.Fatalf("ListInstances = %+v, %v; want the instance", list, err)
			}
			if err := c.ChangeInstancePassword(ctx, "Signed-Passw0rd", id); err != nil {
				t.Fatalf("ChangeInstancePassword: %v", err)
			}
			if pw, _ := sim.Password(id); pw != "Signed-Passw0rd" {
				t.Errorf("the simulator has password %q; want Signed-Passw0rd", pw)
			}
			if err := c.DeleteInstance(ctx, id); err != nil {
				t.Fatalf("DeleteInstance: %v", err)
			}
			if st, err := c.WaitForInstanceTerminated(ctx, id); err != nil || st.State != StateTerminated {
				t.Fatalf("WaitForInstanceTerminated = %+v, %v", st, err)
			}
		})
	}
}

func TestClient_akskRefusedBySimulator(t *testing.T) {
	t.Parallel()
	sim := newAKSKSim(t)
	tests := []struct {
		name    string
		client  func() *Client
		status  int
		code    string
		msgPart string
	}{
		{"wrong secret key", func() *Client { return newAKSKClient(t, sim, testAccessKey, "wrong-"+testSecretKey, "") },
			401, "iMetal.0003", "verify aksk signature fail"},
		{"unknown access key", func() *Client { return newAKSKClient(t, sim, "AKUNKNOWN", testSecretKey, "") },
			401, "iMetal.0003", "does not exist"},
		{"clock 20 minutes slow", func() *Client {
			c := newAKSKClient(t, sim, testAccessKey, testSecretKey, "")
			c.now = func() time.Time { return time.Now().Add(-20 * time.Minute) }
			return c
		}, 401, "iMetal.0003", "signature expired"},
		{"temporary key with a wrong security token", func() *Client {
			return newAKSKClient(t, sim, "AKTEMPORARY0000001", "temporary-"+testSecretKey, "another-token")
		}, 401, "iMetal.0003", "security token"},
		{"key of another project", func() *Client { return newAKSKClient(t, sim, "AKOTHERPROJECT0001", testSecretKey, "") },
			403, "iMetal.0004", sim.ProjectID()},
	}
	t.Run("group", func(t *testing.T) {
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				_, err := tc.client().ListInstances(context.Background(), ListInstancesInput{})
				apiErr := apiErrorOf(t, err, tc.status, tc.code)
				if !strings.Contains(apiErr.Message, tc.msgPart) {
					t.Errorf("message %q does not contain %q", apiErr.Message, tc.msgPart)
				}
				if IsTransient(err) {
					t.Errorf("a %d is transient; retrying a refused signature cannot help", tc.status)
				}
				for _, secret := range []string{testSecretKey, testSecurityToken} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("a secret is in the error: %v", err)
					}
				}
			})
		}
	})
	if n := sim.RequestCount(simulator.OpListInstances); n != len(tests) {
		t.Errorf("%d list requests reached the simulator; want %d (one each, none retried)", n, len(tests))
	}
}
