package clouddc

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// listPages answers ListInstances with the given bodies in turn, repeating
// the last one.
func listPages(t *testing.T, bodies ...string) (*httptest.Server, func() int) {
	t.Helper()
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		b := bodies[min(n, len(bodies)-1)]
		n++
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(b))
	}))
	t.Cleanup(srv.Close)
	return srv, func() int {
		mu.Lock()
		defer mu.Unlock()
		return n
	}
}

// listBody is a ListInstances page of a listing of three instances.
func listBody(next string, ids ...string) string {
	const count = 3
	items := make([]string, len(ids))
	for i, id := range ids {
		items[i] = fmt.Sprintf(`{"id":%q,"state":"running"}`, id)
	}
	return fmt.Sprintf(`{"instances":[%s],"page_info":{"next_marker":%q},"count":%d}`, strings.Join(items, ","), next, count)
}

func TestListAllInstances_incomplete(t *testing.T) {
	t.Parallel()
	cut := listBody("", "i-1", "i-2") // count 3, two listed, no next_marker
	whole := listBody("", "i-1", "i-2", "i-3")
	tests := []struct {
		name      string
		bodies    []string
		wantIDs   int
		wantCalls int
		wantErr   bool
	}{
		{name: "whole", bodies: []string{whole}, wantIDs: 3, wantCalls: 1},
		{name: "two pages", bodies: []string{listBody("i-2", "i-1", "i-2"), listBody("", "i-3")}, wantIDs: 3, wantCalls: 2},
		{name: "cut once, then whole", bodies: []string{cut, whole}, wantIDs: 3, wantCalls: 2},
		{name: "always cut", bodies: []string{cut}, wantCalls: listAttempts, wantErr: true},
		{name: "no count reported", bodies: []string{`{"instances":[{"id":"i-1"}],"page_info":{"next_marker":""}}`}, wantIDs: 1, wantCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, calls := listPages(t, tt.bodies...)
			c := newTestClient(t, srv.URL)
			all, err := c.ListAllInstances(testContext(t), ListInstancesInput{})
			if tt.wantErr {
				var short *IncompleteListError
				if !errors.As(err, &short) || short.Count != 3 || short.Listed != 2 {
					t.Fatalf("error = %v; want an *IncompleteListError of 2 listed out of 3", err)
				}
				if !strings.Contains(err.Error(), "reported 3 instances, but its pages held 2") {
					t.Errorf("message %q does not say what was missing", err)
				}
			} else if err != nil || len(all) != tt.wantIDs {
				t.Fatalf("ListAllInstances = %d instances, %v; want %d", len(all), err, tt.wantIDs)
			}
			if calls() != tt.wantCalls {
				t.Errorf("%d calls; want %d", calls(), tt.wantCalls)
			}
		})
	}
}
