package hetznertest

import (
	"cmp"
	"maps"
	"slices"
	"time"
)

// Instance is one server of the emulated project as the emulator holds it:
// the ground truth, whatever the listing lag and whatever answers were lost.
// (Named Instance rather than Server because Server is the emulator itself,
// and Instance is what every emulator of this module calls its ground
// truth.)
type Instance struct {
	ID       int64
	Name     string
	Type     string // server type name
	Location string // location name
	Image    string // image name, or id in decimal when created from an id
	// Status is "initializing" while its create action runs, then
	// "running" (or "off" when created with start_after_create false), and
	// "deleting" while its delete action runs; then the server is gone.
	Status    string
	Labels    map[string]string
	Created   time.Time
	SSHKeys   []int64
	Networks  []int64
	Firewalls []int64
	UserData  string
}

// Live reports whether the server counts as existing: it is not being
// deleted.
func (v Instance) Live() bool { return v.Status != StatusDeleting }

// The server statuses the emulator uses, as the Hetzner API spells them.
const (
	StatusInitializing = "initializing"
	StatusRunning      = "running"
	StatusOff          = "off"
	StatusDeleting     = "deleting"
)

// The action commands the emulator runs, for ActionFailure.Command.
const (
	CommandCreateServer = "create_server"
	CommandStartServer  = "start_server"
	CommandDeleteServer = "delete_server"

	commandCreate = CommandCreateServer
	commandStart  = CommandStartServer
	commandDelete = CommandDeleteServer
)

// The action statuses.
const (
	actionRunning = "running"
	actionSuccess = "success"
	actionError   = "error"
)

// server is an Instance with what only the emulator needs.
type server struct {
	Instance
	visibleAt time.Time // listings show it from then on
	deleting  *action   // the delete action, while it runs
	before    string    // the status before deleting, restored if the delete fails
}

// action is one asynchronous operation on a server.
type action struct {
	id       int64
	command  string
	status   string
	started  time.Time
	finished time.Time
	doneAt   time.Time
	serverID int64
	failure  *ActionFailure // set when the action is to end in status "error"
	arg      string         // the new server type of a change_server_type
}

// project is the emulated Hetzner project: its servers, actions and SSH
// keys. It is not safe for concurrent use; Server guards it.
type project struct {
	ids             *ids
	sshKeys         []string  // the names of its SSH keys; key i has id i+1
	servers         []*server // by ascending id
	byName          map[string]*server
	actions         map[int64]*action
	running         []*action       // by ascending id
	failing         []ActionFailure // actions to end in "error", first first
	placementGroups []placementGroup
	version         uint64 // bumped by every change a listing can see
	listing         listing
}

// ids hands out server, action and image ids. As on Hetzner, they are
// unique across projects: a server id names one server of one project.
type ids struct {
	server, action, placementGroup int64
	images                         map[string]int64
}

// imageID returns the stable id of an image name.
func (n *ids) imageID(name string) int64 {
	id, ok := n.images[name]
	if !ok {
		id = int64(len(n.images) + 1)
		n.images[name] = id
	}
	return id
}

// listing is the last listing's matches, kept so that the next pages of the
// same listing need not filter and sort every server again.
type listing struct {
	key     string
	version uint64
	until   time.Time // when a server it left out for the lag turns visible
	matched []*server
}

// cached returns the matches of the listing key at now, if still valid.
func (p *project) cached(key string, now time.Time) ([]*server, bool) {
	l := p.listing
	if l.key != key || l.version != p.version || !now.Before(l.until) {
		return nil, false
	}
	return l.matched, true
}

// cache keeps the matches of the listing key, valid until the project
// changes or until.
func (p *project) cache(key string, until time.Time, matched []*server) {
	p.listing = listing{key: key, version: p.version, until: until, matched: matched}
}

func newProject(ids *ids, sshKeys []string) *project {
	return &project{ids: ids, sshKeys: sshKeys, byName: make(map[string]*server), actions: make(map[int64]*action)}
}

// settle finishes every action whose time has come, and applies its effect.
func (p *project) settle(now time.Time) {
	kept := p.running[:0]
	for _, a := range p.running {
		if a.doneAt.After(now) {
			kept = append(kept, a)
			continue
		}
		a.finished = apiTime(now)
		if a.failure != nil {
			a.status = actionError
			p.applyFailure(a)
			continue
		}
		a.status = actionSuccess
		p.apply(a)
	}
	clear(p.running[len(kept):])
	p.running = kept
}

