package simulator

import (
	"net/http"
)

// IAM's project list, the one call of IAM that the provider makes: with no
// project ID configured, it looks the project up by its region's name
// (GET /v3/projects?name=cn-east-3), as the huaweicloud provider does. The
// simulator's project is named Options.Region, the projects of AddProject
// by their own names; the credentials see their own project only. Point
// the provider's IAM endpoint at the simulator's URL to use it.

// OpListProjects is IAM's KeystoneListProjects, as counted by RequestCount
// and as named by Fault.Op. It is not in Operations(): it is IAM's, not
// CloudDC's.
const OpListProjects = "KeystoneListProjects"

// DefaultRegion names the simulator's project in IAM when Options.Region is
// empty.
const DefaultRegion = "cn-east-3"

// Region returns the name of the simulator's project in IAM.
func (s *Simulator) Region() string { return s.opts.Region }

// iamProject is one project of IAM's answer.
type iamProject struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	DomainID string `json:"domain_id"`
	ParentID string `json:"parent_id"`
	Enabled  bool   `json:"enabled"`
	IsDomain bool   `json:"is_domain"`
}

type iamProjectList struct {
	Projects []iamProject   `json:"projects"`
	Links    map[string]any `json:"links"`
}

// iamDomainID is the account (domain) the simulator's project belongs to.
const iamDomainID = "d0000000000000000000000000000001"

// listProjects answers GET /v3/projects: the projects the caller's
// credentials belong to, filtered by name as IAM does. Faults and rate
// limits apply as to any CloudDC operation.
func (s *Simulator) listProjects(w http.ResponseWriter, r *http.Request) {
	adm := s.admit(OpListProjects, r)
	if adm.delay > 0 && !sleepCtx(r.Context(), adm.delay) {
		return
	}
	if adm.reject != nil {
		adm.reject.write(w)
		return
	}
	if f := adm.fault; f != nil {
		if f.Drop {
			panic(http.ErrAbortHandler)
		}
		faultAnswer(*f).write(w)
		return
	}
	s.mu.Lock()
	who, authErr := s.authenticateLocked(r, nil)
	projectName := s.projects[who.project]
	s.mu.Unlock()
	if authErr != nil {
		// IAM words its errors as Keystone does, not as CloudDC does.
		writeJSON(w, authErr.status, map[string]any{"error": map[string]any{
			"code": authErr.status, "title": http.StatusText(authErr.status), "message": authErr.msg}})
		return
	}
	out := iamProjectList{Projects: []iamProject{}, Links: map[string]any{"self": r.URL.String(), "next": nil, "previous": nil}}
	name := r.URL.Query().Get("name")
	if projectName != "" && (name == "" || name == projectName) {
		out.Projects = append(out.Projects, iamProject{ID: who.project, Name: projectName,
			DomainID: iamDomainID, ParentID: iamDomainID, Enabled: true})
	}
	writeJSON(w, http.StatusOK, out)
}
