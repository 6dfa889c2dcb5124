package hetznertest

import (
	"net/url"
	"strconv"
)

// The API's page sizes: per_page defaults to 25 and is at most 50.
const (
	defaultPerPage = 25
	maxPerPage     = 50
)

// pageRequest is the page a list request asks for.
type pageRequest struct {
	page, perPage int
}

// parsePage reads page and per_page from q. per_page is clamped to 50 and
// to limit (when limit > 0), as SetPageSize asks.
func parsePage(q url.Values, limit int) (pageRequest, *apiError) {
	p := pageRequest{page: 1, perPage: defaultPerPage}
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return p, invalidInput("page", "must be a positive integer")
		}
		p.page = n
	}
	if v := q.Get("per_page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return p, invalidInput("per_page", "must be a positive integer")
		}
		p.perPage = n
	}
	p.perPage = min(p.perPage, maxPerPage)
	if limit > 0 {
		p.perPage = min(p.perPage, limit)
	}
	return p, nil
}

// paginate returns the requested page of items and its meta.pagination.
func paginate[T any](items []T, p pageRequest) ([]T, pagination) {
	total := len(items)
	last := max(1, (total+p.perPage-1)/p.perPage)
	meta := pagination{Page: p.page, PerPage: p.perPage, LastPage: last, TotalEntries: total}
	if p.page > 1 {
		prev := min(p.page-1, last)
		meta.PreviousPage = &prev
	}
	if p.page < last {
		next := p.page + 1
		meta.NextPage = &next
	}
	start := min((p.page-1)*p.perPage, total)
	end := min(start+p.perPage, total)
	return items[start:end], meta
}
