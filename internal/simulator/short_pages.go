package simulator

// CutListPagesShort makes the next n ListInstances answers that hold at
// least one instance well-formed but not a real listing, as a gateway may
// answer: the page loses its last instance and its next_marker, and keeps
// the count of the whole listing. A client that trusts the missing
// next_marker misses instances; one that compares with count notices.
// ClearFaults cancels it.
func (s *Simulator) CutListPagesShort(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shortLists = n
}

// cutShortLocked cuts a ListInstances page short when CutListPagesShort
// asked for it.
func (s *Simulator) cutShortLocked(out listAnswer) listAnswer {
	if s.shortLists <= 0 || len(out.Instances) == 0 {
		return out
	}
	s.shortLists--
	out.Instances = out.Instances[:len(out.Instances)-1]
	out.PageInfo.NextMarker = ""
	out.PageInfo.CurrentCount = len(out.Instances)
	return out
}
