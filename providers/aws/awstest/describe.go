package awstest

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The bounds of DescribeInstances' MaxResults, and the page size when a
// request gives none.
const (
	minMaxResults   = 5
	maxMaxResults   = 1000
	defaultPageSize = 1000
)

// describeInstances answers the instances of the region that pass the
// filters — those named by InstanceId.N, or else every one, page by page in
// creation order. Instances within the listing lag are not seen; every
// instance looked at moves on along its lifecycle first.
func (s *Server) describeInstances(region string, form url.Values) (any, *apiError) {
	ids, aerr := instanceIDs(form)
	if aerr != nil {
		return nil, aerr
	}
	filters, aerr := parseFilters(form)
	if aerr != nil {
		return nil, aerr
	}
	limit := 0
	if mr := form.Get("MaxResults"); mr != "" {
		if len(ids) > 0 {
			return nil, badRequest("InvalidParameterCombination", "The parameter instancesSet cannot be used with the parameter maxResults")
		}
		n, err := strconv.Atoi(mr)
		if err != nil || n < minMaxResults || n > maxMaxResults {
			return nil, badRequest("InvalidParameterValue", "Value ( %s ) for parameter maxResults is invalid. Expecting a value between %d and %d.", mr, minMaxResults, maxMaxResults)
		}
		limit = n
	}
	if isTrue(form.Get("DryRun")) {
		return nil, errDryRun
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	answer := describeInstancesResponse{Xmlns: namespace, RequestID: newRequestID()}
	var page []*vm
	if len(ids) > 0 {
		vms, aerr := s.lookup(region, ids, now, true)
		if aerr != nil {
			return nil, aerr
		}
		for _, v := range vms {
			s.advance(v, now, true)
			if matches(filters, v) {
				page = append(page, v)
			}
		}
		answer.Reservations.Items = reservations(page)
		return answer, nil
	}

	if limit == 0 {
		limit = defaultPageSize
	}
	if s.pageSize > 0 {
		limit = min(limit, s.pageSize)
	}
	var vms []*vm
	if r := s.regions[region]; r != nil {
		vms = r.vms
	}
	key := filtersKey(filters)
	start := 0
	if tok := form.Get("NextToken"); tok != "" {
		after, issued, ok := parseToken(tok, region, key)
		expired := issued.Before(s.tokensValidFrom) || (s.opts.pageTokenTTL > 0 && !now.Before(issued.Add(s.opts.pageTokenTTL)))
		if !ok || expired {
			return nil, badRequest("InvalidPaginationToken", "The specified pagination token is not valid or is expired.")
		}
		start = sort.Search(len(vms), func(i int) bool { return vms[i].seq > after })
	}
	for _, v := range vms[start:] {
		if now.Before(v.visibleAt) {
			continue
		}
		s.advance(v, now, true)
		if s.forgotten(v, now) {
			continue
		}
		if !matches(filters, v) {
			continue
		}
		if len(page) == limit {
			answer.NextToken = pageToken(region, page[len(page)-1].seq, key, now)
			break
		}
		page = append(page, v)
	}
	answer.Reservations.Items = reservations(page)
	return answer, nil
}

// reservations groups consecutive instances of one reservation, as EC2
// answers them.
func reservations(vms []*vm) []reservationXML {
	var out []reservationXML
	var last *reservation
	for _, v := range vms {
		if v.reservation != last {
			last = v.reservation
			out = append(out, reservationXML{ReservationID: last.id, OwnerID: accountID})
		}
		cur := &out[len(out)-1]
		cur.Instances.Items = append(cur.Instances.Items, v.wire())
	}
	return out
}

// pageToken is the NextToken after the instance with sequence number seq,
// valid for one region and one set of filters, issued at now (it expires
// after the page-token TTL).
func pageToken(region string, seq uint64, key string, now time.Time) string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "v2|%s|%d|%d|%s", region, seq, now.UnixNano(), key))
}

// parseToken reads a NextToken issued for region and filters key, and when
// it was issued.
func parseToken(tok, region, key string) (uint64, time.Time, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, time.Time{}, false
	}
	parts := strings.SplitN(string(raw), "|", 5)
	if len(parts) != 5 || parts[0] != "v2" || parts[1] != region || parts[4] != key {
		return 0, time.Time{}, false
	}
	seq, err := strconv.ParseUint(parts[2], 10, 64)
	if err != nil {
		return 0, time.Time{}, false
	}
	ns, err := strconv.ParseInt(parts[3], 10, 64)
	if err != nil {
		return 0, time.Time{}, false
	}
	return seq, time.Unix(0, ns), true
}
