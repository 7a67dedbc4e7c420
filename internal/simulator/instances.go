package simulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

type nicBody struct {
	SubnetID    *string `json:"subnet_id"`
	IPv4Address *string `json:"ipv4_address"`
}

type createBody struct {
	Name              *string           `json:"name"`
	ImageID           *string           `json:"image_id"`
	VPCID             *string           `json:"vpc_id"`
	NetworkInterfaces *[]nicBody        `json:"network_interfaces"`
	Password          *string           `json:"password"`
	Metadata          map[string]string `json:"metadata"`
	Description       *string           `json:"description"`
	Placement         *struct {
		ServerID *string `json:"server_id"`
	} `json:"placement"`
}

// decodeBody decodes a JSON body, turning a decoding failure into the API's
// invalid-parameter error that names the field where possible.
func decodeBody(body []byte, v any) *apiError {
	if len(bytes.TrimSpace(body)) == 0 {
		return errMissing("request body")
	}
	if err := json.Unmarshal(body, v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return errInvalid(fmt.Sprintf("%s must be of type %s", typeErr.Field, typeErr.Type))
		}
		return errInvalid("the request body is not valid JSON")
	}
	return nil
}

func missing(p *string) bool { return p == nil || *p == "" }

func (s *Simulator) createInstance(req *http.Request, body []byte) (int, any, *apiError) {
	var in createBody
	if e := decodeBody(body, &in); e != nil {
		return 0, nil, e
	}
	switch {
	case in.Name == nil:
		return 0, nil, errMissing("name")
	case missing(in.ImageID):
		return 0, nil, errMissing("image_id")
	case missing(in.VPCID):
		return 0, nil, errMissing("vpc_id")
	case in.NetworkInterfaces == nil:
		return 0, nil, errMissing("network_interfaces")
	case missing(in.Password):
		return 0, nil, errMissing("password")
	}
	if msg := checkName(*in.Name); msg != "" {
		return 0, nil, errInvalid(msg)
	}
	if !isUUID(*in.ImageID) {
		return 0, nil, errInvalid("image_id must be a lower-case UUID")
	}
	image, ok := s.images[*in.ImageID]
	if !ok {
		return 0, nil, errInvalid(fmt.Sprintf("image_id: image %s does not exist", *in.ImageID))
	}
	if !isUUID(*in.VPCID) {
		return 0, nil, errInvalid("vpc_id must be a lower-case UUID")
	}
	nics, apiErr := s.checkNICs(*in.VPCID, *in.NetworkInterfaces)
	if apiErr != nil {
		return 0, nil, apiErr
	}
	user := "root"
	if image.OSType == "Windows" {
		user = "Administrator"
	}
	if msg := checkPassword(*in.Password, user); msg != "" {
		return 0, nil, errInvalid(msg)
	}
	if msg := checkMetadata(in.Metadata); msg != "" {
		return 0, nil, errInvalid(msg)
	}
	desc := ""
	if in.Description != nil {
		desc = *in.Description
	}
	if len([]rune(desc)) > 255 {
		return 0, nil, errInvalid("description must be at most 255 characters long")
	}
	var wantServer string
	if in.Placement != nil && in.Placement.ServerID != nil && *in.Placement.ServerID != "" {
		wantServer = *in.Placement.ServerID
		if !isUUID(wantServer) {
			return 0, nil, errInvalid("placement.server_id must be a lower-case UUID")
		}
	}
	srv, apiErr := s.pickServerLocked(wantServer)
	if apiErr != nil {
		return 0, nil, apiErr
	}

	id := newUUID()
	addrs, apiErr := s.assignAddrsLocked(id, nics)
	if apiErr != nil {
		return 0, nil, apiErr
	}
	srv.InstanceID = id
	now := s.now()
	md := make(map[string]string, len(in.Metadata))
	for k, v := range in.Metadata {
		md[k] = v
	}
	r := &record{
		Project:  req.PathValue("project_id"),
		Seq:      s.nextSeq,
		Password: *in.Password,
		Instance: Instance{
			ID: id, Name: *in.Name, VPCID: *in.VPCID, Description: desc,
			NetworkInterfaces: addrs, Tags: []Tag{},
			Image:     Image{ID: image.ID, Name: image.Name, OSType: image.OSType},
			Metadata:  md,
			ServerID:  srv.ID,
			CreatedAt: formatTime(now),
		},
	}
	s.nextSeq++
	s.instances[id] = r
	s.seqs[id] = r.Seq
	s.setStateLocked(r, now, "pending", "install-processing")
	s.scheduleLocked(r, kindCreate, s.opts.CreateDuration, s.popFailLocked(kindCreate))
	return http.StatusOK, map[string]string{"instance_id": id}, nil
}

