package gcptest

import (
	"encoding/base64"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"cloud.google.com/go/compute/apiv1/computepb"
	"google.golang.org/protobuf/proto"
)

// maxResults is the largest page Compute Engine serves, and its default.
const maxResults = 500

// cursor is where a page starts: after the instance (zone, name).
type cursor struct{ zone, name string }

// token encodes c as a page token.
func (c cursor) token() string {
	return base64.RawURLEncoding.EncodeToString([]byte(c.zone + "/" + c.name))
}

// query is what a list call asks for.
type query struct {
	conds []condition
	size  int
	after cursor
}

// readQuery reads filter, maxResults and pageToken; s.mu is held (for the
// page size cap).
func (s *Server) readQuery(r *http.Request) (query, *apiError) {
	q := r.URL.Query()
	var out query
	if f := q.Get("filter"); f != "" {
		conds, err := parseFilter(f)
		if err != nil {
			return out, invalid("Invalid value for field 'filter': '%s'. Invalid list filter expression: %v.", f, err)
		}
		out.conds = conds
	}
	out.size = maxResults
	if m := q.Get("maxResults"); m != "" {
		n, err := strconv.ParseUint(m, 10, 32)
		if err != nil || n > maxResults {
			return out, invalid("Invalid value for field 'maxResults': '%s'. Must be between 0 and %d.", m, maxResults)
		}
		if n > 0 {
			out.size = int(n)
		}
	}
	if s.pageSize > 0 {
		out.size = min(out.size, s.pageSize)
	}
	if t := q.Get("pageToken"); t != "" {
		raw, err := base64.RawURLEncoding.DecodeString(t)
		zone, name, ok := strings.Cut(string(raw), "/")
		if err != nil || !ok {
			return out, invalid("Invalid value for field 'pageToken': '%s'.", t)
		}
		out.after = cursor{zone: zone, name: name}
	}
	return out, nil
}

// page returns the next page of q over zones (sorted): at most q.size listed
// instances that match, and whether more follow; s.mu is held. Instances
// within their listing lag are skipped.
func (s *Server) page(zones []string, q query, now time.Time) ([]*vm, bool) {
	var out []*vm
	for _, zn := range zones {
		if zn < q.after.zone {
			continue
		}
		z := s.zones[zn]
		names := slices.Sorted(maps.Keys(z.vms))
		start := 0
		if zn == q.after.zone {
			start, _ = slices.BinarySearch(names, q.after.name)
			if start < len(names) && names[start] == q.after.name {
				start++
			}
		}
		for _, name := range names[start:] {
			v := z.vms[name]
			if now.Before(v.visibleAt) || !v.matches(q.conds) {
				continue
			}
			if len(out) == q.size {
				return out, true
			}
			out = append(out, v)
		}
	}
	return out, false
}

// list serves instances.list: GET …/zones/{zone}/instances?filter=…&
// maxResults=…&pageToken=….
func (s *Server) list(r *http.Request, now time.Time) (proto.Message, *apiError) {
	zone := r.PathValue("zone")
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settle(now)
	if _, ok := s.zones[zone]; !ok {
		return nil, notFound(zonePath(s.opts.project, zone))
	}
	q, aerr := s.readQuery(r)
	if aerr != nil {
		return nil, aerr
	}
	if q.after.zone != "" && q.after.zone != zone {
		return nil, invalid("Invalid value for field 'pageToken': the token is from another zone.")
	}
	vms, more := s.page([]string{zone}, q, now)
	out := &computepb.InstanceList{
		Kind:     proto.String("compute#instanceList"),
		Id:       proto.String(zonePath(s.opts.project, zone) + "/instances"),
		SelfLink: proto.String(apiBase + zonePath(s.opts.project, zone) + "/instances"),
		Items:    make([]*computepb.Instance, 0, len(vms)),
	}
	for _, v := range vms {
		out.Items = append(out.Items, s.instanceProto(v))
	}
	if more {
		out.NextPageToken = proto.String(cursor{zone: zone, name: vms[len(vms)-1].name}.token())
	}
	return out, nil
}

// aggregatedList serves instances.aggregatedList: GET
// /compute/v1/projects/{project}/aggregated/instances, every zone in one
// listing, with the instances of a page grouped under "zones/ZONE" and a
// NO_RESULTS_ON_PAGE warning for each zone that has none on the page.
func (s *Server) aggregatedList(r *http.Request, now time.Time) (proto.Message, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settle(now)
	q, aerr := s.readQuery(r)
	if aerr != nil {
		return nil, aerr
	}
	vms, more := s.page(s.zoneNames, q, now)
	p := s.opts.project
	out := &computepb.InstanceAggregatedList{
		Kind:     proto.String("compute#instanceAggregatedList"),
		Id:       proto.String(projectPath(p) + "/aggregated/instances"),
		SelfLink: proto.String(apiBase + projectPath(p) + "/aggregated/instances"),
		Items:    make(map[string]*computepb.InstancesScopedList, len(s.zoneNames)),
	}
	for _, v := range vms {
		scope := out.Items["zones/"+v.zone]
		if scope == nil {
			scope = &computepb.InstancesScopedList{}
			out.Items["zones/"+v.zone] = scope
		}
		scope.Instances = append(scope.Instances, s.instanceProto(v))
	}
	for _, zn := range s.zoneNames {
		key := "zones/" + zn
		if _, ok := out.Items[key]; !ok {
			out.Items[key] = &computepb.InstancesScopedList{Warning: &computepb.Warning{
				Code:    proto.String("NO_RESULTS_ON_PAGE"),
				Message: proto.String("There are no results for scope '" + key + "' on this page."),
				Data:    []*computepb.Data{{Key: proto.String("scope"), Value: proto.String(key)}},
			}}
		}
	}
	if more {
		last := vms[len(vms)-1]
		out.NextPageToken = proto.String(cursor{zone: last.zone, name: last.name}.token())
	}
	return out, nil
}
