package simulator

// pageLimit is the size of the page a list request gets: the limit asked
// for within the API's bounds, and at most Options.PageSizeCap.
func (s *Simulator) pageLimit(v string) (int, *apiError) {
	n, e := pageLimit(v)
	if e == nil && s.opts.PageSizeCap > 0 {
		n = min(n, s.opts.PageSizeCap)
	}
	return n, e
}