// checkNICs validates the NICs against the network catalogue.
func (s *Simulator) checkNICs(vpcID string, nics []nicBody) ([]nicBody, *apiError) {
	if len(nics) < 1 || len(nics) > 2 {
		return nil, errInvalid(fmt.Sprintf("network_interfaces must have 1 or 2 items, got %d", len(nics)))
	}
	for i, n := range nics {
		field := fmt.Sprintf("network_interfaces[%d]", i)
		if missing(n.SubnetID) {
			return nil, errMissing(field + ".subnet_id")
		}
		if !isUUID(*n.SubnetID) {
			return nil, errInvalid(field + ".subnet_id must be a lower-case UUID")
		}
		sn, ok := s.subnets[*n.SubnetID]
		if !ok {
			return nil, errInvalid(fmt.Sprintf("%s.subnet_id: subnet %s does not exist", field, *n.SubnetID))
		}
		if sn.VPCID != vpcID {
			return nil, errInvalid(fmt.Sprintf("%s.subnet_id: subnet %s is not in VPC %s", field, sn.ID, vpcID))
		}
		if n.IPv4Address != nil && *n.IPv4Address != "" {
			a, err := netip.ParseAddr(*n.IPv4Address)
			if err != nil || !a.Is4() {
				return nil, errInvalid(fmt.Sprintf("%s.ipv4_address %q is not an IPv4 address", field, *n.IPv4Address))
			}
			if !usableAddr(sn, a) {
				return nil, errInvalid(fmt.Sprintf("%s.ipv4_address %s is not a usable address of subnet %s (%s)", field, a, sn.ID, sn.CIDR))
			}
		}
	}
	return nics, nil
}

// assignAddrsLocked reserves the fixed addresses and picks free ones for the
// NICs that have none. Nothing is reserved when it fails.
func (s *Simulator) assignAddrsLocked(id string, nics []nicBody) ([]NIC, *apiError) {
	taken := map[netip.Addr]bool{}
	out := make([]NIC, len(nics))
	for i, n := range nics {
		out[i].SubnetID = *n.SubnetID
		if n.IPv4Address == nil || *n.IPv4Address == "" {
			continue
		}
		a := netip.MustParseAddr(*n.IPv4Address)
		if _, used := s.usedIPs[a]; used || taken[a] {
			return nil, errInvalid(fmt.Sprintf("network_interfaces[%d].ipv4_address %s is already in use", i, a))
		}
		taken[a] = true
		out[i].IPv4Address = a.String()
	}
	for i := range out {
		if out[i].IPv4Address != "" {
			continue
		}
		sn := s.subnets[out[i].SubnetID]
		a := sn.CIDR.Addr().Next().Next()
		for ; usableAddr(sn, a); a = a.Next() {
			if _, used := s.usedIPs[a]; !used && !taken[a] {
				break
			}
		}
		if !usableAddr(sn, a) {
			return nil, errInvalid(fmt.Sprintf("network_interfaces[%d]: subnet %s has no free address", i, sn.ID))
		}
		taken[a] = true
		out[i].IPv4Address = a.String()
	}
	for a := range taken {
		s.usedIPs[a] = id
	}
	return out, nil
}

func (s *Simulator) pickServerLocked(id string) (*Server, *apiError) {
	if id != "" {
		srv := s.serverIdx[id]
		if srv == nil {
			return nil, &apiError{status: http.StatusNotFound, code: "iMetal.0100", msg: "Physical server not found: " + id}
		}
		if !srv.Ready() {
			return nil, &apiError{status: http.StatusBadRequest, code: "iMetal.0101",
				msg: fmt.Sprintf("Physical server %s is not in state ready", id)}
		}
		return srv, nil
	}
	for _, srv := range s.servers {
		if srv.Ready() {
			return srv, nil
		}
	}
	return nil, &apiError{status: http.StatusBadRequest, code: "iMetal.0101", msg: "No physical server in state ready is available"}
}

func (s *Simulator) popFailLocked(kind string) *ErrorInfo {
	q := s.failNext[kind]
	if len(q) == 0 {
		return nil
	}
	e := q[0]
	s.failNext[kind] = q[1:]
	return &e
}

// The states a filter may name.
var filterStates = []string{"pending", "running", "stopped", "shutting-down", "terminated", "error"}

type listAnswer struct {
	Instances []Instance `json:"instances"`
	PageInfo  struct {
		NextMarker     string `json:"next_marker"`
		PreviousMarker string `json:"previous_marker"`
		CurrentCount   int    `json:"current_count"`
	} `json:"page_info"`
	Count int `json:"count"`
}

func splitIDs(field, v string) ([]string, *apiError) {
	if v == "" {
		return nil, nil
	}
	ids := strings.Split(v, ",")
	if len(ids) > 100 {
		return nil, errInvalid(fmt.Sprintf("%s takes at most 100 IDs, got %d", field, len(ids)))
	}
	for _, id := range ids {
		if !isUUID(id) {
			return nil, errInvalid(fmt.Sprintf("%s: %q is not a lower-case UUID", field, id))
		}
	}
	return ids, nil
}

