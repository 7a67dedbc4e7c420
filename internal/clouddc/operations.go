package clouddc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// Operation states of the long-running operations other than create and
// delete.
const (
	OpReinstallProcessing = "reinstall-processing"
	OpReinstallSucceed    = "reinstall-succeed"
	OpReinstallFailed     = "reinstall-failed"
	OpModifyIPProcessing  = "modify-ip-processing"
	OpModifyIPSucceed     = "modify-ip-succeed"
	OpModifyIPFailed      = "modify-ip-failed"
)

type idList struct {
	Instances []struct {
		ID string `json:"id"`
	} `json:"instances"`
}

// ReinstallOS reinstalls the operating system of an instance, keeping its
// ID and its data disks and rebuilding the system disk. An empty imageID
// keeps the current image. The operation is asynchronous: the instance's
// operation_state goes from reinstall-processing to reinstall-succeed;
// WaitForReinstall waits for it.
//
// A reinstall is not resent when its outcome is unknown: a second request
// could start a second reinstall. The caller gets an *OutcomeUnknownError
// and can read the instance's operation_state to find out.
func (c *Client) ReinstallOS(ctx context.Context, id, imageID, password string) error {
	body := struct {
		ImageID       string   `json:"image_id,omitempty"`
		Password      string   `json:"password"`
		InstanceIDSet []string `json:"instance_id_set"`
	}{imageID, password, []string{id}}
	return c.do(ctx, call{method: http.MethodPut, path: c.projectPath("instances", "reinstall"), in: body, out: &idList{}})
}

// ChangeInstancePassword changes the administrator password of instances.
// It is synchronous and all or nothing. The new password takes effect at
// the server's next power-on or reboot.
func (c *Client) ChangeInstancePassword(ctx context.Context, password string, ids ...string) error {
	body := struct {
		NewPassword   string   `json:"new_password"`
		InstanceIDSet []string `json:"instance_id_set"`
	}{password, ids}
	return c.do(ctx, call{method: http.MethodPut, path: c.projectPath("instances", "password"), in: body, out: &idList{}, idempotent: true})
}

// ModifyIPInput is the body of ModifyInstanceIp: the NIC list replaces the
// instance's NICs in order.
type ModifyIPInput struct {
	VPCID string     `json:"vpc_id"`
	NICs  []ModifyIP `json:"nics"`
}

// ModifyIP is one NIC of ModifyIPInput. An empty IPAddress lets the API
// choose one.
type ModifyIP struct {
	SubnetID  string `json:"subnet_id"`
	IPAddress string `json:"ip_address,omitempty"`
}

// ModifyInstanceIP changes the VPC, subnets and addresses of an instance.
// It is asynchronous: operation_state goes from modify-ip-processing to
// modify-ip-succeed; WaitForModifyIP waits for it. Like ReinstallOS it is
// not resent when its outcome is unknown.
func (c *Client) ModifyInstanceIP(ctx context.Context, id string, in ModifyIPInput) error {
	if err := checkInstanceID(id); err != nil {
		return err
	}
	return c.do(ctx, call{method: http.MethodPut, path: c.projectPath("instances", id, "ip"), in: in})
}

// PhysicalServer is a physical server of the project.
type PhysicalServer struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	ProjectID   string `json:"project_id"`
	ManageState string `json:"manage_state"`
	PowerState  string `json:"power_state"`
	OnboardTime string `json:"onboard_time"`
	Tags        []Tag  `json:"tags"`
}

// Manage states and power states of physical servers.
const (
	ServerReady = "ready"
	ServerInUse = "in-use"

	PowerOn          = "on"
	PowerOff         = "off"
	PowerPoweringOn  = "powering-on"
	PowerPoweringOff = "powering-off"
	PowerRebooting   = "rebooting"
)

// ListServersInput filters and pages ListServers.
type ListServersInput struct {
	ManageState string
	Limit       int
	Marker      string
}

// ListServersOutput is one page of physical servers.
type ListServersOutput struct {
	Servers  []PhysicalServer `json:"servers"`
	PageInfo PageInfo         `json:"page_info"`
	Count    int              `json:"count"`
}

