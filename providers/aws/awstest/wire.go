package awstest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// namespace is the XML namespace of every EC2 answer of API version
// 2016-11-15, the version the SDK speaks.
const namespace = "http://ec2.amazonaws.com/doc/2016-11-15/"

// apiError is an EC2 error answer: an HTTP status and an EC2 error code.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.status, e.code, e.message) }

// badRequest is a 400 answer with code and message.
func badRequest(code, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: code, message: fmt.Sprintf(format, args...)}
}

// The answer EC2 gives a request that would have succeeded but asked for a
// dry run.
var errDryRun = &apiError{status: http.StatusPreconditionFailed, code: "DryRunOperation",
	message: "Request would have succeeded, but DryRun flag is set."}

// defaultCode is the EC2 error code of a scripted fault that names only an
// HTTP status.
func defaultCode(status int) string {
	switch {
	case status == http.StatusUnauthorized:
		return "AuthFailure"
	case status == http.StatusForbidden:
		return "UnauthorizedOperation"
	case status == http.StatusServiceUnavailable:
		return "Unavailable"
	case status >= 500:
		return "InternalError"
	default:
		return "InvalidParameterValue"
	}
}

// stateXML is an instance state: <code> and <name>.
type stateXML struct {
	Code int    `xml:"code"`
	Name string `xml:"name"`
}

type tagXML struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

type tagSetXML struct {
	Items []tagXML `xml:"item"`
}

type groupXML struct {
	GroupID string `xml:"groupId"`
}

type groupSetXML struct {
	Items []groupXML `xml:"item"`
}

type placementXML struct {
	AvailabilityZone string `xml:"availabilityZone"`
	Tenancy          string `xml:"tenancy"`
}

// instanceXML is one instance as RunInstances and DescribeInstances answer
// it (the elements the SDK's deserializer reads, lowerCamel).
type instanceXML struct {
	InstanceID     string          `xml:"instanceId"`
	ImageID        string          `xml:"imageId"`
	State          stateXML        `xml:"instanceState"`
	PrivateDNSName string          `xml:"privateDnsName"`
	KeyName        string          `xml:"keyName,omitempty"`
	AmiLaunchIndex int             `xml:"amiLaunchIndex"`
	InstanceType   string          `xml:"instanceType"`
	LaunchTime     string          `xml:"launchTime"`
	Placement      placementXML    `xml:"placement"`
	SubnetID       string          `xml:"subnetId,omitempty"`
	ClientToken    string          `xml:"clientToken,omitempty"`
	Groups         groupSetXML     `xml:"groupSet"`
	Tags           tagSetXML       `xml:"tagSet"`
	StateReason    *stateReasonXML `xml:"stateReason,omitempty"`
}

// stateReasonXML is an instance's StateReason: why it left its last state.
type stateReasonXML struct {
	Code    string `xml:"code"`
	Message string `xml:"message"`
}

type instancesSetXML struct {
	Items []instanceXML `xml:"item"`
}

// reservationXML is one reservation: the instances one RunInstances call
// launched.
type reservationXML struct {
	ReservationID string          `xml:"reservationId"`
	OwnerID       string          `xml:"ownerId"`
	Groups        groupSetXML     `xml:"groupSet"`
	Instances     instancesSetXML `xml:"instancesSet"`
}

type runInstancesResponse struct {
	XMLName   xml.Name `xml:"RunInstancesResponse"`
	Xmlns     string   `xml:"xmlns,attr"`
	RequestID string   `xml:"requestId"`
	reservationXML
}

type reservationSetXML struct {
	Items []reservationXML `xml:"item"`
}

type describeInstancesResponse struct {
	XMLName      xml.Name          `xml:"DescribeInstancesResponse"`
	Xmlns        string            `xml:"xmlns,attr"`
	RequestID    string            `xml:"requestId"`
	Reservations reservationSetXML `xml:"reservationSet"`
	NextToken    string            `xml:"nextToken,omitempty"`
}

type stateChangeXML struct {
	InstanceID string   `xml:"instanceId"`
	Current    stateXML `xml:"currentState"`
	Previous   stateXML `xml:"previousState"`
}

type stateChangeSetXML struct {
	Items []stateChangeXML `xml:"item"`
}

type terminateInstancesResponse struct {
	XMLName   xml.Name          `xml:"TerminateInstancesResponse"`
	Xmlns     string            `xml:"xmlns,attr"`
	RequestID string            `xml:"requestId"`
	Instances stateChangeSetXML `xml:"instancesSet"`
}

// errorResponse is the EC2 error envelope.
type errorResponse struct {
	XMLName   xml.Name   `xml:"Response"`
	Errors    []errorXML `xml:"Errors>Error"`
	RequestID string     `xml:"RequestID"`
}

type errorXML struct {
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

// launchTime formats t as EC2 does (ISO 8601, UTC, milliseconds).
func launchTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// newRequestID returns a fresh request id shaped like EC2's (a UUID).
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// writeXML answers status with v encoded as XML.
func writeXML(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	if err := xml.NewEncoder(&buf).Encode(v); err != nil {
		http.Error(w, "awstest: encoding the answer: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// writeError answers e in the EC2 error envelope.
func writeError(w http.ResponseWriter, e *apiError) {
	writeXML(w, e.status, errorResponse{
		Errors:    []errorXML{{Code: e.code, Message: e.message}},
		RequestID: newRequestID(),
	})
}
