package hetznertest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud/schema"
)

// apiError is an error answer of the API: its HTTP status and the body
// {"error":{"code","message","details"}}.
type apiError struct {
	status  int
	code    string
	message string
	details any
}

func (e *apiError) Error() string { return fmt.Sprintf("%s (%s, %d)", e.message, e.code, e.status) }

// errorBody is the error envelope of the Hetzner API.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Details any    `json:"details"`
	} `json:"error"`
}

// fieldDetails are the details of invalid_input and uniqueness_error.
type fieldDetails struct {
	Fields []fieldDetail `json:"fields"`
}

type fieldDetail struct {
	Name     string   `json:"name"`
	Messages []string `json:"messages,omitempty"`
}

func invalidInput(field, format string, args ...any) *apiError {
	msg := fmt.Sprintf(format, args...)
	return &apiError{
		status: http.StatusBadRequest, code: "invalid_input", message: "invalid input in field '" + field + "'",
		details: fieldDetails{Fields: []fieldDetail{{Name: field, Messages: []string{msg}}}},
	}
}

func notFound(what string, id int64) *apiError {
	return &apiError{status: http.StatusNotFound, code: "not_found", message: fmt.Sprintf("%s with ID '%d' not found", what, id)}
}

var errUnauthorized = &apiError{status: http.StatusUnauthorized, code: "unauthorized", message: "unable to authenticate"}

// defaultMessages are the messages of injected errors that come without one.
var defaultMessages = map[string]string{
	"service_error":           "service error",
	"server_error":            "an internal error occurred",
	"rate_limit_exceeded":     "limit of requests per hour reached",
	"conflict":                "the resource has changed during the request, please retry",
	"locked":                  "the resource is locked by another action",
	"maintenance":             "cannot perform operation due to maintenance",
	"timeout":                 "the request could not be answered in time, please retry",
	"bad_gateway":             "the request could not be answered by the API backend, please retry",
	"unauthorized":            "unable to authenticate",
	"forbidden":               "insufficient permissions for this request",
	"invalid_input":           "invalid input",
	"json_error":              "invalid JSON",
	"uniqueness_error":        "one or more fields must be unique",
	"resource_limit_exceeded": "limit of servers per project exceeded",
	"protected":               "the resource is protected",
	"not_found":               "resource not found",
}

// writeJSON answers status with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, &apiError{status: http.StatusInternalServerError, code: "server_error", message: "encoding the answer: " + err.Error()})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// writeError answers e in the API's error envelope. An error without a code
// is answered as a proxy in front of the API would: a plain-text body.
func writeError(w http.ResponseWriter, e *apiError) {
	if e.code == "" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(e.status)
		fmt.Fprintln(w, strings.TrimSpace(fmt.Sprintf("%d %s %s", e.status, http.StatusText(e.status), e.message)))
		return
	}
	var body errorBody
	body.Error.Code = e.code
	body.Error.Message = e.message
	if body.Error.Message == "" {
		body.Error.Message = defaultMessages[e.code]
	}
	if body.Error.Message == "" {
		body.Error.Message = strings.ToLower(http.StatusText(e.status))
	}
	body.Error.Details = e.details
	b, _ := json.Marshal(body)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.status)
	w.Write(append(b, '\n'))
}

