package simulator

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// BenchmarkListInstances1000 reads a page of 1,000 instances over HTTP.
func BenchmarkListInstances1000(b *testing.B) {
	sim, c := startSim(b, Options{Servers: 1000, Subnets: bigSubnet()})
	c.runN(1000)
	url := sim.URL + "/v1/" + DefaultProjectID + "/instances?limit=1000"
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		req, _ := http.NewRequestWithContext(b.Context(), http.MethodGet, url, nil)
		req.Header.Set("X-Auth-Token", DefaultToken)
		resp, err := testHTTP.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		var l struct {
			Instances []json.RawMessage `json:"instances"`
		}
		err = json.NewDecoder(resp.Body).Decode(&l)
		if cerr := resp.Body.Close(); err == nil {
			err = cerr
		}
		if err != nil || resp.StatusCode != http.StatusOK || len(l.Instances) != 1000 {
			b.Fatalf("list: %d, %d instances, %v", resp.StatusCode, len(l.Instances), err)
		}
	}
	b.ReportMetric(1000, "instances/op")
}

// BenchmarkCreateDelete creates and deletes one instance per iteration,
// with instant operations: the simulator's own cost per lifecycle.
func BenchmarkCreateDelete(b *testing.B) {
	sim, _ := startSim(b, Options{})
	base := sim.URL + "/v1/" + DefaultProjectID + "/instances"
	body := bodyWith(nil)
	do := func(method, url, body string, want int) []byte {
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, _ := http.NewRequestWithContext(b.Context(), method, url, rd)
		req.Header.Set("X-Auth-Token", DefaultToken)
		resp, err := testHTTP.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		out, err := readBody(resp)
		if err != nil || resp.StatusCode != want {
			b.Fatalf("%s %s: %d %s (%v)", method, url, resp.StatusCode, out, err)
		}
		return out
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		var out struct {
			ID string `json:"instance_id"`
		}
		if err := json.Unmarshal(do(http.MethodPost, base, body, http.StatusOK), &out); err != nil {
			b.Fatal(err)
		}
		do(http.MethodDelete, base+"/"+out.ID, "", http.StatusNoContent)
	}
}
