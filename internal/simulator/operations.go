package simulator

import (
	"fmt"
	"net/http"
	"slices"
)

// The in-place operations on instances: ReinstallOs, ChangeInstancePassword
// and ModifyInstanceIp. Each is all or nothing: every check passes for every
// instance before anything changes.
//
// Their state rules use the phase state (see phaseStateLocked): an instance
// whose reinstall, IP change or power-off is in progress counts as
// reinstalling, modifyIping or stopping, as the 2025 service called it, and
// none of these operations may start from those.

// reinstallOS is ReinstallOs.
func (s *Simulator) reinstallOS(req *http.Request, body []byte) (int, any, *apiError) {
	var in struct {
		ImageID  *string   `json:"image_id"`
		Password *string   `json:"password"`
		IDs      *[]string `json:"instance_id_set"`
	}
	if e := decodeBody(body, &in); e != nil {
		return 0, nil, e
	}
	if missing(in.Password) {
		return 0, nil, errMissing("password")
	}
	ids, apiErr := checkIDSet("instance_id_set", in.IDs, 10)
	if apiErr != nil {
		return 0, nil, apiErr
	}
	var newImage *ImageSpec
	if !missing(in.ImageID) {
		if !isUUID(*in.ImageID) {
			return 0, nil, errInvalid("image_id must be a lower-case UUID")
		}
		im, ok := s.images[*in.ImageID]
		if !ok {
			return 0, nil, errInvalid(fmt.Sprintf("image_id: image %s does not exist", *in.ImageID))
		}
		newImage = &im
	}
	recs, apiErr := s.findAllLocked(req.PathValue("project_id"), ids, false)
	if apiErr != nil {
		return 0, nil, apiErr
	}
	images := make([]ImageSpec, len(recs))
	for i, r := range recs {
		retry := r.Instance.State == "error" && r.Instance.Error != nil && r.Instance.Error.Type == ErrorTypeReinstall
		if !retry && !s.idleIn(r, "running", "stopped") {
			return 0, nil, errInvalidState(r.Instance.ID, s.describeLocked(r), "ReinstallOs")
		}
		if newImage != nil {
			images[i] = *newImage
		} else {
			cur := r.Instance.Image
			images[i] = ImageSpec(cur)
		}
		if msg := checkPassword(*in.Password, imageUser(images[i])); msg != "" {
			return 0, nil, errInvalid(msg + fmt.Sprintf(" (instance %s, image %s)", r.Instance.ID, images[i].ID))
		}
	}
	now := s.now()
	for i, r := range recs {
		state := r.Instance.State
		if state == "error" {
			state = "running"
		}
		before := s.showingLocked(r)
		r.Instance.Error = nil
		s.setStateLocked(r, now, state, "reinstall-processing")
		lag := s.startLaggedLocked(r, now, before)
		s.scheduleLocked(r, &transition{At: now.Add(lag + s.opts.ReinstallDuration), Kind: kindReinstall,
			Fail: s.popFailLocked(kindReinstall), ImageID: images[i].ID, Password: *in.Password})
	}
	return http.StatusAccepted, idsAnswer(ids), nil
}

// changePassword is ChangeInstancePassword: synchronous.
func (s *Simulator) changePassword(req *http.Request, body []byte) (int, any, *apiError) {
	var in struct {
		Password *string   `json:"new_password"`
		IDs      *[]string `json:"instance_id_set"`
	}
	if e := decodeBody(body, &in); e != nil {
		return 0, nil, e
	}
	if missing(in.Password) {
		return 0, nil, errMissing("new_password")
	}
	ids, apiErr := checkIDSet("instance_id_set", in.IDs, 50)
	if apiErr != nil {
		return 0, nil, apiErr
	}
	recs, apiErr := s.findAllLocked(req.PathValue("project_id"), ids, false)
	if apiErr != nil {
		return 0, nil, apiErr
	}
	for _, r := range recs {
		if !s.idleIn(r, "running", "stopped") {
			return 0, nil, errInvalidState(r.Instance.ID, s.describeLocked(r), "ChangeInstancePassword")
		}
		im := ImageSpec{OSType: r.Instance.Image.OSType}
		if msg := checkPassword(*in.Password, imageUser(im)); msg != "" {
			return 0, nil, errInvalid("new_password: " + msg + fmt.Sprintf(" (instance %s)", r.Instance.ID))
		}
	}
	for _, r := range recs {
		r.Password = *in.Password
	}
	return http.StatusOK, idsAnswer(ids), nil
}

// modifyIP is ModifyInstanceIp. The new addresses are reserved at once, so
// that nobody else takes them while the change runs; the old ones are
// released when it ends.
func (s *Simulator) modifyIP(req *http.Request, body []byte) (int, any, *apiError) {
	id := req.PathValue("id")
	r := s.findLocked(req.PathValue("project_id"), id)
	if r == nil {
		return 0, nil, errInstanceNotFound(id)
	}
	var in struct {
		VPCID *string `json:"vpc_id"`
		NICs  *[]struct {
			SubnetID  *string `json:"subnet_id"`
			IPAddress *string `json:"ip_address"`
		} `json:"nics"`
	}
	if e := decodeBody(body, &in); e != nil {
		return 0, nil, e
	}
	switch {
	case missing(in.VPCID):
		return 0, nil, errMissing("vpc_id")
	case in.NICs == nil:
		return 0, nil, errMissing("nics")
	}
	if !isUUID(*in.VPCID) {
		return 0, nil, errInvalid("vpc_id must be a lower-case UUID")
	}
	asked := make([]nicBody, len(*in.NICs))
	for i, n := range *in.NICs {
		asked[i] = nicBody{SubnetID: n.SubnetID, IPv4Address: n.IPAddress}
	}
	nics, apiErr := s.checkNICs(*in.VPCID, asked, "nics", "ip_address")
	if apiErr != nil {
		return 0, nil, apiErr
	}
	if !s.idleIn(r, "running", "stopped") {
		return 0, nil, errInvalidState(r.Instance.ID, s.describeLocked(r), "ModifyInstanceIp")
	}
	addrs, apiErr := s.assignAddrsLocked(id, nics, "nics", "ip_address")
	if apiErr != nil {
		return 0, nil, apiErr
	}
	now := s.now()
	before := s.showingLocked(r)
	s.setStateLocked(r, now, r.Instance.State, "modify-ip-processing")
	lag := s.startLaggedLocked(r, now, before)
	s.scheduleLocked(r, &transition{At: now.Add(lag + s.opts.ModifyIPDuration), Kind: kindModifyIP,
		Fail: s.popFailLocked(kindModifyIP), VPCID: *in.VPCID, NICs: slices.Clone(addrs)})
	return http.StatusAccepted, nil, nil
}
