package hetznertest

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud/schema"
)

// listSSHKeys is GET /ssh_keys, filtered by name: the keys WithSSHKeys
// created, with ids 1, 2, ….
func (s *Server) listSSHKeys(r *http.Request, p *project) (int, any, *apiError) {
	q := r.URL.Query()
	name := q.Get("name")
	s.mu.Lock()
	page, apiErr := parsePage(q, s.pageSize)
	s.mu.Unlock()
	if apiErr != nil {
		return 0, nil, apiErr
	}
	var keys []schema.SSHKey
	for i, n := range p.sshKeys {
		if name == "" || name == n {
			keys = append(keys, sshKeySchema(int64(i+1), n))
		}
	}
	items, meta := paginate(keys, page)
	out := sshKeyList{SSHKeys: append([]schema.SSHKey{}, items...)}
	out.Meta.Pagination = meta
	return http.StatusOK, out, nil
}

// getSSHKey is GET /ssh_keys/{id}: a key of the project, or 404 not_found.
func (s *Server) getSSHKey(r *http.Request, p *project) (int, any, *apiError) {
	id, apiErr := pathID(r)
	if apiErr != nil {
		return 0, nil, apiErr
	}
	if id > int64(len(p.sshKeys)) {
		return 0, nil, notFound("ssh_key", id)
	}
	return http.StatusOK, schema.SSHKeyGetResponse{SSHKey: sshKeySchema(id, p.sshKeys[id-1])}, nil
}

// sshKeySchema is a made-up but well-formed key named name.
func sshKeySchema(id int64, name string) schema.SSHKey {
	sum := sha256.Sum256([]byte(name))
	var fp []string
	for _, b := range sum[:16] {
		fp = append(fp, fmt.Sprintf("%02x", b))
	}
	return schema.SSHKey{
		ID: id, Name: name, Fingerprint: strings.Join(fp, ":"),
		PublicKey: "ssh-ed25519 " + base64.StdEncoding.EncodeToString(sum[:]) + " " + name,
		Labels:    map[string]string{}, Created: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
	}
}
