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
