package clouddc

import "fmt"

// listAttempts is how many times ListAllInstances reads a listing that
// comes back shorter than its count.
const listAttempts = 3

// IncompleteListError ends a listing whose pages held fewer instances than
// the count the API reported, every time it was read: a page came back cut
// short without its next_marker. Nothing can be concluded from such a
// listing about the instances it lacks.
type IncompleteListError struct {
	Count  int // what the API said the listing holds
	Listed int // what its pages held
}

func (e *IncompleteListError) Error() string {
	return fmt.Sprintf("the API's instance listing was incomplete %d times in a row: it reported %d instances, but its pages held %d "+
		"and the last page had no next_marker; this usually comes from a gateway between Terraform and the API, and a later run "+
		"often succeeds", listAttempts, e.Count, e.Listed)
}
