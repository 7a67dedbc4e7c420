package simulator

// Pages capped below limit: a gateway or the API may answer fewer items
// than limit asks for, with an honest next_marker and count (DESIGN.md,
// 8.8). Only the whole chain of pages is an answer.

// SetPageSizeCap makes every page of ListInstances and ListPhysicalServers
// hold at most n items, whatever limit asks for, with honest next_marker,
// current_count and count; 0 (or less) turns the cap off. It replaces
// Options.PageSizeCap, which is the cap a simulator starts with.
func (s *Simulator) SetPageSizeCap(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pageSizeCap = max(n, 0)
}

// pageLimit is the size of the page a list request gets: the limit asked
// for within the API's bounds, and at most the page size cap.
func (s *Simulator) pageLimit(v string) (int, *apiError) {
	n, e := pageLimit(v)
	if e == nil && s.pageSizeCap > 0 {
		n = min(n, s.pageSizeCap)
	}
	return n, e
}