func (s *Simulator) listInstances(r *http.Request, _ []byte) (int, any, *apiError) {
	q := r.URL.Query()
	limit := 10
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, nil, errInvalid(fmt.Sprintf("limit %q is not an integer", v))
		}
		limit = min(max(n, 10), 1000)
	}
	state := q.Get("instance_state")
	if state != "" && !slices.Contains(filterStates, state) {
		return 0, nil, errInvalid(fmt.Sprintf("instance_state %q is not one of %s", state, strings.Join(filterStates, ", ")))
	}
	ids, apiErr := splitIDs("instance_id", q.Get("instance_id"))
	if apiErr != nil {
		return 0, nil, apiErr
	}
	servers, apiErr := splitIDs("server_id", q.Get("server_id"))
	if apiErr != nil {
		return 0, nil, apiErr
	}
	if len(ids) > 0 && len(servers) > 0 {
		return 0, nil, errInvalid("instance_id and server_id cannot be used together")
	}
	after := int64(-1)
	if m := q.Get("marker"); m != "" {
		seq, ok := s.seqs[m]
		if !ok {
			return 0, nil, errInvalid(fmt.Sprintf("marker %q is not a valid marker", m))
		}
		after = int64(seq)
	}

	project := r.PathValue("project_id")
	var candidates []*record
	if len(ids) > 0 {
		for _, id := range ids {
			if r := s.instances[id]; r != nil && r.Project == project && !slices.Contains(candidates, r) {
				candidates = append(candidates, r)
			}
		}
	} else {
		candidates = make([]*record, 0, len(s.instances))
		for _, r := range s.instances {
			if r.Project == project {
				candidates = append(candidates, r)
			}
		}
	}
	matched := candidates[:0]
	for _, r := range candidates {
		if state != "" && r.Instance.State != state {
			continue
		}
		if len(servers) > 0 && !slices.Contains(servers, r.Instance.ServerID) {
			continue
		}
		matched = append(matched, r)
	}
	slices.SortFunc(matched, func(a, b *record) int { return cmpSeq(a.Seq, b.Seq) })

	start := 0
	if after >= 0 {
		start, _ = slices.BinarySearchFunc(matched, uint64(after), func(r *record, seq uint64) int {
			switch {
			case r.Seq <= seq:
				return -1
			default:
				return 1
			}
		})
	}
	end := min(start+limit, len(matched))
	var out listAnswer
	out.Instances = make([]Instance, 0, end-start)
	for _, r := range matched[start:end] {
		out.Instances = append(out.Instances, r.snapshot())
	}
	out.Count = len(matched)
	out.PageInfo.CurrentCount = len(out.Instances)
	if end < len(matched) {
		out.PageInfo.NextMarker = matched[end-1].Instance.ID
	}
	if prev := start - limit; start > 0 && prev > 0 {
		out.PageInfo.PreviousMarker = matched[prev-1].Instance.ID
	}
	return http.StatusOK, out, nil
}

func (s *Simulator) showInstanceStatus(r *http.Request, _ []byte) (int, any, *apiError) {
	id := r.PathValue("id")
	rec := s.instances[id]
	if rec == nil || rec.Project != r.PathValue("project_id") {
		return 0, nil, errInstanceNotFound(id)
	}
	return http.StatusOK, struct {
		State          string     `json:"state"`
		OperationState string     `json:"operation_state"`
		Error          *ErrorInfo `json:"error,omitempty"`
	}{rec.Instance.State, rec.Instance.OperationState, rec.Instance.Error}, nil
}

func (s *Simulator) deleteInstance(r *http.Request, _ []byte) (int, any, *apiError) {
	id := r.PathValue("id")
	rec := s.instances[id]
	if rec == nil || rec.Project != r.PathValue("project_id") {
		return 0, nil, errInstanceNotFound(id)
	}
	if apiErr := s.startDeleteLocked(rec); apiErr != nil {
		return 0, nil, apiErr
	}
	return http.StatusNoContent, nil, nil
}

// startDeleteLocked begins the deletion of an instance. Deleting one that is
// already shutting down changes nothing; a terminated one is not found.
func (s *Simulator) startDeleteLocked(r *record) *apiError {
	switch r.Instance.State {
	case "shutting-down":
		return nil
	case "terminated":
		return errInstanceNotFound(r.Instance.ID)
	case "pending", "running", "stopped", "error":
	default:
		return errInvalidState(r.Instance.ID, r.Instance.State, "DeleteInstance")
	}
	r.Instance.Error = nil
	s.setStateLocked(r, s.now(), "shutting-down", "uninstall-processing")
	s.scheduleLocked(r, kindDelete, s.opts.DeleteDuration, s.popFailLocked(kindDelete))
	return nil
}
