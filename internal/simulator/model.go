package simulator

import (
	"net/netip"
	"slices"
	"time"
)

// The simulator declares its own wire types on purpose: it must not share
// structs with the client, or a wrong JSON tag would be wrong on both sides
// and every test would still pass.

// Instance is an iMetal instance as ListInstances returns it.
type Instance struct {
	ID                string            `json:"id"`
	Name              string            `json:"name"`
	VPCID             string            `json:"vpc_id"`
	Description       string            `json:"description"`
	NetworkInterfaces []NIC             `json:"network_interfaces"`
	Tags              []Tag             `json:"tags"`
	Image             Image             `json:"image"`
	State             string            `json:"state"`
	OperationState    string            `json:"operation_state"`
	Metadata          map[string]string `json:"metadata"`
	UserData          string            `json:"user_data"`
	ServerID          string            `json:"server_id"`
	CreatedAt         string            `json:"created_at"`
	UpdatedAt         string            `json:"updated_at"`
	LaunchedAt        string            `json:"launched_at"`
	Error             *ErrorInfo        `json:"error,omitempty"`
}

// NIC is one network interface of an instance.
type NIC struct {
	SubnetID    string `json:"subnet_id"`
	IPv4Address string `json:"ipv4_address"`
}

// Tag is a read-only key/value tag.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Image is the image summary embedded in an instance.
type Image struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	OSType string `json:"os_type"`
}

// ErrorInfo is the error attached to an instance whose last operation failed.
type ErrorInfo struct {
	Code    string `json:"error_code"`
	Message string `json:"error_msg"`
	Type    string `json:"error_type"`
}

// Values of ErrorInfo.Type that the simulator produces.
const (
	ErrorTypeCreate    = "create_instance_error"
	ErrorTypeDelete    = "delete_instance_error"
	ErrorTypeReinstall = "reinstall_error"
	ErrorTypeModifyIP  = "modify_ip_error"
)

// StateChange records one state change of an instance, for tests and
// benchmarks that measure how quickly a client noticed it. State is always
// the current (2026) name, whatever Legacy mode shows to clients.
type StateChange struct {
	At             time.Time `json:"at"`
	State          string    `json:"state"`
	OperationState string    `json:"operation_state"`
}

// Server is a physical server of the simulator's pool.
type Server struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// ProjectID is the project the server belongs to; only that project
	// lists it and installs on it. A state file written before projects
	// had servers of their own leaves it out: the simulator's own project.
	ProjectID string `json:"project_id,omitempty"`
	// InstanceID is the instance the server hosts; empty when it is ready.
	InstanceID string `json:"instance_id,omitempty"`
	// PowerState is on, off, powering-on, powering-off or rebooting.
	PowerState string `json:"power_state"`
	// OnboardTime is when the server joined the pool.
	OnboardTime time.Time `json:"onboard_time"`
}

// Ready reports whether the server can take a new instance (its
// manage_state is ready rather than in-use).
func (s Server) Ready() bool { return s.InstanceID == "" }

// Power states of a physical server.
const (
	PowerOn          = "on"
	PowerOff         = "off"
	PowerPoweringOn  = "powering-on"
	PowerPoweringOff = "powering-off"
	PowerRebooting   = "rebooting"
)

// Power actions of ChangeServerPowerState.
const (
	ActionPowerOn  = "power on"
	ActionPowerOff = "power off"
	ActionReboot   = "rebooting"
)

// ImageSpec is an image of the simulator's catalogue.
type ImageSpec struct {
	ID     string
	Name   string
	OSType string // Linux, Windows or Other
}

// SubnetSpec is a subnet of the simulator's network catalogue.
type SubnetSpec struct {
	ID    string
	VPCID string
	CIDR  netip.Prefix
}

// Well-known IDs of the default catalogue, so that examples and a user's
// own configuration can refer to them.
const (
	DefaultVPCID        = "c0000000-0000-4000-8000-000000000001"
	DefaultSubnetID     = "d0000000-0000-4000-8000-000000000001"
	DefaultSubnetID2    = "d0000000-0000-4000-8000-000000000002"
	DefaultImageID      = "b0000000-0000-4000-8000-000000000001"
	DefaultImageID2     = "b0000000-0000-4000-8000-000000000002"
	DefaultWindowsImage = "b0000000-0000-4000-8000-000000000003"
	// DefaultProjectID and DefaultToken are used when Options leave them empty.
	DefaultProjectID = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
	DefaultToken     = "clouddc-simulator-token" //nolint:gosec // G101: the simulator's documented public token; it guards nothing
)

