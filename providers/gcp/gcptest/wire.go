package gcptest

import (
	"encoding/json"
	"fmt"
	"net/http"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// apiBase is the prefix of the self links Compute Engine writes.
const apiBase = "https://www.googleapis.com/compute/v1/"

// apiError is an error answer in Compute Engine's envelope:
//
//	{"error":{"code":404,"message":"…","errors":[{"message":"…","domain":"global","reason":"notFound"}]}}
type apiError struct {
	status  int
	reason  string
	message string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.status, e.reason, e.message) }

func errorf(status int, reason, format string, args ...any) *apiError {
	return &apiError{status: status, reason: reason, message: fmt.Sprintf(format, args...)}
}

func invalid(format string, args ...any) *apiError {
	return errorf(http.StatusBadRequest, "invalid", format, args...)
}

func notFound(resource string) *apiError {
	return errorf(http.StatusNotFound, "notFound", "The resource '%s' was not found", resource)
}

type errorItem struct {
	Message string `json:"message"`
	Domain  string `json:"domain"`
	Reason  string `json:"reason"`
}

type errorBody struct {
	Code    int         `json:"code"`
	Message string      `json:"message"`
	Errors  []errorItem `json:"errors"`
}

// writeError answers e in Compute Engine's error envelope.
func writeError(w http.ResponseWriter, e *apiError) {
	body, err := json.Marshal(struct {
		Error errorBody `json:"error"`
	}{errorBody{Code: e.status, Message: e.message, Errors: []errorItem{{Message: e.message, Domain: "global", Reason: e.reason}}}})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(e.status)
	_, _ = w.Write(body)
}

// writeMessage answers m as the REST clients read it: protojson, with
// lowerCamelCase field names and 64-bit integers as strings.
func writeMessage(w http.ResponseWriter, m proto.Message) {
	body, err := protojson.Marshal(m)
	if err != nil {
		writeError(w, errorf(http.StatusInternalServerError, "backendError", "gcptest: encoding the answer: %v", err))
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

func projectPath(project string) string { return "projects/" + project }

func zonePath(project, zone string) string { return projectPath(project) + "/zones/" + zone }

func instancePath(project, zone, name string) string {
	return zonePath(project, zone) + "/instances/" + name
}

func operationPath(project, zone, name string) string {
	return zonePath(project, zone) + "/operations/" + name
}