// serverSchema is how the API shows s.
func (srv *Server) serverSchema(s *server) schema.Server {
	out := schema.Server{
		ID:         s.ID,
		Name:       s.Name,
		Status:     s.Status,
		Created:    s.Created,
		ServerType: srv.serverTypeSchema(s.Type),
		Location:   srv.locationSchema(s.Location),
		Image:      srv.imageSchema(s.Image),
		Labels:     s.Labels,
		PublicNet: schema.ServerPublicNet{
			IPv4:        schema.ServerPublicNetIPv4{ID: s.ID, IP: fmt.Sprintf("198.18.%d.%d", (s.ID>>8)&0xff, s.ID&0xff)},
			IPv6:        schema.ServerPublicNetIPv6{ID: s.ID, IP: fmt.Sprintf("2001:db8:%x::/64", s.ID&0xffff)},
			FloatingIPs: []int64{},
			Firewalls:   []schema.ServerFirewall{},
		},
		PrivateNet:      []schema.ServerPrivateNet{},
		IncludedTraffic: 20 << 40,
		Volumes:         []int64{},
		LoadBalancers:   []int64{},
		PrimaryDiskSize: 40,
	}
	if out.Labels == nil {
		out.Labels = map[string]string{}
	}
	for _, id := range s.Firewalls {
		out.PublicNet.Firewalls = append(out.PublicNet.Firewalls, schema.ServerFirewall{ID: id, Status: "applied"})
	}
	for i, id := range s.Networks {
		out.PrivateNet = append(out.PrivateNet, schema.ServerPrivateNet{Network: id, IP: fmt.Sprintf("10.0.%d.%d", i, s.ID&0xff), AliasIPs: []string{}})
	}
	return out
}

func (srv *Server) serverTypeSchema(name string) schema.ServerType {
	t := schema.ServerType{Name: name, Description: strings.ToUpper(name), Category: "shared", StorageType: "local", CPUType: "shared", Architecture: "x86"}
	for i, n := range srv.cfg.serverTypes {
		if n == name {
			t.ID = int64(i + 1)
		}
	}
	if strings.HasPrefix(name, "cax") {
		t.Architecture = "arm"
	}
	return t
}

// cities names the known locations.
var cities = map[string][3]string{ // name: city, country, network zone
	"fsn1": {"Falkenstein", "DE", "eu-central"},
	"nbg1": {"Nuremberg", "DE", "eu-central"},
	"hel1": {"Helsinki", "FI", "eu-central"},
	"ash":  {"Ashburn, VA", "US", "us-east"},
	"hil":  {"Hillsboro, OR", "US", "us-west"},
	"sin":  {"Singapore", "SG", "ap-southeast"},
}

func (srv *Server) locationSchema(name string) schema.Location {
	l := schema.Location{Name: name, Description: name, City: name, NetworkZone: "eu-central"}
	for i, n := range srv.cfg.locations {
		if n == name {
			l.ID = int64(i + 1)
		}
	}
	if c, ok := cities[name]; ok {
		l.City, l.Country, l.NetworkZone = c[0], c[1], c[2]
		l.Description = c[0] + " DC Park 1"
	}
	return l
}

func (srv *Server) imageSchema(name string) *schema.Image {
	n := name
	return &schema.Image{
		ID: srv.ids.imageID(name), Status: "available", Type: "system", Name: &n, Description: name,
		OSFlavor: strings.SplitN(name, "-", 2)[0], Architecture: "x86", Labels: map[string]string{},
	}
}

// actionSchema is how the API shows a.
func actionSchema(a *action) schema.Action {
	out := schema.Action{
		ID: a.id, Status: a.status, Command: a.command, Started: a.started,
		Resources: []schema.ActionResourceReference{{ID: a.serverID, Type: "server"}},
	}
	if a.status != actionRunning {
		out.Progress = 100
		f := a.finished
		out.Finished = &f
	}
	if a.status == actionError {
		out.Error = &schema.ActionError{Code: a.failure.code(), Message: a.failure.message()}
	}
	return out
}

// pagination is meta.pagination of a list answer, as the API spells it:
// previous_page and next_page are null when there is none.
type pagination struct {
	Page         int  `json:"page"`
	PerPage      int  `json:"per_page"`
	PreviousPage *int `json:"previous_page"`
	NextPage     *int `json:"next_page"`
	LastPage     int  `json:"last_page"`
	TotalEntries int  `json:"total_entries"`
}

type meta struct {
	Pagination pagination `json:"pagination"`
}

type serverList struct {
	Servers []schema.Server `json:"servers"`
	Meta    meta            `json:"meta"`
}

type actionList struct {
	Actions []schema.Action `json:"actions"`
	Meta    meta            `json:"meta"`
}

type sshKeyList struct {
	SSHKeys []schema.SSHKey `json:"ssh_keys"`
	Meta    meta            `json:"meta"`
}

// apiTime is t as the API reports times: in UTC, to the second.
func apiTime(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }
