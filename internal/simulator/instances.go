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
	"unicode/utf8"
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

type runBody struct {
	Name              *string           `json:"name"`
	ImageID           *string           `json:"image_id"`
	VPCID             *string           `json:"vpc_id"`
	NetworkInterfaces *[]nicBody        `json:"network_interfaces"`
	Password          *string           `json:"password"`
	Metadata          map[string]string `json:"metadata"`
	Description       *string           `json:"description"`
	Placement         *struct {
		ServerIDSet *[]string `json:"server_id_set"`
	} `json:"placement"`
	MinCount *int `json:"min_count"`
	MaxCount *int `json:"max_count"`
}

// idAnswer is the {"instances": [{"id"}]} answer of the batch operations.
type idAnswer struct {
	Instances []idItem `json:"instances"`
}

type idItem struct {
	ID string `json:"id"`
}

func idsAnswer(ids []string) idAnswer {
	out := idAnswer{Instances: make([]idItem, len(ids))}
	for i, id := range ids {
		out.Instances[i].ID = id
	}
	return out
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

// instanceSpec is a validated CreateInstance or RunInstances body.
type instanceSpec struct {
	name, vpcID, password, desc string
	image                       ImageSpec
	nics                        []nicBody
	metadata                    map[string]string
}

// checkSpecLocked applies the rules that CreateInstance and RunInstances
// share, in the order the tests pin: required fields first, then each
// field's own rules.
func (s *Simulator) checkSpecLocked(name, imageID, vpcID *string, nics *[]nicBody, password *string,
	md map[string]string, desc *string) (instanceSpec, *apiError) {
	var sp instanceSpec
	switch {
	case name == nil:
		return sp, errMissing("name")
	case missing(imageID):
		return sp, errMissing("image_id")
	case missing(vpcID):
		return sp, errMissing("vpc_id")
	case nics == nil:
		return sp, errMissing("network_interfaces")
	case missing(password):
		return sp, errMissing("password")
	}
	if msg := checkName(*name); msg != "" {
		return sp, errInvalid(msg)
	}
	if !isUUID(*imageID) {
		return sp, errInvalid("image_id must be a lower-case UUID")
	}
	image, ok := s.images[*imageID]
	if !ok {
		return sp, errInvalid(fmt.Sprintf("image_id: image %s does not exist", *imageID))
	}
	if !isUUID(*vpcID) {
		return sp, errInvalid("vpc_id must be a lower-case UUID")
	}
	checked, apiErr := s.checkNICs(*vpcID, *nics, "network_interfaces", "ipv4_address")
	if apiErr != nil {
		return sp, apiErr
	}
	if msg := checkPassword(*password, imageUser(image)); msg != "" {
		return sp, errInvalid(msg)
	}
	if msg := checkMetadata(md); msg != "" {
		return sp, errInvalid(msg)
	}
	d := ""
	if desc != nil {
		d = *desc
	}
	if utf8.RuneCountInString(d) > 255 {
		return sp, errInvalid("description must be at most 255 characters long")
	}
	return instanceSpec{name: *name, vpcID: *vpcID, password: *password, desc: d, image: image, nics: checked, metadata: md}, nil
}

// imageUser is the administrator of an image, whom the password rules
// protect.
func imageUser(im ImageSpec) string {
	if im.OSType == "Windows" {
		return "Administrator"
	}
	return "root"
}

func (s *Simulator) createInstance(req *http.Request, body []byte) (int, any, *apiError) {
	var in createBody
	if e := decodeBody(body, &in); e != nil {
		return 0, nil, e
	}
	sp, apiErr := s.checkSpecLocked(in.Name, in.ImageID, in.VPCID, in.NetworkInterfaces, in.Password, in.Metadata, in.Description)
	if apiErr != nil {
		return 0, nil, apiErr
	}
	var wantServer string
	if in.Placement != nil && in.Placement.ServerID != nil && *in.Placement.ServerID != "" {
		wantServer = *in.Placement.ServerID
		if !isUUID(wantServer) {
			return 0, nil, errInvalid("placement.server_id must be a lower-case UUID")
		}
	}
	srv, apiErr := s.pickServerLocked(req.PathValue("project_id"), wantServer)
	if apiErr != nil {
		return 0, nil, apiErr
	}
	id := newUUID()
	addrs, apiErr := s.assignAddrsLocked(id, sp.nics, "network_interfaces", "ipv4_address")
	if apiErr != nil {
		return 0, nil, apiErr
	}
	s.newInstanceLocked(req.PathValue("project_id"), id, sp, srv, addrs)
	return http.StatusOK, map[string]string{"instance_id": id}, nil
}

// newInstanceLocked records a new instance on srv and starts its creation.
func (s *Simulator) newInstanceLocked(project, id string, sp instanceSpec, srv *serverRec, addrs []NIC) {
	srv.InstanceID = id
	now := s.now()
	md := make(map[string]string, len(sp.metadata))
	for k, v := range sp.metadata {
		md[k] = v
	}
	r := &record{
		Project:  project,
		Seq:      s.nextSeq,
		Password: sp.password,
		Instance: Instance{
			ID: id, Name: sp.name, VPCID: sp.vpcID, Description: sp.desc,
			NetworkInterfaces: addrs, Tags: []Tag{},
			Image:     Image{ID: sp.image.ID, Name: sp.image.Name, OSType: sp.image.OSType},
			Metadata:  md,
			ServerID:  srv.ID,
			CreatedAt: formatTime(now),
		},
	}
	s.nextSeq++
	s.instances[id] = r
	s.order = append(s.order, r) // Seq grows, so order stays sorted
	s.seqs[id] = r.Seq
	s.setStateLocked(r, now, "pending", "install-processing")
	s.scheduleLocked(r, &transition{At: now.Add(s.opts.CreateDuration), Kind: kindCreate, Fail: s.popFailLocked(kindCreate)})
}

// runInstances is RunInstances: up to max_count instances alike, on the
// free servers of placement.server_id_set (or any); all or nothing when
// fewer than min_count servers are free.
func (s *Simulator) runInstances(req *http.Request, body []byte) (int, any, *apiError) {
	var in runBody
	if e := decodeBody(body, &in); e != nil {
		return 0, nil, e
	}
	if in.NetworkInterfaces != nil {
		for i, n := range *in.NetworkInterfaces {
			if n.IPv4Address != nil && *n.IPv4Address != "" {
				return 0, nil, errInvalid(fmt.Sprintf("network_interfaces[%d].ipv4_address cannot be set: RunInstances assigns the addresses; give only subnet_id", i))
			}
		}
	}
	sp, apiErr := s.checkSpecLocked(in.Name, in.ImageID, in.VPCID, in.NetworkInterfaces, in.Password, in.Metadata, in.Description)
	if apiErr != nil {
		return 0, nil, apiErr
	}
	switch {
	case in.MinCount == nil:
		return 0, nil, errMissing("min_count")
	case in.MaxCount == nil:
		return 0, nil, errMissing("max_count")
	case *in.MinCount < 1 || *in.MinCount > 100:
		return 0, nil, errInvalid(fmt.Sprintf("min_count must be 1 to 100, got %d", *in.MinCount))
	case *in.MaxCount < 1 || *in.MaxCount > 100:
		return 0, nil, errInvalid(fmt.Sprintf("max_count must be 1 to 100, got %d", *in.MaxCount))
	case *in.MinCount > *in.MaxCount:
		return 0, nil, errInvalid(fmt.Sprintf("min_count (%d) must not be greater than max_count (%d)", *in.MinCount, *in.MaxCount))
	}
	project := req.PathValue("project_id")
	var eligible []*serverRec
	if in.Placement != nil && in.Placement.ServerIDSet != nil && len(*in.Placement.ServerIDSet) > 0 {
		set := *in.Placement.ServerIDSet
		if len(set) > 100 {
			return 0, nil, errInvalid(fmt.Sprintf("placement.server_id_set takes at most 100 IDs, got %d", len(set)))
		}
		var unknown []string
		for _, id := range set {
			if !isUUID(id) {
				return 0, nil, errInvalid(fmt.Sprintf("placement.server_id_set: %q is not a lower-case UUID", id))
			}
			srv := s.serverLocked(project, id)
			switch {
			case srv == nil:
				unknown = append(unknown, id)
			case srv.Ready() && !slices.Contains(eligible, srv):
				eligible = append(eligible, srv)
			}
		}
		if len(unknown) > 0 {
			return 0, nil, errServerNotFound(unknown...)
		}
	} else {
		for _, srv := range s.servers {
			if srv.ProjectID == project && srv.Ready() {
				eligible = append(eligible, srv)
			}
		}
	}
	n := min(*in.MaxCount, len(eligible))
	if n < *in.MinCount {
		return 0, nil, &apiError{status: http.StatusBadRequest, code: "iMetal.0101",
			msg: fmt.Sprintf("Only %d physical servers in state ready are available; min_count is %d, so nothing was created", len(eligible), *in.MinCount)}
	}
	// Reserve every address first, so that a subnet that runs out part
	// way creates nothing.
	ids := make([]string, n)
	addrs := make([][]NIC, n)
	for i := range n {
		ids[i] = newUUID()
		a, apiErr := s.assignAddrsLocked(ids[i], sp.nics, "network_interfaces", "ipv4_address")
		if apiErr != nil {
			for j := range i {
				s.releaseAddrsLocked(ids[j], addrs[j], nil)
			}
			return 0, nil, apiErr
		}
		addrs[i] = a
	}
	for i := range n {
		s.newInstanceLocked(project, ids[i], sp, eligible[i], addrs[i])
	}
	return http.StatusOK, idsAnswer(ids), nil
}

// checkNICs validates NICs against the network catalogue. list and addr
// are the field names of the operation (network_interfaces/ipv4_address,
// nics/ip_address).
func (s *Simulator) checkNICs(vpcID string, nics []nicBody, list, addr string) ([]nicBody, *apiError) {
	if len(nics) < 1 || len(nics) > 2 {
		return nil, errInvalid(fmt.Sprintf("%s must have 1 or 2 items, got %d", list, len(nics)))
	}
	for i, n := range nics {
		field := fmt.Sprintf("%s[%d]", list, i)
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
				return nil, errInvalid(fmt.Sprintf("%s.%s %q is not an IPv4 address", field, addr, *n.IPv4Address))
			}
			if !usableAddr(sn, a) {
				return nil, errInvalid(fmt.Sprintf("%s.%s %s is not a usable address of subnet %s (%s)", field, addr, a, sn.ID, sn.CIDR))
			}
		}
	}
	return nics, nil
}

// assignAddrsLocked reserves the fixed addresses and picks free ones for the
// NICs that have none, for instance id: the lowest free address of the
// subnet, so that a released address is used again first. An address id
// already holds counts as free for a fixed NIC (an IP change may keep it),
// but is not chosen for an automatic one. Nothing is reserved when it
// fails.
func (s *Simulator) assignAddrsLocked(id string, nics []nicBody, list, addr string) ([]NIC, *apiError) {
	taken := map[netip.Addr]bool{}
	out := make([]NIC, len(nics))
	for i, n := range nics {
		out[i].SubnetID = *n.SubnetID
		if n.IPv4Address == nil || *n.IPv4Address == "" {
			continue
		}
		a := netip.MustParseAddr(*n.IPv4Address)
		if owner, used := s.usedIPs[a]; (used && owner != id) || taken[a] {
			return nil, errInvalid(fmt.Sprintf("%s[%d].%s %s is already in use", list, i, addr, a))
		}
		taken[a] = true
		out[i].IPv4Address = a.String()
	}
	hints := map[string]netip.Addr{}
	for i := range out {
		if out[i].IPv4Address != "" {
			continue
		}
		sn := s.subnets[out[i].SubnetID]
		a, ok := hints[sn.ID]
		if !ok {
			a = s.freeHintLocked(sn)
		}
		for ; usableAddr(sn, a); a = a.Next() {
			if _, used := s.usedIPs[a]; !used && !taken[a] {
				break
			}
		}
		if !usableAddr(sn, a) {
			return nil, errInvalid(fmt.Sprintf("%s[%d]: subnet %s has no free address", list, i, sn.ID))
		}
		taken[a] = true
		out[i].IPv4Address = a.String()
		hints[sn.ID] = a.Next() // every address below it is now used
	}
	for a := range taken {
		s.usedIPs[a] = id
	}
	for sn, a := range hints {
		s.freeHint[sn] = a
	}
	return out, nil
}

