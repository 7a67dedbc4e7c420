package simulator

import (
	"bytes"
	"container/heap"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// Persistence: with Options.StateFile the simulator keeps its state in a
// JSON file, so that it can be stopped between terraform apply and
// terraform destroy. The file is written at most every saveDelay after a
// change, and by Close; each write goes to a temporary file in the same
// folder, is synced, and is renamed over the old one, so that a crash
// leaves either the old or the new state and never half of one. A file
// that cannot be read back is an error: starting empty over it would make
// Terraform believe that every instance it manages had been deleted.

// stateFileVersion is the format of the state file; a simulator refuses a
// version it does not know.
const stateFileVersion = 1

// saveDelay is how long changes gather before the state file is written.
const saveDelay = 100 * time.Millisecond

type stateFile struct {
	Version     int                   `json:"version"`
	Generator   string                `json:"generator"`
	SavedAt     time.Time             `json:"saved_at"`
	NextSeq     uint64                `json:"next_seq"`
	Seqs        map[string]uint64     `json:"seqs"`
	Instances   []*record             `json:"instances"`
	Servers     []*serverRec          `json:"servers"`
	UsedIPs     map[string]string     `json:"used_ips"`
	Tokens      map[string]string     `json:"tokens"`
	TokenScopes map[string]TokenScope `json:"token_scopes,omitempty"`
	// Projects are the projects of AddProject, ID to name in IAM; the
	// simulator's own project comes from its options.
	Projects    map[string]string      `json:"projects,omitempty"`
	TokenExpiry map[string]time.Time   `json:"token_expiry,omitempty"`
	HoldDeletes bool                   `json:"hold_deletes,omitempty"`
	FailNext    map[string][]ErrorInfo `json:"fail_next,omitempty"`
	Purged      []*purgedRecord        `json:"purged,omitempty"`
}

// dirtyLocked notes a change to the persistent state and makes sure a
// write follows within saveDelay.
func (s *Simulator) dirtyLocked() {
	if s.opts.StateFile == "" || s.closed || s.saveTimer != nil {
		return
	}
	s.saveTimer = time.AfterFunc(saveDelay, func() { _ = s.saveIfOpen(false) })
}

// save writes the state file now.
func (s *Simulator) save() error { return s.saveIfOpen(true) }

// saveIfOpen writes the state file; unless force is set it does nothing
// once the simulator is closed, so that a late timer cannot overwrite the
// file that a new simulator has taken over.
func (s *Simulator) saveIfOpen(force bool) error {
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	s.mu.Lock()
	if s.closed && !force {
		s.mu.Unlock()
		return nil
	}
	s.saveTimer = nil
	data, err := json.MarshalIndent(s.stateLocked(), "", " ")
	s.mu.Unlock()
	if err == nil {
		err = writeAtomic(s.opts.StateFile, data)
	}
	if err != nil {
		err = fmt.Errorf("simulator: writing the state file %s: %w", s.opts.StateFile, err)
		s.logger.Error("saving the state failed", "error", err)
	}
	s.mu.Lock()
	s.saveErr = err
	s.mu.Unlock()
	return err
}

func (s *Simulator) stateLocked() *stateFile {
	f := &stateFile{
		Version: stateFileVersion, Generator: "clouddc-simulator", SavedAt: s.now().UTC(),
		NextSeq: s.nextSeq, Seqs: s.seqs, Instances: s.order, Servers: s.servers,
		UsedIPs: make(map[string]string, len(s.usedIPs)), Tokens: s.tokens, TokenScopes: s.tokenScopes,
		TokenExpiry: s.tokenExpiry, HoldDeletes: s.holdDeletes, FailNext: s.failNext,
	}
	for id, name := range s.projects {
		if id != s.opts.ProjectID {
			if f.Projects == nil {
				f.Projects = map[string]string{}
			}
			f.Projects[id] = name
		}
	}
	for a, id := range s.usedIPs {
		f.UsedIPs[a.String()] = id
	}
	for _, id := range s.purgedOrder {
		f.Purged = append(f.Purged, s.purged[id])
	}
	return f
}

// writeAtomic replaces path with data: a temporary file in the same
// folder, synced, then renamed over path, then the folder synced.
func writeAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if d, derr := os.Open(dir); derr == nil { //nolint:gosec // G304: the folder of the operator's own -state-file
		_ = d.Sync() // best effort: not every file system can sync a folder
		_ = d.Close()
	}
	return nil
}