// apply carries out a finished action's effect on its server.
func (p *project) apply(a *action) {
	s := p.server(a.serverID)
	if s == nil {
		return
	}
	p.version++
	switch a.command {
	case commandCreate:
		if s.Status == StatusInitializing {
			s.Status = StatusOff
		}
	case commandStart:
		if s.Status != StatusDeleting {
			s.Status = StatusRunning
		}
	case commandDelete:
		p.remove(s)
	case CommandShutdownServer, CommandPoweroffServer:
		if s.Status != StatusDeleting {
			s.Status = StatusOff
		}
	case CommandChangeServerType:
		s.Type = a.arg
	}
}

// applyFailure carries out the effect of a failed action: a server whose
// create or start failed stays, "off"; a server whose delete failed stays,
// as it was before.
func (p *project) applyFailure(a *action) {
	s := p.server(a.serverID)
	if s == nil {
		return
	}
	p.version++
	switch a.command {
	case commandCreate, commandStart:
		if s.Status != StatusDeleting {
			s.Status = StatusOff
		}
	case commandDelete:
		s.Status, s.deleting = s.before, nil
	}
}

// busy reports whether an action other than a delete runs on server id: the
// server is locked.
func (p *project) busy(id int64) bool {
	for _, a := range p.running {
		if a.serverID == id && a.command != commandDelete {
			return true
		}
	}
	return false
}

// nextFailure takes the failure queued for the next action of command, if
// any.
func (p *project) nextFailure(command string) *ActionFailure {
	for i, f := range p.failing {
		if f.Command == command {
			if f.Times--; f.Times <= 0 {
				p.failing = append(p.failing[:i:i], p.failing[i+1:]...)
			} else {
				p.failing[i] = f
			}
			return &f
		}
	}
	return nil
}

// startAction starts an action on server id, due d after now; it ends in
// "error" when a failure is queued for its command.
func (p *project) startAction(now time.Time, d time.Duration, command string, serverID int64) *action {
	p.ids.action++
	a := &action{id: p.ids.action, command: command, status: actionRunning, started: apiTime(now), doneAt: now.Add(d), serverID: serverID, failure: p.nextFailure(command)}
	p.actions[a.id] = a
	p.running = append(p.running, a)
	return a
}

// add stores a new server and returns it.
func (p *project) add(vm Instance, visibleAt time.Time) *server {
	p.ids.server++
	vm.ID = p.ids.server
	s := &server{Instance: vm, visibleAt: visibleAt}
	p.servers = append(p.servers, s)
	p.version++
	p.byName[vm.Name] = s
	return s
}

// index returns where the server with this id is in p.servers.
func (p *project) index(id int64) (int, bool) {
	return slices.BinarySearchFunc(p.servers, id, func(s *server, id int64) int { return cmp.Compare(s.ID, id) })
}

// server returns the server with this id, or nil.
func (p *project) server(id int64) *server {
	if i, ok := p.index(id); ok {
		return p.servers[i]
	}
	return nil
}

// remove deletes s from the project.
func (p *project) remove(s *server) {
	if i, ok := p.index(s.ID); ok {
		p.servers = slices.Delete(p.servers, i, i+1)
		p.version++
	}
	if p.byName[s.Name] == s {
		delete(p.byName, s.Name)
	}
}

// markDeleting starts deleting s, due d after now.
func (p *project) markDeleting(s *server, now time.Time, d time.Duration) {
	s.before, s.Status = s.Status, StatusDeleting
	s.deleting = p.startAction(now, d, commandDelete, s.ID)
	p.version++
}

// snapshot returns a copy of an Instance that shares nothing with the project.
func snapshot(vm Instance) Instance {
	vm.Labels = maps.Clone(vm.Labels)
	if vm.Labels == nil {
		vm.Labels = map[string]string{}
	}
	vm.SSHKeys = slices.Clone(vm.SSHKeys)
	vm.Networks = slices.Clone(vm.Networks)
	vm.Firewalls = slices.Clone(vm.Firewalls)
	return vm
}
