package awstest

import (
	"encoding/base64"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// EC2's limits and identifier shapes, as far as the emulator checks them.
var (
	amiID          = regexp.MustCompile(`^ami-[0-9a-f]{8}([0-9a-f]{9})?$`)
	instanceTypeRE = regexp.MustCompile(`^[a-z][a-z0-9-]*\.[a-z0-9-]+$`)
	subnetID       = regexp.MustCompile(`^subnet-[0-9a-f]{8,17}$`)
	groupID        = regexp.MustCompile(`^sg-[0-9a-f]{8,17}$`)
)

const (
	maxLaunch       = 20    // instances one RunInstances call may launch here
	maxTags         = 50    // tags per resource
	maxTagKeyLen    = 128   // characters
	maxTagValueLen  = 256   // characters
	maxClientToken  = 64    // ASCII characters
	maxUserData     = 16384 // bytes, decoded
	defaultInstType = "m1.small"
)

// runParams is a parsed RunInstances request.
type runParams struct {
	image, instanceType, subnet, keyName, clientToken string
	groups                                            []string
	tags                                              []tag
	minCount, maxCount                                int
	dryRun                                            bool
	fingerprint                                       string // every parameter but the token, canonical
}

// runInstances launches instances, or answers the reservation an earlier
// call with the same ClientToken (and the same parameters) launched.
func (s *Server) runInstances(region string, form url.Values) (any, *apiError) {
	p, aerr := parseRun(form)
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if aerr := s.catalog.check(region, p.instanceType, p.image); aerr != nil {
		return nil, aerr
	}
	if p.dryRun {
		return nil, errDryRun
	}
	now := s.now()
	r := s.region(region)
	if p.clientToken != "" {
		if res, ok := r.tokens[p.clientToken]; ok {
			for _, v := range res.vms {
				s.advance(v, now, false)
			}
			ended, all := res.ended()
			switch {
			case all && s.opts.tokenWindow > 0 && !now.Before(ended.Add(s.opts.tokenWindow)):
				// EC2 guarantees a token for a window after its instances
				// terminated, and forgets it after: the token launches anew.
				delete(r.tokens, p.clientToken)
			case res.fingerprint != p.fingerprint:
				return nil, badRequest("IdempotentParameterMismatch",
					"Arguments on this idempotent request are inconsistent with arguments used in previous request(s).")
			case all:
				return nil, badRequest("IdempotentInstanceTerminated",
					"The client token %s was used for an instance that has been terminated.", p.clientToken)
			default:
				return runAnswer(res), nil
			}
		}
	}
	n := min(p.maxCount, maxLaunch)
	if n < p.minCount {
		return nil, badRequest("InstanceLimitExceeded",
			"Your quota allows for %d more running instance(s). You requested at least %d.", maxLaunch, p.minCount)
	}
	if limit := s.opts.instanceLimit; limit > 0 {
		used := 0
		for _, v := range r.vms {
			s.advance(v, now, false)
			if v.state != StateTerminated {
				used++
			}
		}
		if used+p.minCount > limit {
			return nil, badRequest("InstanceLimitExceeded",
				"You have requested more instances (%d) than your current instance limit of %d allows for the specified instance type. Please visit http://aws.amazon.com/contact-us/ec2-request to request an adjustment to this limit.", used+p.minCount, limit)
		}
		n = min(n, limit-used)
	}
	res := s.newReservation(p.fingerprint)
	for range n {
		v := s.newVM(region, res, now)
		v.typ, v.image, v.subnet, v.keyName = p.instanceType, p.image, p.subnet, p.keyName
		v.groups, v.clientToken, v.tags = slices.Clone(p.groups), p.clientToken, slices.Clone(p.tags)
		if len(s.failing) > 0 {
			v.failLaunch, s.failing = s.failing[0], s.failing[1:]
		}
	}
	if p.clientToken != "" {
		r.tokens[p.clientToken] = res
	}
	return runAnswer(res), nil
}

// ended reports whether every instance of res is shutting down or
// terminated (all), and when the last of them was terminated.
func (res *reservation) ended() (last time.Time, all bool) {
	for _, v := range res.vms {
		if v.ending.IsZero() {
			return time.Time{}, false
		}
		if v.ending.After(last) {
			last = v.ending
		}
	}
	return last, len(res.vms) > 0
}

func runAnswer(res *reservation) runInstancesResponse {
	return runInstancesResponse{Xmlns: namespace, RequestID: newRequestID(), reservationXML: res.wire()}
}

// wire returns the reservation as the SDK reads it.
func (res *reservation) wire() reservationXML {
	x := reservationXML{ReservationID: res.id, OwnerID: accountID}
	for _, v := range res.vms {
		x.Instances.Items = append(x.Instances.Items, v.wire())
	}
	return x
}

// parseRun reads and checks a RunInstances request as EC2 does.
func parseRun(form url.Values) (runParams, *apiError) {
	p := runParams{
		image:        form.Get("ImageId"),
		instanceType: form.Get("InstanceType"),
		subnet:       form.Get("SubnetId"),
		keyName:      form.Get("KeyName"),
		clientToken:  form.Get("ClientToken"),
		dryRun:       isTrue(form.Get("DryRun")),
	}
	switch {
	case p.image == "":
		return p, badRequest("MissingParameter", "The request must contain the parameter ImageId.")
	case !amiID.MatchString(p.image) && !strings.HasPrefix(p.image, "resolve:ssm:"):
		return p, badRequest("InvalidAMIID.Malformed", "Invalid id: %q (expecting \"ami-...\")", p.image)
	}
	if p.instanceType == "" {
		p.instanceType = defaultInstType
	} else if !instanceTypeRE.MatchString(p.instanceType) {
		return p, badRequest("InvalidParameterValue", "Invalid value '%s' for InstanceType.", p.instanceType)
	}
	var aerr *apiError
	if p.minCount, aerr = count(form, "MinCount"); aerr != nil {
		return p, aerr
	}
	if p.maxCount, aerr = count(form, "MaxCount"); aerr != nil {
		return p, aerr
	}
	if p.minCount > p.maxCount {
		return p, badRequest("InvalidParameterValue", "MinCount (%d) must not exceed MaxCount (%d).", p.minCount, p.maxCount)
	}
	if len(p.clientToken) > maxClientToken || !isASCII(p.clientToken) {
		return p, badRequest("InvalidParameterValue", "The client token must be at most %d ASCII characters.", maxClientToken)
	}
	if p.subnet != "" && !subnetID.MatchString(p.subnet) {
		return p, badRequest("InvalidSubnetID.Malformed", "Invalid id: %q (expecting \"subnet-...\")", p.subnet)
	}
	if p.groups, aerr = list(form, "SecurityGroupId"); aerr != nil {
		return p, aerr
	}
	for _, g := range p.groups {
		if !groupID.MatchString(g) {
			return p, badRequest("InvalidGroupId.Malformed", "Invalid id: %q (expecting \"sg-...\")", g)
		}
	}
	if ud := form.Get("UserData"); ud != "" {
		raw, err := base64.StdEncoding.DecodeString(ud)
		switch {
		case err != nil:
			return p, badRequest("InvalidParameterValue", "Invalid BASE64 encoding of user data.")
		case len(raw) > maxUserData:
			return p, badRequest("InvalidParameterValue", "User data is limited to %d bytes.", maxUserData)
		}
	}
	if p.tags, aerr = instanceTags(form); aerr != nil {
		return p, aerr
	}
	p.fingerprint = fingerprint(form)
	return p, nil
}

// count reads MinCount or MaxCount.
func count(form url.Values, name string) (int, *apiError) {
	v := form.Get(name)
	if v == "" {
		return 0, badRequest("MissingParameter", "The request must contain the parameter %s.", name)
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, badRequest("InvalidParameterValue", "Invalid value '%s' for %s: it must be a positive integer.", v, name)
	}
	return n, nil
}

// instanceTags reads the TagSpecifications and returns the tags for
// resource type "instance", checking every specification as EC2 does.
func instanceTags(form url.Values) ([]tag, *apiError) {
	specs, aerr := members(form, "TagSpecification")
	if aerr != nil {
		return nil, aerr
	}
	var out []tag
	seenTypes := map[string]bool{}
	for _, spec := range specs {
		rt := spec.Get("ResourceType")
		if rt == "" {
			return nil, badRequest("InvalidParameterValue", "Tag specification resource type must have a value.")
		}
		if seenTypes[rt] {
			return nil, badRequest("InvalidParameterValue", "The same resource type may not be specified more than once in tag specifications.")
		}
		seenTypes[rt] = true
		tags, aerr := members(spec, "Tag")
		if aerr != nil {
			return nil, aerr
		}
		if len(tags) > maxTags {
			return nil, badRequest("TagLimitExceeded", "The maximum number of tags for a resource is %d.", maxTags)
		}
		seenKeys := map[string]bool{}
		var parsed []tag
		for _, t := range tags {
			k, v := t.Get("Key"), t.Get("Value")
			switch {
			case k == "":
				return nil, badRequest("InvalidParameterValue", "Tag keys must not be empty.")
			case strings.HasPrefix(strings.ToLower(k), "aws:"):
				return nil, badRequest("InvalidParameterValue", "Tag keys starting with 'aws:' are reserved for internal use.")
			case utf8.RuneCountInString(k) > maxTagKeyLen:
				return nil, badRequest("InvalidParameterValue", "Tag keys are limited to %d characters.", maxTagKeyLen)
			case utf8.RuneCountInString(v) > maxTagValueLen:
				return nil, badRequest("InvalidParameterValue", "Tag values are limited to %d characters.", maxTagValueLen)
			case seenKeys[k]:
				return nil, badRequest("InvalidParameterValue", "Duplicate tag key %q.", k)
			}
			seenKeys[k] = true
			parsed = append(parsed, tag{k, v})
		}
		if rt == "instance" {
			out = parsed
		}
	}
	return out, nil
}

// fingerprint is a canonical rendering of every parameter of a RunInstances
// request except its ClientToken (and Action, Version, DryRun): EC2 answers
// a repeated token with different parameters IdempotentParameterMismatch.
func fingerprint(form url.Values) string {
	keys := make([]string, 0, len(form))
	for k := range form {
		switch k {
		case "Action", "Version", "ClientToken", "DryRun":
			continue
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(url.QueryEscape(k))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(strings.Join(form[k], ",")))
		b.WriteByte('&')
	}
	return b.String()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