// freeHintLocked is where the search for a free address of a subnet
// starts: every usable address below it is in use. It keeps creations fast
// when thousands of addresses are taken.
func (s *Simulator) freeHintLocked(sn SubnetSpec) netip.Addr {
	first := sn.CIDR.Addr().Next().Next()
	if h, ok := s.freeHint[sn.ID]; ok && h.Compare(first) > 0 && sn.CIDR.Contains(h) {
		return h
	}
	return first
}

func (s *Simulator) pickServerLocked(project, id string) (*serverRec, *apiError) {
	if id != "" {
		srv := s.serverLocked(project, id)
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
		if srv.ProjectID == project && srv.Ready() {
			return srv, nil
		}
	}
	return nil, &apiError{status: http.StatusBadRequest, code: "iMetal.0101", msg: "No physical server in state ready is available"}
}

// pageInfo is the paging part of the list answers.
type pageInfo struct {
	NextMarker     string `json:"next_marker"`
	PreviousMarker string `json:"previous_marker"`
	CurrentCount   int    `json:"current_count"`
}

type listAnswer struct {
	Instances []Instance `json:"instances"`
	PageInfo  pageInfo   `json:"page_info"`
	Count     int        `json:"count"`
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

// pageLimit reads the limit parameter: below 10 or unset is 10, above 1000
// is 1000.
func pageLimit(v string) (int, *apiError) {
	if v == "" {
		return 10, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, errInvalid(fmt.Sprintf("limit %q is not an integer", v))
	}
	return min(max(n, 10), 1000), nil
}

// page cuts one page out of the matching items: the items after the
// marker's position, with the markers of the neighbouring pages.
func page[T any](matched []T, start, limit int, idOf func(T) string) ([]T, pageInfo) {
	end := min(start+limit, len(matched))
	var pi pageInfo
	if end < len(matched) {
		pi.NextMarker = idOf(matched[end-1])
	}
	if prev := start - limit; start > 0 && prev > 0 {
		pi.PreviousMarker = idOf(matched[prev-1])
	}
	items := matched[start:end]
	pi.CurrentCount = len(items)
	return items, pi
}

func (s *Simulator) listInstances(r *http.Request, _ []byte) (int, any, *apiError) {
	q := r.URL.Query()
	limit, apiErr := s.pageLimit(q.Get("limit"))
	if apiErr != nil {
		return 0, nil, apiErr
	}
	state := q.Get("instance_state")
	if state != "" {
		var ok bool
		if state, ok = s.filterStateLocked(state); !ok {
			return 0, nil, errInvalid(fmt.Sprintf("instance_state %q is not one of %s", q.Get("instance_state"), strings.Join(s.filterStatesLocked(), ", ")))
		}
	}
	idFilter := q.Get("instance_id")
	if s.ignoreIDFilter {
		idFilter = "" // filter.go
	}
	ids, apiErr := splitIDs("instance_id", idFilter)
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
	// The page starts after the marker's instance, in creation order.
	var after uint64
	hasMarker := false
	if m := q.Get("marker"); m != "" {
		seq, ok := s.seqs[m]
		if !ok {
			return 0, nil, errInvalid(fmt.Sprintf("marker %q is not a valid marker", m))
		}
		after, hasMarker = seq, true
	}

	project := r.PathValue("project_id")
	candidates := s.order
	if len(ids) > 0 {
		candidates = nil
		for _, id := range ids {
			if r := s.instances[id]; r != nil && !slices.Contains(candidates, r) {
				candidates = append(candidates, r)
			}
		}
		slices.SortFunc(candidates, func(a, b *record) int { return cmpSeq(a.Seq, b.Seq) })
	}
	matched := make([]*record, 0, min(len(candidates), 1024))
	for _, r := range candidates {
		if r.Project != project {
			continue
		}
		if state != "" && s.shownStateLocked(r) != state {
			continue
		}
		if len(servers) > 0 && !slices.Contains(servers, r.Instance.ServerID) {
			continue
		}
		matched = append(matched, r)
	}
	start := 0
	if hasMarker {
		start, _ = slices.BinarySearchFunc(matched, after, func(r *record, seq uint64) int {
			if r.Seq <= seq {
				return -1
			}
			return 1
		})
	}
	items, pi := page(matched, start, limit, func(r *record) string { return r.Instance.ID })
	out := listAnswer{Instances: make([]Instance, len(items)), PageInfo: pi, Count: len(matched)}
	for i, r := range items {
		out.Instances[i] = s.shownLocked(r)
	}
	return http.StatusOK, out, nil
}

// findLocked returns the instance id of project, or nil.
func (s *Simulator) findLocked(project, id string) *record {
	if r := s.instances[id]; r != nil && r.Project == project {
		return r
	}
	return nil
}

func (s *Simulator) showInstanceStatus(r *http.Request, _ []byte) (int, any, *apiError) {
	id := r.PathValue("id")
	rec := s.findLocked(r.PathValue("project_id"), id)
	if rec == nil {
		return 0, nil, errInstanceNotFound(id)
	}
	shown := s.shownLocked(rec)
	return http.StatusOK, struct {
		State          string     `json:"state"`
		OperationState string     `json:"operation_state"`
		Error          *ErrorInfo `json:"error,omitempty"`
	}{shown.State, shown.OperationState, shown.Error}, nil
}

func (s *Simulator) deleteInstance(r *http.Request, _ []byte) (int, any, *apiError) {
	id := r.PathValue("id")
	rec := s.findLocked(r.PathValue("project_id"), id)
	if rec == nil {
		return 0, nil, errInstanceNotFound(id)
	}
	if apiErr := s.startDeleteLocked(rec); apiErr != nil {
		return 0, nil, apiErr
	}
	return http.StatusNoContent, nil, nil
}

// checkIDSet reads a batch operation's ID list: present, 1 to most IDs,
// and without repeats in the answer.
func checkIDSet(field string, p *[]string, most int) ([]string, *apiError) {
	if p == nil {
		return nil, errMissing(field)
	}
	if n := len(*p); n < 1 || n > most {
		return nil, errInvalid(fmt.Sprintf("%s must have 1 to %d IDs, got %d", field, most, n))
	}
	var ids []string
	for _, id := range *p {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// findAllLocked returns the records of ids, or 404 iMetal.0200 naming
// every ID that is not found. Terminated instances count as not found when
// goneTerminated is set, as they do for a deletion.
func (s *Simulator) findAllLocked(project string, ids []string, goneTerminated bool) ([]*record, *apiError) {
	recs := make([]*record, 0, len(ids))
	var unknown []string
	for _, id := range ids {
		r := s.findLocked(project, id)
		if r == nil || (goneTerminated && r.Instance.State == "terminated") {
			unknown = append(unknown, id)
			continue
		}
		recs = append(recs, r)
	}
	if len(unknown) > 0 {
		return nil, errInstanceNotFound(unknown...)
	}
	return recs, nil
}

// deleteInstances is DeleteInstances: all or nothing.
func (s *Simulator) deleteInstances(req *http.Request, body []byte) (int, any, *apiError) {
	var in struct {
		IDs *[]string `json:"instance_id_set"`
	}
	if e := decodeBody(body, &in); e != nil {
		return 0, nil, e
	}
	ids, apiErr := checkIDSet("instance_id_set", in.IDs, 50)
	if apiErr != nil {
		return 0, nil, apiErr
	}
	recs, apiErr := s.findAllLocked(req.PathValue("project_id"), ids, true)
	if apiErr != nil {
		return 0, nil, apiErr
	}
	for _, r := range recs {
		if !deletable(r.Instance.State) {
			return 0, nil, errInvalidState(r.Instance.ID, r.Instance.State, "DeleteInstances")
		}
	}
	for _, r := range recs {
		if apiErr := s.startDeleteLocked(r); apiErr != nil {
			return 0, nil, apiErr // cannot happen: checked above
		}
	}
	return http.StatusAccepted, idsAnswer(ids), nil
}

// deletable: the states a deletion may start from (shutting-down is
// accepted and changes nothing).
func deletable(state string) bool {
	switch state {
	case "pending", "running", "stopped", "error", "shutting-down":
		return true
	}
	return false
}

// startDeleteLocked begins the deletion of an instance. Deleting one that is
// already shutting down changes nothing; a terminated one is not found. A
// reinstall or IP change in progress is abandoned.
func (s *Simulator) startDeleteLocked(r *record) *apiError {
	switch st := r.Instance.State; {
	case st == "shutting-down":
		return nil
	case st == "terminated":
		return errInstanceNotFound(r.Instance.ID)
	case !deletable(st):
		return errInvalidState(r.Instance.ID, st, "DeleteInstance")
	}
	if r.Next != nil && r.Next.Kind == kindModifyIP {
		s.releaseAddrsLocked(r.Instance.ID, r.Next.NICs, r.Instance.NetworkInterfaces)
	}
	now := s.now()
	r.Instance.Error = nil
	s.setStateLocked(r, now, "shutting-down", "uninstall-processing")
	t := &transition{Kind: kindDelete, Fail: s.popFailLocked(kindDelete), Held: s.holdDeletes}
	if !t.Held {
		t.At = now.Add(s.opts.DeleteDuration)
	}
	s.scheduleLocked(r, t)
	return nil
}
