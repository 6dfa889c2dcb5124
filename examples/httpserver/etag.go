package main

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
)

// A workspace's ETag is its Version, quoted: "7". The Store bumps the
// Version on every write, so the ETag changes whenever the record does, and
// If-Match: "7" becomes cloudswitch.Request.IfVersion = 7 — a precondition
// the Switcher checks against the stored record, and the Store's
// compare-and-swap enforces.

// etag returns the ETag of a workspace at version.
func etag(version int64) string {
	return `"` + strconv.FormatInt(version, 10) + `"`
}

// ifVersion parses an If-Match header into a Request.IfVersion: 0 when the
// header is absent or "*" (the workspace must merely exist, which Switch
// checks anyway), the version of a single ETag this server issued
// otherwise. A list of ETags, a weak ETag or anything else is refused: a
// switch is conditional on one version or on none.
func ifVersion(header string) (int64, error) {
	h := strings.TrimSpace(header)
	if h == "" || h == "*" {
		return 0, nil
	}
	inner, ok := strings.CutPrefix(h, `"`)
	if ok {
		inner, ok = strings.CutSuffix(inner, `"`)
	}
	// Only the canonical form this server issues: "3", never "+3" or "03".
	v, err := strconv.ParseInt(inner, 10, 64)
	if !ok || err != nil || v <= 0 || strconv.FormatInt(v, 10) != inner {
		return 0, errors.New(`If-Match must be one ETag as GET /workspaces/{id} returns it, such as "3", or *`)
	}
	return v, nil
}

// pathIDAndVersion returns the {id} of the request's path, as pathID does,
// and its If-Match as a version (0 without one). It answers 400 for a
// malformed id or an If-Match that is not canonical, and returns false.
func pathIDAndVersion(w http.ResponseWriter, r *http.Request) (string, int64, bool) {
	id, ok := pathID(w, r)
	if !ok {
		return "", 0, false
	}
	version, err := ifVersion(r.Header.Get("If-Match"))
	if err != nil {
		writeProblem(w, problem{Type: typeInvalid, Title: "Invalid If-Match", Status: http.StatusBadRequest,
			Workspace: id, Detail: err.Error()})
		return "", 0, false
	}
	return id, version, true
}