// ListServers returns one page of the project's physical servers.
func (c *Client) ListServers(ctx context.Context, in ListServersInput) (*ListServersOutput, error) {
	q := url.Values{}
	if in.ManageState != "" {
		q.Set("manage_state", in.ManageState)
	}
	if in.Limit > 0 {
		q.Set("limit", strconv.Itoa(in.Limit))
	}
	if in.Marker != "" {
		q.Set("marker", in.Marker)
	}
	var out ListServersOutput
	if err := c.do(ctx, call{method: http.MethodGet, path: c.projectPath("physicalservers"), query: q, out: &out, idempotent: true}); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListAllServers reads every page of ListServers.
func (c *Client) ListAllServers(ctx context.Context, manageState string) ([]PhysicalServer, error) {
	in := ListServersInput{ManageState: manageState, Limit: MaxPageSize}
	var all []PhysicalServer
	for {
		page, err := c.ListServers(ctx, in)
		if err != nil {
			return nil, err
		}
		all = append(all, page.Servers...)
		if page.PageInfo.NextMarker == "" || len(page.Servers) == 0 {
			return all, nil
		}
		in.Marker = page.PageInfo.NextMarker
	}
}

// ShowServer reads one physical server.
func (c *Client) ShowServer(ctx context.Context, id string) (*PhysicalServer, error) {
	if err := checkInstanceID(id); err != nil {
		return nil, err
	}
	var out PhysicalServer
	if err := c.do(ctx, call{method: http.MethodGet, path: c.projectPath("physicalservers", id), out: &out, idempotent: true}); err != nil {
		return nil, err
	}
	return &out, nil
}

// Power actions of ChangeServerPowerState.
const (
	ActionPowerOn  = "power on"
	ActionPowerOff = "power off"
	ActionReboot   = "rebooting"
)

// ChangeServerPowerState powers physical servers on or off, or reboots
// them. Powering a server off stops its instance; powering it on runs it
// again. Repeating the same action is harmless, so it is retried.
func (c *Client) ChangeServerPowerState(ctx context.Context, action string, serverIDs ...string) error {
	switch action {
	case ActionPowerOn, ActionPowerOff, ActionReboot:
	default:
		return fmt.Errorf("clouddc: unknown power action %q", action)
	}
	body := struct {
		Action      string   `json:"action"`
		ServerIDSet []string `json:"server_id_set"`
	}{action, serverIDs}
	return c.do(ctx, call{method: http.MethodPut, path: c.projectPath("physicalservers", "power-state"), in: body, idempotent: true})
}

// ListAllInstances reads every page of ListInstances for the given filters
// (Limit and Marker are managed here). A gateway may answer a page that is
// well-formed but cut short, without its next_marker; the listing is then
// shorter than the count the API reported, and it is read again, up to
// listAttempts times, before failing with *IncompleteListError: a listing
// that misses instances must not pass for the whole.
func (c *Client) ListAllInstances(ctx context.Context, in ListInstancesInput) ([]Instance, error) {
	var err error
	for range listAttempts {
		var all []Instance
		if all, err = c.listAllOnce(ctx, in); err == nil {
			return all, nil
		}
		var short *IncompleteListError
		if !errors.As(err, &short) {
			return nil, err
		}
		c.logger.WarnContext(ctx, "the instance listing was incomplete; reading it again", "count", short.Count, "listed", short.Listed)
	}
	return nil, err
}

func (c *Client) listAllOnce(ctx context.Context, in ListInstancesInput) ([]Instance, error) {
	in.Limit, in.Marker = MaxPageSize, ""
	var all []Instance
	count := 0
	for {
		page, err := c.ListInstances(ctx, in)
		if err != nil {
			return nil, err
		}
		count = max(count, page.Count)
		all = append(all, page.Instances...)
		if page.PageInfo.NextMarker == "" || len(page.Instances) == 0 {
			break
		}
		in.Marker = page.PageInfo.NextMarker
	}
	if len(all) < count {
		return nil, &IncompleteListError{Count: count, Listed: len(all)}
	}
	return all, nil
}
