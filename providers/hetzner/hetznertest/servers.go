package hetznertest

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud/schema"
)

// hostname is an RFC 1123 host name, what the API requires of a server name.
var hostname = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$`)

// maxUserData is the API's limit on cloud-init user data.
const maxUserData = 32 << 10

// serverStatuses are the statuses a listing may filter by.
var serverStatuses = []string{"initializing", "starting", "running", "stopping", "off", "deleting", "migrating", "rebuilding", "unknown"}

// serverSorts are the sort keys of GET /servers.
var serverSorts = map[string]func(a, b *server) int{
	"id":      func(a, b *server) int { return cmp.Compare(a.ID, b.ID) },
	"name":    func(a, b *server) int { return cmp.Compare(a.Name, b.Name) },
	"created": func(a, b *server) int { return a.Created.Compare(b.Created) },
}

// createServer is POST /servers.
func (s *Server) createServer(r *http.Request, p *project) (int, any, *apiError) {
	var req schema.ServerCreateRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
		return 0, nil, &apiError{status: http.StatusBadRequest, code: "json_error", message: "invalid JSON: " + err.Error()}
	}
	vm, start, apiErr := s.vmFrom(req, p)
	if apiErr != nil {
		return 0, nil, apiErr
	}
	now := time.Now()
	lag := s.faults.ListLag()
	s.mu.Lock()
	defer s.mu.Unlock()
	p.settle(now)
	if _, taken := p.byName[vm.Name]; taken {
		return 0, nil, &apiError{
			status: http.StatusConflict, code: "uniqueness_error", message: "server name is already used",
			details: fieldDetails{Fields: []fieldDetail{{Name: "name"}}},
		}
	}
	if apiErr := s.capacity(vm.Type, vm.Location); apiErr != nil {
		return 0, nil, apiErr
	}
	vm.Status = StatusInitializing
	vm.Created = apiTime(now)
	srv := p.add(vm, now.Add(lag))
	created := p.startAction(now, s.cfg.actionDuration, commandCreate, srv.ID)
	answer := schema.ServerCreateResponse{Action: actionSchema(created), NextActions: []schema.Action{}}
	if start {
		started := p.startAction(now, s.cfg.actionDuration, commandStart, srv.ID)
		if created.failure != nil && started.failure == nil {
			started.failure = created.failure // a server that was not created does not start
		}
		answer.NextActions = append(answer.NextActions, actionSchema(started))
	}
	if len(vm.SSHKeys) == 0 {
		pw := fmt.Sprintf("emulated-root-password-%d", srv.ID)
		answer.RootPassword = &pw
	}
	answer.Server = s.serverSchema(srv)
	return http.StatusCreated, answer, nil
}

// vmFrom checks a create request as the API does and returns the server it
// describes, and whether to start it.
func (s *Server) vmFrom(req schema.ServerCreateRequest, p *project) (Instance, bool, *apiError) {
	vm := Instance{Name: req.Name, UserData: req.UserData}
	if req.Name == "" || len(req.Name) > 253 || !hostname.MatchString(req.Name) {
		return vm, false, invalidInput("name", "name must be a valid hostname")
	}
	switch t := req.ServerType; {
	case t.ID > 0 && int(t.ID) <= len(s.cfg.serverTypes):
		vm.Type = s.cfg.serverTypes[t.ID-1]
	case t.ID == 0 && s.knownServerType(t.Name):
		vm.Type = t.Name
	default:
		return vm, false, invalidInput("server_type", "server type %s not found", idOrName(t))
	}
	switch img := req.Image; {
	case img.ID > 0:
		vm.Image = strconv.FormatInt(img.ID, 10)
	case img.Name != "":
		vm.Image = img.Name
	default:
		return vm, false, invalidInput("image", "image is required")
	}
	vm.Location = s.cfg.locations[0]
	if req.Location != "" {
		vm.Location = ""
		for i, l := range s.cfg.locations {
			if req.Location == l || req.Location == strconv.Itoa(i+1) {
				vm.Location = l
			}
		}
		if vm.Location == "" {
			return vm, false, invalidInput("location", "location %s not found", req.Location)
		}
	}
	for _, id := range req.SSHKeys {
		if id < 1 || int(id) > len(p.sshKeys) {
			return vm, false, invalidInput("ssh_keys", "ssh key %d not found", id)
		}
	}
	vm.SSHKeys = slices.Clone(req.SSHKeys)
	for _, id := range req.Networks {
		if id < 1 {
			return vm, false, invalidInput("networks", "network %d not found", id)
		}
	}
	vm.Networks = slices.Clone(req.Networks)
	for _, f := range req.Firewalls {
		if f.Firewall < 1 {
			return vm, false, invalidInput("firewalls", "firewall %d not found", f.Firewall)
		}
		vm.Firewalls = append(vm.Firewalls, f.Firewall)
	}
	if len(req.UserData) > maxUserData {
		return vm, false, invalidInput("user_data", "user data is longer than %d bytes", maxUserData)
	}
	vm.Labels = map[string]string{}
	if req.Labels != nil {
		for k, v := range *req.Labels {
			if !labelKey.MatchString(k) || !labelValue.MatchString(v) {
				return vm, false, invalidInput("labels", "label %q=%q is not a valid label", k, v)
			}
			vm.Labels[k] = v
		}
	}
	start := req.StartAfterCreate == nil || *req.StartAfterCreate
	return vm, start, nil
}

func idOrName(v schema.IDOrName) string {
	if v.ID != 0 {
		return strconv.FormatInt(v.ID, 10)
	}
	return strconv.Quote(v.Name)
}

// listServers is GET /servers: filtered by name, status and label_selector,
// sorted, one page at a time. Servers created within the listing lag are
// left out.
func (s *Server) listServers(r *http.Request, p *project) (int, any, *apiError) {
	q := r.URL.Query()
	sel, err := parseSelector(q.Get("label_selector"))
	if err != nil {
		return 0, nil, invalidInput("label_selector", "%v", err)
	}
	statuses := q["status"]
	for _, st := range statuses {
		if !slices.Contains(serverStatuses, st) {
			return 0, nil, invalidInput("status", "unknown status %q", st)
		}
	}
	name := q.Get("name")
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	page, apiErr := parsePage(q, s.pageSize)
	if apiErr != nil {
		return 0, nil, apiErr
	}
	p.settle(now)
	key := strings.Join([]string{q.Get("label_selector"), name, strings.Join(statuses, ","), strings.Join(q["sort"], ",")}, "\x00")
	matched, ok := p.cached(key, now)
	if !ok {
		until := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
		for _, srv := range p.servers {
			switch {
			case now.Before(srv.visibleAt):
				until = minTime(until, srv.visibleAt)
				continue
			case name != "" && srv.Name != name,
				len(statuses) > 0 && !slices.Contains(statuses, srv.Status),
				!sel.matches(srv.Labels):
				continue
			}
			matched = append(matched, srv)
		}
		if apiErr := sortItems(matched, q["sort"], serverSorts); apiErr != nil {
			return 0, nil, apiErr
		}
		p.cache(key, until, matched)
	}
	items, meta := paginate(matched, page)
	out := serverList{Servers: make([]schema.Server, 0, len(items))}
	for _, srv := range items {
		out.Servers = append(out.Servers, s.serverSchema(srv))
	}
	out.Meta.Pagination = meta
	return http.StatusOK, out, nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// getServer is GET /servers/{id}.
func (s *Server) getServer(r *http.Request, p *project) (int, any, *apiError) {
	id, apiErr := pathID(r)
	if apiErr != nil {
		return 0, nil, apiErr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p.settle(time.Now())
	srv := p.server(id)
	if srv == nil {
		return 0, nil, notFound("server", id)
	}
	return http.StatusOK, schema.ServerGetResponse{Server: s.serverSchema(srv)}, nil
}

// deleteServer is DELETE /servers/{id}: the server turns "deleting" and is
// gone when its delete action ends. Deleting a server being deleted answers
// the delete action that runs.
func (s *Server) deleteServer(r *http.Request, p *project) (int, any, *apiError) {
	id, apiErr := pathID(r)
	if apiErr != nil {
		return 0, nil, apiErr
	}
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	p.settle(now)
	srv := p.server(id)
	if srv == nil {
		return 0, nil, notFound("server", id)
	}
	if srv.deleting == nil && !s.noLocks && p.busy(id) {
		return 0, nil, &apiError{status: http.StatusLocked, code: "locked", message: "server is locked: an action is running"}
	}
	if srv.deleting == nil {
		p.markDeleting(srv, now, s.cfg.actionDuration)
	}
	return http.StatusOK, schema.ServerDeleteResponse{Action: actionSchema(srv.deleting)}, nil
}
