package clouddc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// MaxFilterIDs is the most IDs one ListInstances filter accepts.
const MaxFilterIDs = 100

// MaxPageSize is the largest page ListInstances returns.
const MaxPageSize = 1000

// NetworkInterface is one NIC of an instance. The first is the primary NIC.
type NetworkInterface struct {
	SubnetID    string `json:"subnet_id"`
	IPv4Address string `json:"ipv4_address,omitempty"`
}

// Placement chooses the physical server for a new instance.
type Placement struct {
	ServerID string `json:"server_id,omitempty"`
}

// CreateInstanceInput is the body of CreateInstance.
type CreateInstanceInput struct {
	Name              string             `json:"name"`
	ImageID           string             `json:"image_id"`
	VPCID             string             `json:"vpc_id"`
	NetworkInterfaces []NetworkInterface `json:"network_interfaces"`
	Password          string             `json:"password"`
	Metadata          map[string]string  `json:"metadata,omitempty"`
	Description       string             `json:"description,omitempty"`
	Placement         *Placement         `json:"placement,omitempty"`
}

// String hides the password, so that the input can be logged or printed.
func (in CreateInstanceInput) String() string {
	return fmt.Sprintf("CreateInstanceInput{Name:%q ImageID:%q VPCID:%q NICs:%d Password:(hidden)}",
		in.Name, in.ImageID, in.VPCID, len(in.NetworkInterfaces))
}

// Image describes the OS image of an instance.
type Image struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	OSType string `json:"os_type"`
}

// Tag is a key/value tag. Tags are read-only for instances.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Instance is an iMetal instance as ListInstances returns it.
type Instance struct {
	ID                string             `json:"id"`
	Name              string             `json:"name"`
	VPCID             string             `json:"vpc_id"`
	Description       string             `json:"description"`
	NetworkInterfaces []NetworkInterface `json:"network_interfaces"`
	Tags              []Tag              `json:"tags"`
	Image             Image              `json:"image"`
	State             State              `json:"state"`
	OperationState    string             `json:"operation_state"`
	Metadata          map[string]string  `json:"metadata"`
	UserData          string             `json:"user_data"`
	ServerID          string             `json:"server_id"`
	CreatedAt         string             `json:"created_at"`
	UpdatedAt         string             `json:"updated_at"`
	LaunchedAt        string             `json:"launched_at"`
	Error             *InstanceError     `json:"error,omitempty"`
}

// InstanceStatus is the answer of ShowInstanceStatus.
type InstanceStatus struct {
	State          State          `json:"state"`
	OperationState string         `json:"operation_state"`
	Error          *InstanceError `json:"error,omitempty"`
}

// ListInstancesInput filters and pages ListInstances. InstanceIDs and
// ServerIDs may not be combined; each takes at most MaxFilterIDs.
type ListInstancesInput struct {
	Limit       int
	Marker      string
	State       State
	InstanceIDs []string
	ServerIDs   []string
}

// PageInfo is the paging cursor of a ListInstances answer.
type PageInfo struct {
	NextMarker     string `json:"next_marker"`
	PreviousMarker string `json:"previous_marker"`
	CurrentCount   int    `json:"current_count"`
}

// ListInstancesOutput is one page of instances.
type ListInstancesOutput struct {
	Instances []Instance `json:"instances"`
	PageInfo  PageInfo   `json:"page_info"`
	// Count is the number of instances that match the filters, on all pages.
	Count int `json:"count"`
}

// CreateInstanceByHand sends one CreateInstance as a person at the
// console would: without a create token, and without looking for the
// instance when the answer is lost, so an unknown outcome may leave an
// instance that nobody knows of, and calling it again may make a second.
// It is for tests and tools that need an instance made outside Terraform;
// everything else uses CreateInstance, which never makes two.
func (c *Client) CreateInstanceByHand(ctx context.Context, in CreateInstanceInput) (string, error) {
	return c.postCreate(ctx, in)
}

// ListInstances returns one page of instances.
func (c *Client) ListInstances(ctx context.Context, in ListInstancesInput) (*ListInstancesOutput, error) {
	if len(in.InstanceIDs) > 0 && len(in.ServerIDs) > 0 {
		return nil, errors.New("clouddc: ListInstances cannot filter by instance IDs and server IDs at once")
	}
	if len(in.InstanceIDs) > MaxFilterIDs || len(in.ServerIDs) > MaxFilterIDs {
		return nil, fmt.Errorf("clouddc: ListInstances takes at most %d IDs per filter", MaxFilterIDs)
	}
	q := url.Values{}
	if in.Limit > 0 {
		q.Set("limit", strconv.Itoa(in.Limit))
	}
	if in.Marker != "" {
		q.Set("marker", in.Marker)
	}
	if in.State != "" {
		q.Set("instance_state", string(in.State))
	}
	if len(in.InstanceIDs) > 0 {
		q.Set("instance_id", strings.Join(in.InstanceIDs, ","))
	}
	if len(in.ServerIDs) > 0 {
		q.Set("server_id", strings.Join(in.ServerIDs, ","))
	}
	var wire listInstancesWire
	path := c.projectPath("instances")
	check := func(requestID string) error { return wire.check(in.Marker != "", path, requestID) }
	if err := c.do(ctx, call{method: http.MethodGet, path: path, query: q, out: &wire, idempotent: true, check: check}); err != nil {
		return nil, err
	}
	return &ListInstancesOutput{Instances: *wire.Instances, PageInfo: wire.PageInfo, Count: *wire.Count}, nil
}

// listInstancesWire is a ListInstances answer as it arrives. The pointers
// tell a missing or null "instances" or "count" from an empty listing: a
// gateway or a proxy can answer 200 with "{}" or {"instances": null}, and
// an instance missing from such a document proves nothing.
type listInstancesWire struct {
	Instances *[]Instance `json:"instances"`
	PageInfo  PageInfo    `json:"page_info"`
	Count     *int        `json:"count"`
}

// check accepts a page only when it is a real listing: "instances" and
// "count" are present, and a page that is the whole listing (the first and
// the last) holds exactly count instances. A later page cannot be judged
// alone; listAll compares the sum of the pages with count.
func (w *listInstancesWire) check(paged bool, path, requestID string) error {
	bad := func(reason string) error {
		return &IncompleteListingError{Method: http.MethodGet, Path: path, RequestID: requestID, Reason: reason}
	}
	switch {
	case w.Instances == nil:
		return bad(`the "instances" list is missing or null`)
	case w.Count == nil:
		return bad(`the "count" of matching instances is missing or null`)
	case *w.Count < 0:
		return bad(fmt.Sprintf("count is %d", *w.Count))
	case !paged && w.PageInfo.NextMarker == "" && len(*w.Instances) != *w.Count:
		return bad(fmt.Sprintf("the page holds %d instances, count says %d, and there is no next_marker", len(*w.Instances), *w.Count))
	}
	return nil
}

// ShowInstanceStatus reads the state of one instance.
func (c *Client) ShowInstanceStatus(ctx context.Context, id string) (*InstanceStatus, error) {
	if err := checkInstanceID(id); err != nil {
		return nil, err
	}
	var out InstanceStatus
	if err := c.do(ctx, call{method: http.MethodGet, path: c.projectPath("instances", id, "status"), out: &out, idempotent: true}); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteInstance starts the deletion of an instance. The instance is then
// shutting-down; WaitForInstanceTerminated waits until it is gone.
func (c *Client) DeleteInstance(ctx context.Context, id string) error {
	if err := checkInstanceID(id); err != nil {
		return err
	}
	return c.do(ctx, call{method: http.MethodDelete, path: c.projectPath("instances", id), idempotent: true})
}

// checkInstanceID rejects IDs that, as a path segment, would address another
// resource: "" (DELETE /instances/ is the collection) and the dot segments
// that servers and proxies resolve ("/instances/.." is the project).
func checkInstanceID(id string) error {
	switch id {
	case "", ".", "..":
		return fmt.Errorf("clouddc: %q is not an instance ID", id)
	}
	return nil
}
