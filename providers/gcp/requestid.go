package gcp

import "github.com/google/uuid"

// requestIDSpace is the namespace of the name-based UUIDs RequestID derives.
var requestIDSpace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://github.com/cloudswitch/cloudswitch/providers/gcp#insert"))

// RequestID returns the requestId Provision sends with the insert for token:
// a name-based (version 5, SHA-1) UUID of the token, never the zero UUID.
// Compute Engine answers an insert whose requestId it has seen (for at
// least 60 minutes) with the operation the first one started, so a retried
// Provision never starts a second insert.
func RequestID(token string) string {
	return uuid.NewSHA1(requestIDSpace, []byte(token)).String()
}

// deleteRequestIDSpace is the namespace of the requestIds Deprovision sends.
var deleteRequestIDSpace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://github.com/cloudswitch/cloudswitch/providers/gcp#delete"))

// DeleteRequestID returns the requestId Deprovision sends with the delete
// of instance name in zone: a name-based (version 5, SHA-1) UUID of the
// two, the same for every attempt, so that a delete repeated after a lost
// answer is answered with the first one's operation (for at least 60
// minutes) rather than starting a second delete — which Compute Engine
// would refuse with 400 resourceNotReady while the first runs.
func DeleteRequestID(zone, name string) string {
	return uuid.NewSHA1(deleteRequestIDSpace, []byte(zone+"/"+name)).String()
}

// retryRequestID returns the requestId of a delete retried after the
// delete with requestId rid ended in failed operation op: deterministic too,
// so that a retry of the retry is deduplicated in turn.
func retryRequestID(rid, op string) string {
	return uuid.NewSHA1(deleteRequestIDSpace, []byte(rid+" failed as "+op)).String()
}
