package simulator

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"time"
)

// Several projects and least-privilege credentials. A simulator starts with
// one project (Options.ProjectID, named Options.Region in IAM, reached with
// Options.Token); AddProject adds others, each with its own token, its own
// physical servers and its own name in IAM, as another project of the same
// account or another account's project would be. AddToken lets more tokens
// in, and a TokenScope narrows what a token's policy grants: a token for
// clouddc_instance alone may hold the instance permissions and nothing else
// (DESIGN.md, 8.8).

// TokenScope is what the policy of a token (or of an access key) grants.
// The zero value grants every CloudDC permission.
type TokenScope struct {
	// InstancesOnly grants the instance permissions only: every
	// physical-server endpoint answers 403 iMetal.0004 naming the
	// permission it lacks, every instance endpoint works.
	InstancesOnly bool `json:"instances_only,omitempty"`
}

// serverPermissions names the IAM action each physical-server operation
// needs, as Huawei's reference of CloudDC's actions names them.
var serverPermissions = map[string]string{
	OpListServers:      "clouddc:imetal:list",
	OpShowServer:       "clouddc:imetal:get",
	OpChangePowerState: "clouddc:imetal:updatePowerStatus",
}

// permits refuses an operation the scope does not grant.
func (sc TokenScope) permits(op string) *apiError {
	if perm, ok := serverPermissions[op]; ok && sc.InstancesOnly {
		return &apiError{status: http.StatusForbidden, code: "iMetal.0004",
			msg: "Insufficient permissions: the policy of these credentials does not allow " + perm +
				" (" + op + "); it grants the instance permissions only"}
	}
	return nil
}

// caller is who sent a request: the project its credentials belong to and
// what their policy grants.
type caller struct {
	project string
	scope   TokenScope
}

// projectIDPattern is what an IAM project ID looks like in practice
// (DESIGN.md, 8.1).
var projectIDPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

// AddProject adds a project with its own token, its own Options.Servers
// physical servers, and name as its name in IAM, so that
// GET /v3/projects?name= with its token finds it. A name may be that of
// another project (the default project is named Options.Region): two
// accounts both have a project named after the region. The project and its
// servers are kept in the state file; the token too, as every token is.
func (s *Simulator) AddProject(projectID, name, token string) error {
	switch {
	case !projectIDPattern.MatchString(projectID):
		return fmt.Errorf("simulator: project ID %q is not 32 lower-case hex characters", projectID)
	case name == "":
		return fmt.Errorf("simulator: project %s needs a name", projectID)
	case token == "":
		return fmt.Errorf("simulator: project %s needs a token", projectID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.projects[projectID]; ok {
		return fmt.Errorf("simulator: project %s exists already", projectID)
	}
	if p, ok := s.tokens[token]; ok {
		return fmt.Errorf("simulator: the token is already in use for project %s", p)
	}
	s.projects[projectID] = name
	s.tokens[token] = projectID
	s.addServersLocked(projectID, s.opts.Servers)
	s.dirtyLocked()
	return nil
}

// AddToken lets another token in, for a project the simulator knows (its
// own or one of AddProject's), with what its policy grants. A token that
// is already in use is given the new project and scope.
func (s *Simulator) AddToken(token, projectID string, scope TokenScope) error {
	if token == "" {
		return errors.New("simulator: a token must not be empty")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.projects[projectID]; !ok {
		return fmt.Errorf("simulator: project %q is unknown; add it with AddProject first", projectID)
	}
	s.tokens[token] = projectID
	if scope == (TokenScope{}) {
		delete(s.tokenScopes, token)
	} else {
		s.tokenScopes[token] = scope
	}
	s.dirtyLocked()
	return nil
}

// Projects returns the projects the simulator knows, ID to name in IAM.
func (s *Simulator) Projects() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.projects)
}

// addServersLocked adds n ready, powered-on servers to a project. Server
// IDs and names are numbered across the whole simulator, so that every
// project's servers differ.
func (s *Simulator) addServersLocked(project string, n int) {
	onboard := s.now().UTC().Truncate(time.Second)
	for range n {
		i := len(s.servers) + 1
		srv := &serverRec{Server: Server{ID: serverID(i), Name: fmt.Sprintf("imetal-server-%03d", i),
			ProjectID: project, PowerState: PowerOn, OnboardTime: onboard}}
		s.servers = append(s.servers, srv)
		s.serverIdx[srv.ID] = srv
	}
}

// serverLocked returns a server of project, or nil: another project's
// servers are not found, as in the service.
func (s *Simulator) serverLocked(project, id string) *serverRec {
	if srv := s.serverIdx[id]; srv != nil && srv.ProjectID == project {
		return srv
	}
	return nil
}
