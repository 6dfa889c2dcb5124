package gcptest

import (
	"regexp"
	"strings"

	"github.com/google/uuid"
)

var (
	// zoneName is a zone: region and letter, "us-central1-a".
	zoneName = regexp.MustCompile(`^[a-z]+-[a-z]+[0-9]+-[a-z]$`)
	// projectID is a project id: 6 to 30 lowercase letters, digits and
	// hyphens, starting with a letter.
	projectID = regexp.MustCompile(`^[a-z][-a-z0-9]{4,28}[a-z0-9]$`)
	// resourceName is the name of an instance (RFC 1035).
	resourceName = regexp.MustCompile(`^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$`)
	// machineTypeName is the name of a machine type: "e2-standard-2",
	// "n2-custom-4-8192".
	machineTypeName = regexp.MustCompile(`^[a-z][-a-z0-9]{0,62}$`)
	// labelKey and labelValue are Compute Engine's label rules (restricted
	// to ASCII).
	labelKey   = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}$`)
	labelValue = regexp.MustCompile(`^[a-z0-9_-]{0,63}$`)
	// metadataKey is a metadata key.
	metadataKey = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,128}$`)
)

// maxLabels is how many labels a resource may carry.
const maxLabels = 64

// validRequestID reports whether id is what Compute Engine accepts as a
// requestId: a UUID other than the zero UUID.
func validRequestID(id string) bool {
	u, err := uuid.Parse(id)
	return err == nil && u != uuid.Nil && len(id) == 36
}

// machineType reads the machine type of an insert in zone: a partial URL
// "zones/ZONE/machineTypes/TYPE" or a full one ending so. It returns the
// type's name.
func machineType(zone, ref string) (string, bool) {
	i := strings.Index(ref, "zones/")
	if i < 0 || (i > 0 && !strings.HasSuffix(ref[:i], "/")) {
		return "", false
	}
	rest, ok := strings.CutPrefix(ref[i:], "zones/"+zone+"/machineTypes/")
	if !ok || !machineTypeName.MatchString(rest) {
		return "", false
	}
	return rest, true
}