// load reads the state file into a new simulator. It reports false when
// there is no file yet.
func (s *Simulator) load(path string) (bool, error) {
	data, err := os.ReadFile(path) //nolint:gosec // G304: the operator's own -state-file; reading it is the point
	if errors.Is(err, fs.ErrNotExist) {
		return false, checkStateDir(path)
	}
	if err != nil {
		return false, fmt.Errorf("simulator: reading the state file %s: %w", path, err)
	}
	damaged := func(format string, args ...any) error {
		return fmt.Errorf("simulator: the state file %s is damaged: %s. The simulator does not start afresh over it, "+
			"which would lose the instances it holds: repair the file, or move it away to start with an empty state",
			path, fmt.Sprintf(format, args...))
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return false, damaged("it is empty")
	}
	var f stateFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return false, damaged("it is not valid JSON of this simulator (%v)", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return false, damaged("there is more data after the state")
	}
	if f.Version != stateFileVersion {
		return false, damaged("its format version is %d; this simulator reads version %d", f.Version, stateFileVersion)
	}
	// The lock: adopt arms timers, whose ticks may run at once.
	s.mu.Lock()
	problem := s.adopt(&f)
	s.mu.Unlock()
	if problem != "" {
		return false, damaged("%s", problem)
	}
	s.logger.Info("state loaded", "file", path, "instances", len(s.instances), "servers", len(s.servers))
	return true, nil
}

// adopt checks a decoded state file and, when it is sound, makes it the
// simulator's state and resumes the transitions it holds. It returns the
// first problem it finds, and then leaves the simulator as it was.
func (s *Simulator) adopt(f *stateFile) string {
	checked, problem := checkStateFile(f)
	if problem != "" {
		return problem
	}
	s.takeLocked(f, checked)
	s.resumeLocked()
	return ""
}

// checkedState holds the indexes that checking a state file builds and
// adopting it uses.
type checkedState struct {
	instances map[string]*record
	usedIPs   map[netip.Addr]string
}

// checkStateFile checks every part of a state file and how the parts refer
// to each other: servers, instances, which server hosts which instance, the
// addresses in use, the tokens and the purged instances. A nil Seqs becomes
// an empty map.
func checkStateFile(f *stateFile) (checkedState, string) {
	servers, problem := checkServers(f.Servers)
	if problem != "" {
		return checkedState{}, problem
	}
	if f.Seqs == nil {
		f.Seqs = map[string]uint64{}
	}
	instances, problem := checkInstances(f, servers)
	if problem != "" {
		return checkedState{}, problem
	}
	if problem := checkHosting(f.Servers, instances); problem != "" {
		return checkedState{}, problem
	}
	usedIPs, problem := checkUsedIPs(f.UsedIPs, instances)
	if problem != "" {
		return checkedState{}, problem
	}
	for tok := range f.Tokens {
		if tok == "" {
			return checkedState{}, "tokens has an empty token"
		}
	}
	for id, name := range f.Projects {
		if !projectIDPattern.MatchString(id) || name == "" {
			return checkedState{}, fmt.Sprintf("projects has %q named %q; a project needs a 32-character hex ID and a name", id, name)
		}
	}
	for i, p := range f.Purged {
		if p == nil || !isUUID(p.Timeline.ID) {
			return checkedState{}, fmt.Sprintf("purged[%d] is not a purged instance", i)
		}
	}
	return checkedState{instances: instances, usedIPs: usedIPs}, ""
}

// checkServers checks each server on its own and indexes them by ID.
func checkServers(list []*serverRec) (map[string]*serverRec, string) {
	servers := map[string]*serverRec{}
	for i, srv := range list {
		switch {
		case srv == nil:
			return nil, fmt.Sprintf("servers[%d] is null", i)
		case !isUUID(srv.ID):
			return nil, fmt.Sprintf("servers[%d] has the ID %q, which is not a lower-case UUID", i, srv.ID)
		case servers[srv.ID] != nil:
			return nil, fmt.Sprintf("server %s appears twice", srv.ID)
		case !slices.Contains([]string{PowerOn, PowerOff, PowerPoweringOn, PowerPoweringOff, PowerRebooting}, srv.PowerState):
			return nil, fmt.Sprintf("server %s has the power state %q", srv.ID, srv.PowerState)
		case srv.Next != nil && !slices.Contains([]string{ActionPowerOn, ActionPowerOff, ActionReboot}, srv.Next.Action):
			return nil, fmt.Sprintf("server %s has a pending power action %q", srv.ID, srv.Next.Action)
		}
		servers[srv.ID] = srv
	}
	return servers, ""
}

// checkInstances checks each instance, its sequence number against the
// file's counters, and that a live instance sits on a server that says it
// hosts it; it indexes the instances by ID.
func checkInstances(f *stateFile, servers map[string]*serverRec) (map[string]*record, string) {
	instances := map[string]*record{}
	for i, r := range f.Instances {
		if r == nil {
			return nil, fmt.Sprintf("instances[%d] is null", i)
		}
		id := r.Instance.ID
		switch {
		case !isUUID(id):
			return nil, fmt.Sprintf("instances[%d] has the ID %q, which is not a lower-case UUID", i, id)
		case instances[id] != nil:
			return nil, fmt.Sprintf("instance %s appears twice", id)
		case r.Project == "":
			return nil, fmt.Sprintf("instance %s has no project", id)
		case r.Instance.State == "":
			return nil, fmt.Sprintf("instance %s has no state", id)
		case r.Seq >= f.NextSeq:
			return nil, fmt.Sprintf("instance %s has the sequence number %d, not below next_seq %d", id, r.Seq, f.NextSeq)
		case f.Seqs[id] != r.Seq:
			return nil, fmt.Sprintf("instance %s has the sequence number %d, but seqs gives %d", id, r.Seq, f.Seqs[id])
		}
		if problem := checkTransition(id, r.Next); problem != "" {
			return nil, problem
		}
		if r.Instance.State != "terminated" {
			srv := servers[r.Instance.ServerID]
			if srv == nil || srv.InstanceID != id {
				return nil, fmt.Sprintf("instance %s is %s on server %q, but that server does not host it", id, r.Instance.State, r.Instance.ServerID)
			}
		}
		instances[id] = r
	}
	return instances, ""
}

