package simulator

import (
	"net/http"
)

// An ID filter the API ignores. Huawei's ListInstances page names the ID
// filter both instance_id and instance_id_set; an API that reads the other
// name ignores the one a client sends and lists the whole project, paged
// honestly, with the whole project's count (DESIGN.md, 8.8). A client must
// not read such a listing as an answer about the IDs it asked for.

// SetIgnoreIDFilter makes every ListInstances ignore instance_id while on:
// it lists the project as if unfiltered, and the other filters
// (instance_state, server_id) still apply. Fault.IgnoreFilter does the same
// for single requests.
func (s *Simulator) SetIgnoreIDFilter(ignore bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ignoreIDFilter = ignore
}

// withoutIDFilter is the request as an API that ignores instance_id reads
// it.
func withoutIDFilter(r *http.Request) *http.Request {
	q := r.URL.Query()
	if !q.Has("instance_id") {
		return r
	}
	q.Del("instance_id")
	out := r.Clone(r.Context())
	out.URL.RawQuery = q.Encode()
	return out
}
