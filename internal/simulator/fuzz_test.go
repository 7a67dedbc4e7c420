package simulator

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// FuzzRequests sends the simulator arbitrary requests (method, path, query,
// body, with and without a valid token) and checks that it never panics,
// always answers with a status the API notes (DESIGN.md, 8.2) know, and answers every error
// in the API's JSON format.
func FuzzRequests(f *testing.F) {
	const p = "/v1/" + DefaultProjectID
	seeds := []struct{ method, path, query, body string }{
		{"POST", p + "/instances", "", `{"name":"a","image_id":"` + DefaultImageID + `","vpc_id":"` + DefaultVPCID + `","password":"Secret-123x","network_interfaces":[{"subnet_id":"` + DefaultSubnetID + `"}]}`},
		{"POST", p + "/instances", "", `{"name":5}`},
		{"POST", p + "/instances", "", `{"network_interfaces":[{"subnet_id":null,"ipv4_address":"999.1.1.1"}],"metadata":{"":""}}`},
		{"GET", p + "/instances", "limit=abc&marker=zzz&instance_state=sleeping", ""},
		{"GET", p + "/instances", "instance_id=" + strings.Repeat("x,", 120), ""},
		{"GET", p + "/instances/" + DefaultImageID + "/status", "", ""},
		{"DELETE", p + "/instances/%2e%2e", "", ""},
		{"POST", p + "/instances/batch-create", "", `{"min_count":0,"max_count":1000}`},
		{"POST", p + "/instances/batch-delete", "", `{"instance_id_set":[]}`},
		{"PUT", p + "/instances/reinstall", "", `{"password":"x","instance_id_set":["a"]}`},
		{"PUT", p + "/instances/password", "", `{"new_password":"","instance_id_set":null}`},
		{"PUT", p + "/instances/" + DefaultImageID + "/ip", "", `{"vpc_id":"x","nics":[{}]}`},
		{"GET", p + "/physicalservers", "manage_state=nope&limit=-1", ""},
		{"GET", p + "/physicalservers/zzz", "", ""},
		{"PUT", p + "/physicalservers/power-state", "", `{"action":"explode","server_id_set":["a"]}`},
		{"PATCH", "/v1/other/instances", "", "\x00\xff"},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.query, s.body, true)
	}
	known := map[int]bool{200: true, 202: true, 204: true, 400: true, 401: true, 403: true, 404: true, 405: true, 429: true, 500: true, 503: true}
	f.Fuzz(func(t *testing.T, method, path, query, body string, authed bool) {
		sim, err := New(Options{Servers: 3, CreateDuration: time.Millisecond, DeleteDuration: time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		defer func() {
			if err := sim.Close(); err != nil {
				t.Error(err)
			}
		}()
		req, err := http.NewRequestWithContext(t.Context(), method, "http://sim.test", bytes.NewReader([]byte(body)))
		if err != nil {
			return // not a request any client could send
		}
		req.URL.Path, req.URL.RawQuery = path, query
		if authed {
			req.Header.Set("X-Auth-Token", DefaultToken)
		}
		rec := httptest.NewRecorder()
		sim.ServeHTTP(rec, req)
		if !known[rec.Code] {
			t.Fatalf("%s %s?%s answered HTTP %d", method, path, query, rec.Code)
		}
		if rec.Code >= 400 {
			var e struct {
				Code string `json:"error_code"`
				Msg  string `json:"error_msg"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Code == "" || e.Msg == "" {
				t.Fatalf("%s %s answered HTTP %d with a body that is not the API's error JSON: %q", method, path, rec.Code, rec.Body.String())
			}
		}
	})
}
