package ownership

import "fmt"

// Labels are the ownership values a VM's labels carry, decoded: the
// workspace id, the idempotency token and the installation id. A value
// whose label is absent is "".
type Labels struct {
	Workspace, Token, Installation string
}

// LabelError is the error DecodeLabels returns for a label that does not
// decode: a label value of the EncodeLabel form that is not valid base32.
type LabelError struct {
	Key string // the label's key, such as TokenKey
	Err error  // DecodeLabel's error
}

func (e *LabelError) Error() string { return fmt.Sprintf("label %s: %v", e.Key, e.Err) }

func (e *LabelError) Unwrap() error { return e.Err }

// DecodeLabels reads the workspace, token and installation from labels
// written with EncodeLabel, as a driver for a cloud with labels (GCP,
// Hetzner) must. A label that does not decode is kept as it is, and the
// error, a *LabelError, names the first such key in the order workspace,
// token, installation: the VM may be someone else's, or damaged, and a
// caller must not take the raw value for the owner's.
func DecodeLabels(labels map[string]string) (Labels, error) {
	var out Labels
	var first error
	for _, l := range []struct {
		key string
		to  *string
	}{
		{WorkspaceKey, &out.Workspace},
		{TokenKey, &out.Token},
		{InstallationKey, &out.Installation},
	} {
		raw, ok := labels[l.key]
		if !ok {
			continue
		}
		v, err := DecodeLabel(raw)
		if err != nil {
			v = raw
			if first == nil {
				first = &LabelError{Key: l.key, Err: err}
			}
		}
		*l.to = v
	}
	return out, first
}
