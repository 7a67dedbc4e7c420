package simulator

import (
	"fmt"
	"net/http"
	"slices"
	"time"
)

// The physical servers: ListPhysicalServers, ShowPhysicalServer and
// ChangePhysicalServerPowerState. Each project has its own servers
// (projects.go); another project's server is not found.

// serverWire is a physical server as the API answers it.
type serverWire struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	ProjectID   string `json:"project_id"`
	ManageState string `json:"manage_state"`
	PowerState  string `json:"power_state"`
	OnboardTime string `json:"onboard_time"`
	Tags        []Tag  `json:"tags"`
}

func (srv *serverRec) wire(now time.Time) serverWire {
	manage := "ready"
	if !srv.Ready() {
		manage = "in-use"
	}
	power := srv.PowerState
	if now.Before(srv.shownUntil) {
		power = srv.shownPower // the change has not shown yet
	}
	return serverWire{ID: srv.ID, Name: srv.Name, ProjectID: srv.ProjectID, ManageState: manage,
		PowerState: power, OnboardTime: formatTime(srv.OnboardTime), Tags: []Tag{}}
}

func (s *Simulator) listServers(r *http.Request, _ []byte) (int, any, *apiError) {
	q := r.URL.Query()
	limit, apiErr := s.pageLimit(q.Get("limit"))
	if apiErr != nil {
		return 0, nil, apiErr
	}
	manage := q.Get("manage_state")
	if manage != "" && manage != "ready" && manage != "in-use" {
		return 0, nil, errInvalid(fmt.Sprintf("manage_state %q is not one of ready, in-use", manage))
	}
	project := r.PathValue("project_id")
	pos := -1 // the marker's place in the pool
	if m := q.Get("marker"); m != "" {
		if pos = slices.IndexFunc(s.servers, func(srv *serverRec) bool { return srv.ID == m && srv.ProjectID == project }); pos < 0 {
			return 0, nil, errInvalid(fmt.Sprintf("marker %q is not a valid marker", m))
		}
	}
	// The page starts after the marker's place in the pool, whether or
	// not the marker itself matches the filter.
	matched := make([]*serverRec, 0, len(s.servers))
	start := 0
	for i, srv := range s.servers {
		if srv.ProjectID != project {
			continue
		}
		if manage == "" || (manage == "ready") == srv.Ready() {
			matched = append(matched, srv)
			if i <= pos {
				start = len(matched)
			}
		}
	}
	items, pi := page(matched, start, limit, func(srv *serverRec) string { return srv.ID })
	out := struct {
		Servers  []serverWire `json:"servers"`
		PageInfo pageInfo     `json:"page_info"`
		Count    int          `json:"count"`
	}{Servers: make([]serverWire, len(items)), PageInfo: pi, Count: len(matched)}
	for i, srv := range items {
		out.Servers[i] = srv.wire(s.now())
	}
	return http.StatusOK, out, nil
}

func (s *Simulator) showServer(r *http.Request, _ []byte) (int, any, *apiError) {
	id := r.PathValue("id")
	srv := s.serverLocked(r.PathValue("project_id"), id)
	if srv == nil {
		return 0, nil, errServerNotFound(id)
	}
	return http.StatusOK, srv.wire(s.now()), nil
}

// changePowerState is ChangePhysicalServerPowerState. Powering a server
// off stops its running instance at the end; powering it on runs its
// stopped instance; rebooting keeps it running. Repeating the action a
// server is in, or has reached, is accepted and changes nothing.
func (s *Simulator) changePowerState(req *http.Request, body []byte) (int, any, *apiError) {
	var in struct {
		Action *string   `json:"action"`
		IDs    *[]string `json:"server_id_set"`
	}
	if e := decodeBody(body, &in); e != nil {
		return 0, nil, e
	}
	if missing(in.Action) {
		return 0, nil, errMissing("action")
	}
	action := *in.Action
	switch action {
	case ActionPowerOn, ActionPowerOff, ActionReboot:
	default:
		return 0, nil, errInvalid(fmt.Sprintf("action %q is not one of %q, %q, %q", action, ActionPowerOn, ActionPowerOff, ActionReboot))
	}
	ids, apiErr := checkIDSet("server_id_set", in.IDs, 50)
	if apiErr != nil {
		return 0, nil, apiErr
	}
	srvs := make([]*serverRec, 0, len(ids))
	var unknown []string
	for _, id := range ids {
		if srv := s.serverLocked(req.PathValue("project_id"), id); srv != nil {
			srvs = append(srvs, srv)
		} else {
			unknown = append(unknown, id)
		}
	}
	if len(unknown) > 0 {
		return 0, nil, errServerNotFound(unknown...)
	}
	var todo []*serverRec
	for _, srv := range srvs {
		if srv.Next != nil {
			if srv.Next.Action == action {
				continue // already doing it
			}
			return 0, nil, &apiError{status: http.StatusBadRequest, code: "iMetal.0201",
				msg: fmt.Sprintf("Physical server %s is %s; wait until it ends before %q", srv.ID, srv.PowerState, action)}
		}
		r := s.instances[srv.InstanceID]
		if r != nil {
			switch {
			case r.Instance.State == "pending" || r.Instance.State == "shutting-down" || r.busyKind() != "":
				return 0, nil, errInvalidState(r.Instance.ID, s.describeLocked(r), fmt.Sprintf("%q on its physical server %s", action, srv.ID))
			}
		}
		switch action {
		case ActionPowerOff:
			if srv.PowerState == PowerOff && (r == nil || r.Instance.State != "running") {
				continue
			}
		case ActionPowerOn:
			if srv.PowerState == PowerOn && (r == nil || r.Instance.State != "stopped") {
				continue
			}
		case ActionReboot:
			if srv.PowerState == PowerOff {
				return 0, nil, &apiError{status: http.StatusBadRequest, code: "iMetal.0201",
					msg: fmt.Sprintf("Physical server %s is off and cannot be rebooted; power it on", srv.ID)}
			}
		}
		todo = append(todo, srv)
	}
	now := s.now()
	for _, srv := range todo {
		if s.opts.PowerStateLag > 0 {
			srv.shownPower, srv.shownUntil = srv.PowerState, now.Add(s.opts.PowerStateLag)
		}
		switch action {
		case ActionPowerOff:
			srv.PowerState = PowerPoweringOff
		case ActionPowerOn:
			srv.PowerState = PowerPoweringOn
		default:
			srv.PowerState = PowerRebooting
		}
		s.logger.Info("server power changing", "server_id", srv.ID, "power_state", srv.PowerState)
		s.scheduleServerLocked(srv, &powerTransition{At: now.Add(s.opts.PowerDuration), Action: action})
	}
	out := struct {
		Servers []idItem `json:"physical_servers"`
	}{Servers: make([]idItem, len(ids))}
	for i, id := range ids {
		out.Servers[i].ID = id
	}
	return http.StatusAccepted, out, nil
}
