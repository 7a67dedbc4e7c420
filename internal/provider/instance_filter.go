package provider

import (
	"context"
	"regexp"
	"slices"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/clouddc"
)

// instanceFilter is what the clouddc_instances data source and the
// clouddc_instance list resource filter by. Filters combine: an instance
// matches when it matches all of them.
type instanceFilter struct {
	State       string
	InstanceIDs []string
	ServerIDs   []string
	NameRegex   *regexp.Regexp
}

// Descriptions of the filters, the same in the data source and the list
// resource (whose schemas are of different packages).
const (
	filterStateDescription = "Only instances in this state: `pending`, `running`, `stopped`, `shutting-down`, `terminated` or `error`. " +
		"Left unset, every state but `shutting-down` and `terminated`: instances being deleted, or deleted (the API shows " +
		"them for a while afterwards), are left out unless this asks for them."
	filterInstanceIDsDescription = "Only instances with these IDs."
	filterServerIDsDescription   = "Only instances on these physical servers (their IDs)."
	filterNameRegexDescription   = "Only instances whose name matches this regular expression ([Go syntax](https://pkg.go.dev/regexp/syntax)); " +
		"anchor it with `^...$` for a whole-name match."
)

// findInstances lists the instances that match f, oldest first, reading
// every page. The API filters by state and by one kind of ID, in chunks
// of the most IDs one request may carry; whatever it could not filter is
// filtered here.
func findInstances(ctx context.Context, c *clouddc.Client, f instanceFilter) ([]clouddc.Instance, error) {
	all, err := listForFilter(ctx, c, f)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, in := range all {
		if f.matches(&in) {
			out = append(out, in)
		}
	}
	return out, nil
}

// matches reports whether an instance passes the filter. Without a state
// filter, instances that are being deleted or are deleted do not: they are
// no longer the project's instances, as the AWS provider's instance lists
// leave out terminated instances unless asked for them.
func (f instanceFilter) matches(in *clouddc.Instance) bool {
	switch {
	case f.State == "" && (in.State == clouddc.StateShuttingDown || in.State == clouddc.StateTerminated):
		return false
	case f.State != "" && string(in.State) != f.State:
		return false
	case len(f.InstanceIDs) > 0 && !slices.Contains(f.InstanceIDs, in.ID):
		return false
	case len(f.ServerIDs) > 0 && !slices.Contains(f.ServerIDs, in.ServerID):
		return false
	case f.NameRegex != nil && !f.NameRegex.MatchString(in.Name):
		return false
	}
	return true
}

func listForFilter(ctx context.Context, c *clouddc.Client, f instanceFilter) ([]clouddc.Instance, error) {
	base := clouddc.ListInstancesInput{State: clouddc.State(f.State)}
	ids, field := f.InstanceIDs, func(in *clouddc.ListInstancesInput, c []string) { in.InstanceIDs = c }
	if len(ids) == 0 {
		ids, field = f.ServerIDs, func(in *clouddc.ListInstancesInput, c []string) { in.ServerIDs = c }
	}
	if len(ids) == 0 {
		return c.ListAllInstances(ctx, base)
	}
	var all []clouddc.Instance
	seen := map[string]bool{}
	for chunk := range slices.Chunk(slices.Compact(slices.Sorted(slices.Values(ids))), clouddc.MaxFilterIDs) {
		in := base
		field(&in, chunk)
		page, err := c.ListAllInstances(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, i := range page {
			if !seen[i.ID] {
				seen[i.ID] = true
				all = append(all, i)
			}
		}
	}
	slices.SortStableFunc(all, func(a, b clouddc.Instance) int {
		switch {
		case a.CreatedAt < b.CreatedAt:
			return -1
		case a.CreatedAt > b.CreatedAt:
			return 1
		}
		return 0
	})
	return all, nil
}