// DefaultImages is the image catalogue used when Options.Images is empty.
func DefaultImages() []ImageSpec {
	return []ImageSpec{
		{ID: DefaultImageID, Name: "Ubuntu 22.04 server 64bit", OSType: "Linux"},
		{ID: DefaultImageID2, Name: "CentOS 7.9 64bit", OSType: "Linux"},
		{ID: DefaultWindowsImage, Name: "Windows Server 2022 Datacenter 64bit", OSType: "Windows"},
	}
}

// DefaultSubnets is the network catalogue used when Options.Subnets is empty.
func DefaultSubnets() []SubnetSpec {
	return []SubnetSpec{
		{ID: DefaultSubnetID, VPCID: DefaultVPCID, CIDR: netip.MustParsePrefix("192.168.0.0/24")},
		{ID: DefaultSubnetID2, VPCID: DefaultVPCID, CIDR: netip.MustParsePrefix("192.168.1.0/24")},
	}
}

// DefaultServerID returns the ID of the n-th server (from 1) of the pool, so
// that documentation and tests can name them.
func DefaultServerID(n int) string { return serverID(n) }

// transition is the pending end of a long-running operation of an
// instance. It is part of the state file, so its fields carry JSON tags.
type transition struct {
	At   time.Time  `json:"at"`
	Kind string     `json:"kind"`
	Fail *ErrorInfo `json:"fail,omitempty"`
	// Held marks a deletion that HoldDeletes keeps in shutting-down: it
	// has no due time until ReleaseDeletes.
	Held bool `json:"held,omitempty"`
	// ImageID and Password are what a reinstall installs.
	ImageID  string `json:"image_id,omitempty"`
	Password string `json:"password,omitempty"`
	// VPCID and NICs are what an IP change sets; the addresses are
	// reserved from the request on.
	VPCID string `json:"vpc_id,omitempty"`
	NICs  []NIC  `json:"nics,omitempty"`
}

// Transition kinds.
const (
	kindCreate    = "create"
	kindDelete    = "delete"
	kindPurge     = "purge"
	kindReinstall = "reinstall"
	kindModifyIP  = "modify-ip"
)

// record is the simulator's whole knowledge of one instance.
type record struct {
	// Project is the project the instance was created in; other
	// projects neither list nor find it.
	Project  string        `json:"project"`
	Instance Instance      `json:"instance"`
	Seq      uint64        `json:"seq"`
	Password string        `json:"password"`
	Next     *transition   `json:"next,omitempty"`
	Gen      uint64        `json:"gen"`
	History  []StateChange `json:"history"`

	timer *time.Timer // fires at Next.At; stopped when Next is replaced
	// lag is what the instance shows while its operation has not shown
	// yet (operation_lag.go); any later state change ends it.
	lag *lagged
}

// busyKind is the long operation in progress that makes the instance
// unavailable for other operations, or "".
func (r *record) busyKind() string {
	if r.Next != nil && (r.Next.Kind == kindReinstall || r.Next.Kind == kindModifyIP) {
		return r.Next.Kind
	}
	return ""
}

func (r *record) snapshot() Instance {
	in := r.Instance
	in.NetworkInterfaces = slices.Clone(r.Instance.NetworkInterfaces)
	if in.NetworkInterfaces == nil {
		in.NetworkInterfaces = []NIC{}
	}
	in.Tags = append([]Tag{}, r.Instance.Tags...)
	in.Metadata = make(map[string]string, len(r.Instance.Metadata))
	for k, v := range r.Instance.Metadata {
		in.Metadata[k] = v
	}
	if r.Instance.Error != nil {
		e := *r.Instance.Error
		in.Error = &e
	}
	return in
}

// serverRec is a physical server with its pending power transition.
type serverRec struct {
	Server
	Gen  uint64           `json:"gen"`
	Next *powerTransition `json:"next,omitempty"`

	timer *time.Timer
	// shownPower is what the API reports as the power state until
	// shownUntil (Options.PowerStateLag).
	shownPower string
	shownUntil time.Time
}

// powerTransition is the pending end of a power action of a server.
type powerTransition struct {
	At     time.Time `json:"at"`
	Action string    `json:"action"`
}