// checkTransition checks an instance's pending transition, if any: a kind
// the simulator knows, and a due time unless it is held.
func checkTransition(id string, t *transition) string {
	switch {
	case t == nil:
		return ""
	case !slices.Contains([]string{kindCreate, kindDelete, kindPurge, kindReinstall, kindModifyIP}, t.Kind):
		return fmt.Sprintf("instance %s has a pending transition of the unknown kind %q", id, t.Kind)
	case !t.Held && t.At.IsZero():
		return fmt.Sprintf("instance %s has a pending %s without a due time", id, t.Kind)
	}
	return ""
}

// checkHosting checks the other direction of hosting: a server that names
// an instance holds a live instance that names the server.
func checkHosting(servers []*serverRec, instances map[string]*record) string {
	for _, srv := range servers {
		if srv.InstanceID == "" {
			continue
		}
		if r := instances[srv.InstanceID]; r == nil || r.Instance.ServerID != srv.ID || r.Instance.State == "terminated" {
			return fmt.Sprintf("server %s hosts instance %s, which is not on it", srv.ID, srv.InstanceID)
		}
	}
	return ""
}

// checkUsedIPs checks that each address in use is an IPv4 address held by
// an instance of the file, and indexes them by address.
func checkUsedIPs(used map[string]string, instances map[string]*record) (map[netip.Addr]string, string) {
	usedIPs := map[netip.Addr]string{}
	for a, id := range used {
		addr, err := netip.ParseAddr(a)
		if err != nil || !addr.Is4() {
			return nil, fmt.Sprintf("used_ips has %q, which is not an IPv4 address", a)
		}
		if instances[id] == nil {
			return nil, fmt.Sprintf("address %s is held by instance %q, which does not exist", a, id)
		}
		usedIPs[addr] = id
	}
	return usedIPs, ""
}

// takeLocked makes a checked state file the simulator's state. The tokens
// of the file are added to the simulator's, except its own token, which
// keeps what the options gave it.
func (s *Simulator) takeLocked(f *stateFile, checked checkedState) {
	s.servers = f.Servers
	for _, srv := range f.Servers {
		if srv.ProjectID == "" {
			// Written before projects had servers of their own.
			srv.ProjectID = s.opts.ProjectID
		}
		s.serverIdx[srv.ID] = srv
	}
	for id, name := range f.Projects {
		if id != s.opts.ProjectID {
			s.projects[id] = name
		}
	}
	for tok, scope := range f.TokenScopes {
		if tok != s.opts.Token {
			s.tokenScopes[tok] = scope
		}
	}
	s.instances = checked.instances
	s.order = slices.Clone(f.Instances)
	slices.SortFunc(s.order, func(a, b *record) int { return cmpSeq(a.Seq, b.Seq) })
	s.seqs = f.Seqs
	s.nextSeq = f.NextSeq
	s.usedIPs = checked.usedIPs
	for tok, project := range f.Tokens {
		if tok != s.opts.Token {
			s.tokens[tok] = project
		}
	}
	for tok, at := range f.TokenExpiry {
		s.tokenExpiry[tok] = at
	}
	s.holdDeletes = f.HoldDeletes
	for kind, q := range f.FailNext {
		s.failNext[kind] = q
	}
	for _, p := range f.Purged {
		s.purged[p.Timeline.ID] = p
		s.purgedOrder = append(s.purgedOrder, p.Timeline.ID)
	}
}

// resumeLocked resumes the transitions of an adopted state: those that fell
// due while the simulator was stopped are applied now, in order, at their
// due times; the others get timers again.
func (s *Simulator) resumeLocked() {
	for _, r := range s.order {
		if r.Next != nil && !r.Next.Held {
			heap.Push(&s.due, dueEntry{at: r.Next.At, id: r.Instance.ID, gen: r.Gen})
		}
	}
	for _, srv := range s.servers {
		if srv.Next != nil {
			heap.Push(&s.due, dueEntry{at: srv.Next.At, id: srv.ID, gen: srv.Gen, server: true})
		}
	}
	s.advanceLocked()
	for _, r := range s.order {
		if r.Next != nil && !r.Next.Held && r.timer == nil {
			r.timer = s.timerLocked(r.Next.At)
		}
	}
	for _, srv := range s.servers {
		if srv.Next != nil && srv.timer == nil {
			srv.timer = s.timerLocked(srv.Next.At)
		}
	}
}
