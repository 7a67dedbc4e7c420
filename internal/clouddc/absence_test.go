package clouddc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/simulator"
)

// The tests of absence.go's rule: an instance is gone only when a
// complete listing does not show it and the API's own answer for its ID
// says so. Each test makes the API answer in a way that broke an earlier
// version of the client.

// TestAbsence_pagesSmallerThanLimit: a gateway caps every page at three
// items, whatever limit asks, with an honest next_marker and count (N8).
// Every reader must follow the pages: Read must find each of five
// instances, and a delete wait must not end while its instance is still
// shutting down.
func TestAbsence_pagesSmallerThanLimit(t *testing.T) {
	t.Parallel()
	sim, c := newSimClient(t, simulator.Options{PageSizeCap: 3, DeleteDuration: 400 * time.Millisecond, Retention: time.Hour})
	ctx := testContext(t)
	var ids []string
	for i := range 5 {
		ids = append(ids, mustCreate(t, c, validInput(fmt.Sprintf("capped-%d", i))))
	}

	t.Run("reads", func(t *testing.T) {
		// Four reads at once share one listing filtered by their IDs,
		// which the gateway cuts after three.
		fresh, err := NewClient(WithEndpoint(sim.URL), WithProjectID(sim.ProjectID()), WithToken(sim.Token()), WithPollSchedule(simPoll), noRetry)
		if err != nil {
			t.Fatal(err)
		}
		got, errs := readAll(fresh, ids[:4], 4)
		for _, id := range ids[:4] {
			if errs[id] != nil || got[id] == nil || got[id].ID != id {
				t.Errorf("GetInstanceCoalesced(%s) = %+v, %v; want the instance", id, got[id], errs[id])
			}
		}
		for _, id := range ids {
			if inst, err := c.GetInstance(ctx, id); err != nil || inst.ID != id {
				t.Errorf("GetInstance(%s) = %+v, %v; want the instance", id, inst, err)
			}
		}
	})

	t.Run("delete waits", func(t *testing.T) {
		for _, id := range ids {
			if err := c.DeleteInstance(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
		// The state each instance was in when its wait ended.
		var mu sync.Mutex
		atEnd := map[string]string{}
		_, errs := waitAll(ctx, ids, func(ctx context.Context, id string) (*InstanceStatus, error) {
			st, err := c.WaitForInstanceTerminated(ctx, id)
			inst, _ := sim.Instance(id)
			mu.Lock()
			atEnd[id] = inst.State
			mu.Unlock()
			return st, err
		})
		for _, id := range ids {
			if errs[id] != nil || atEnd[id] != "terminated" {
				t.Errorf("wait for %s = %v; the instance was %q when it ended, want terminated", id, errs[id], atEnd[id])
			}
		}
	})
}

// ignoringFilter is a simulator behind a gateway that drops the
// instance_id filter of ListInstances (N9): the API lists the whole
// project, honestly paged and counted.
func ignoringFilter(t *testing.T, sim *simulator.TestServer) (url string, filtered *atomic.Int32) {
	t.Helper()
	filtered = &atomic.Int32{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/instances") && r.URL.Query().Has("instance_id") {
			filtered.Add(1)
			q := r.URL.Query()
			q.Del("instance_id")
			r.URL.RawQuery = q.Encode()
		}
		sim.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, filtered
}

// TestAbsence_ignoredFilter: with twelve instances made by hand and pages
// of ten, an API that ignores the ID filter once made the create wait end
// with "no longer listed" and a destroy forget its instances. Now the
// client sees that the answer lists what it did not ask for, lists the
// project unfiltered instead, and every wait ends on its own instance's
// real state.
func TestAbsence_ignoredFilter(t *testing.T) {
	t.Parallel()
	sim := simulator.StartTest(t, simulator.Options{Servers: 20, PageSizeCap: 10, CreateDuration: 200 * time.Millisecond,
		DeleteDuration: 200 * time.Millisecond, Retention: time.Hour})
	url, filtered := ignoringFilter(t, sim)
	c, err := NewClient(WithEndpoint(url), WithProjectID(sim.ProjectID()), WithToken(sim.Token()), WithPollSchedule(simPoll), noRetry)
	if err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	for i := range 12 {
		mustCreate(t, c, validInput(fmt.Sprintf("by-hand-%d", i)))
	}
	var ids []string
	for i := range 4 {
		ids = append(ids, mustCreate(t, c, validInput(fmt.Sprintf("managed-%d", i))))
	}
	sts, errs := waitAll(ctx, ids, c.WaitForInstanceRunning)
	for _, id := range ids {
		if errs[id] != nil || sts[id].State != StateRunning {
			t.Fatalf("WaitForInstanceRunning(%s) = %+v, %v; want running", id, sts[id], errs[id])
		}
	}
	for _, id := range ids {
		if err := c.DeleteInstance(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	_, errs = waitAll(ctx, ids, c.WaitForInstanceTerminated)
	for _, id := range ids {
		inst, _ := sim.Instance(id)
		if errs[id] != nil || inst.State != "terminated" {
			t.Errorf("delete wait for %s = %v with the instance %q; want terminated", id, errs[id], inst.State)
		}
	}
	if filtered.Load() == 0 {
		t.Error("no listing was filtered by ID: the test did not test the ignored filter")
	}
	if live := sim.Instances(); len(live) != 16 {
		t.Errorf("the simulator holds %d instances; want 16", len(live))
	}
}

// hidingServer answers ListInstances with a well-formed listing that
// omits hidden (its count lowered to match): no completeness check can
// tell. ShowInstanceStatus still answers for it.
func hidingServer(t *testing.T, sim *simulator.TestServer, hidden string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/instances") {
			sim.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		sim.ServeHTTP(rec, r)
		var page map[string]json.RawMessage
		var items []map[string]any
		var count int
		if json.Unmarshal(rec.Body.Bytes(), &page) != nil || json.Unmarshal(page["instances"], &items) != nil ||
			json.Unmarshal(page["count"], &count) != nil {
			w.WriteHeader(rec.Code)
			_, _ = w.Write(rec.Body.Bytes())
			return
		}
		kept := slices.DeleteFunc(items, func(i map[string]any) bool { return i["id"] == hidden })
		count -= len(items) - len(kept)
		page["instances"], _ = json.Marshal(kept)
		page["count"], _ = json.Marshal(count)
		b, _ := json.Marshal(page)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestAbsence_wrongListingIsConfirmed: a listing that is complete by
// every check and still wrong must not make the client call an existing
// instance gone: the read fails instead, and a delete wait goes on.
func TestAbsence_wrongListingIsConfirmed(t *testing.T) {
	t.Parallel()
	sim, direct := newSimClient(t, simulator.Options{DeleteDuration: time.Hour, Retention: time.Hour})
	id := mustCreate(t, direct, validInput("hidden"))
	c, err := NewClient(WithEndpoint(hidingServer(t, sim, id)), WithProjectID(sim.ProjectID()), WithToken(sim.Token()),
		WithPollSchedule(simPoll), noRetry)
	if err != nil {
		t.Fatal(err)
	}
	for name, read := range map[string]func(context.Context, string) (*Instance, error){
		"GetInstance": c.GetInstance, "GetInstanceCoalesced": c.GetInstanceCoalesced,
	} {
		inst, err := read(testContext(t), id)
		var incomplete *IncompleteListingError
		if errors.Is(err, ErrNotFound) || !errors.As(err, &incomplete) || !strings.Contains(err.Error(), "ShowInstanceStatus reports it") {
			t.Errorf("%s of a hidden instance = %+v, %v; want an incomplete-listing error, never not found", name, inst, err)
		}
	}
	if err := c.DeleteInstance(testContext(t), id); err != nil {
		t.Fatal(err)
	}
	_, err = c.WaitForInstanceTerminated(testContextFor(t, 300*time.Millisecond), id)
	var we *WaitError
	if !errors.As(err, &we) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("the delete wait ended with %v; want it to go on until its timeout (the instance is shutting down)", err)
	}
}

// TestAbsence_goneIsConfirmed: a complete listing that does not show an
// instance, and the API's 404 for its ID, make it gone, with one
// ShowInstanceStatus call; a gateway's 404 does not.
func TestAbsence_goneIsConfirmed(t *testing.T) {
	t.Parallel()
	t.Run("the API's 404", func(t *testing.T) {
		t.Parallel()
		s := newScriptServer(t, apiErrorStep(http.StatusNotFound, CodeInstanceNotFound, "Instances not found"))
		_, err := newTestClient(t, s.url).GetInstance(testContext(t), testID)
		if !errors.Is(err, ErrNotFound) || s.confirms != 1 {
			t.Errorf("GetInstance = %v after %d confirmations; want not found after one", err, s.confirms)
		}
	})
	t.Run("a gateway's 404 for the status", func(t *testing.T) {
		t.Parallel()
		var mu sync.Mutex
		calls := 0
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			calls++
			mu.Unlock()
			if strings.HasSuffix(r.URL.Path, "/status") {
				w.WriteHeader(http.StatusNotFound)
				_, _ = w.Write([]byte(`{"error_code":"APIGW.0101","error_msg":"The API does not exist"}`))
				return
			}
			_, _ = w.Write([]byte(`{"instances":[],"page_info":{"next_marker":""},"count":0}`))
		}))
		t.Cleanup(srv.Close)
		_, err := newTestClient(t, srv.URL).GetInstance(testContext(t), testID)
		if errors.Is(err, ErrNotFound) || err == nil {
			t.Errorf("GetInstance = %v; want an error that is not 'not found'", err)
		}
	})
}

// TestListComplete_checksEveryPage: the completeness rules, one answer at
// a time.
func TestListComplete_checksEveryPage(t *testing.T) {
	t.Parallel()
	item := func(id string) string { return fmt.Sprintf(`{"id":%q,"state":"running"}`, id) }
	a, b, cID := "00000000-0000-4000-8000-00000000000a", "00000000-0000-4000-8000-00000000000b", "00000000-0000-4000-8000-00000000000c"
	tests := []struct {
		name    string
		pages   map[string]string // marker -> body
		want    []string
		wantErr string
	}{
		{"two pages that add up", map[string]string{
			"":   `{"instances":[` + item(a) + `],"page_info":{"next_marker":"m1"},"count":2}`,
			"m1": `{"instances":[` + item(b) + `],"page_info":{"next_marker":""},"count":2}`,
		}, []string{a, b}, ""},
		{"the count changes between pages", map[string]string{
			"":   `{"instances":[` + item(a) + `],"page_info":{"next_marker":"m1"},"count":2}`,
			"m1": `{"instances":[` + item(b) + `,` + item(cID) + `],"page_info":{"next_marker":""},"count":3}`,
		}, nil, "the count changed"},
		{"a marker that loops", map[string]string{
			"":   `{"instances":[` + item(a) + `],"page_info":{"next_marker":"m1"},"count":3}`,
			"m1": `{"instances":[` + item(b) + `],"page_info":{"next_marker":"m1"},"count":3}`,
		}, nil, "leads nowhere new"},
		{"the pages add up to less than count", map[string]string{
			"":   `{"instances":[` + item(a) + `],"page_info":{"next_marker":"m1"},"count":3}`,
			"m1": `{"instances":[` + item(b) + `],"page_info":{"next_marker":""},"count":3}`,
		}, nil, "2 distinct instances, count says 3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = w.Write([]byte(tc.pages[r.URL.Query().Get("marker")]))
			}))
			t.Cleanup(srv.Close)
			all, _, err := newTestClient(t, srv.URL).listComplete(testContext(t), ListInstancesInput{}, nil)
			var got []string
			for _, i := range all {
				got = append(got, i.ID)
			}
			if tc.wantErr != "" {
				var incomplete *IncompleteListingError
				if !errors.As(err, &incomplete) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("listComplete = %v, %v; want an incomplete listing: %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("listComplete = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}
