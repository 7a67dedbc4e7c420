package simulator

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestListProjects_wire: IAM's project list, as the simulator answers it:
// Keystone's shape, filtered by name, and Keystone's error format.
func TestListProjects_wire(t *testing.T) {
	t.Parallel()
	sim, err := New(Options{Region: "ap-southeast-3"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	get := func(query, token string) (*httptest.ResponseRecorder, map[string]any) {
		req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/v3/projects"+query, nil)
		if token != "" {
			req.Header.Set("X-Auth-Token", token)
		}
		rec := httptest.NewRecorder()
		sim.ServeHTTP(rec, req)
		var body map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("%s: not JSON: %q", query, rec.Body.String())
		}
		return rec, body
	}
	projects := func(body map[string]any) []any {
		p, ok := body["projects"].([]any)
		if !ok {
			t.Fatalf("no projects list in %v", body)
		}
		return p
	}

	rec, body := get("?name=ap-southeast-3", DefaultToken)
	if rec.Code != http.StatusOK || len(projects(body)) != 1 {
		t.Fatalf("HTTP %d %v; want the project", rec.Code, body)
	}
	p, _ := projects(body)[0].(map[string]any)
	if p["id"] != DefaultProjectID || p["name"] != "ap-southeast-3" || p["enabled"] != true {
		t.Errorf("project %v", p)
	}
	if _, body := get("?name=cn-east-3", DefaultToken); len(projects(body)) != 0 {
		t.Errorf("another name: %v, want no project", body)
	}
	rec, body = get("?name=ap-southeast-3", "wrong-token")
	e, _ := body["error"].(map[string]any)
	if rec.Code != http.StatusUnauthorized || e["title"] != "Unauthorized" || e["message"] == "" {
		t.Errorf("a wrong token: HTTP %d %v; want 401 in Keystone's format", rec.Code, body)
	}
	if n := sim.RequestCount(OpListProjects); n != 3 {
		t.Errorf("%d project lookups counted, want 3", n)
	}
}
