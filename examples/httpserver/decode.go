package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"
)

// maxBody bounds every request body.
const maxBody = 64 << 10

// errBody is a request body this API refuses, with a message for the
// client: it names the field at fault, in the API's own words, never Go's.
type errBody struct{ msg string }

func (e *errBody) Error() string { return e.msg }

func badBody(format string, args ...any) error { return &errBody{fmt.Sprintf(format, args...)} }

// decodeBody reads the request's JSON body into v (a pointer to a struct
// with json tags), strictly: Content-Type application/json, at most maxBody
// bytes, exactly one JSON object, keys spelt exactly as the API documents
// them (case included), no key twice and none unknown — a misspelt
// "confirm_recreate" or a second "id" must not be silently ignored or win.
// On failure it answers the request and returns false.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil ||
		(mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		writeProblem(w, problem{Type: typeUnsupportedMedia, Title: "Unsupported media type", Status: http.StatusUnsupportedMediaType,
			Detail: `the request body must be JSON, sent with "Content-Type: application/json"`})
		return false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		writeProblem(w, problem{Type: typeTooLarge, Title: "Body too large", Status: http.StatusRequestEntityTooLarge,
			Detail: fmt.Sprintf("the request body is larger than %d KiB", maxBody>>10)})
		return false
	case err != nil:
		writeProblem(w, problem{Type: typeInvalid, Title: "Invalid body", Status: http.StatusBadRequest,
			Detail: "the request body could not be read"})
		return false
	}
	if err := decodeJSON(body, v); err != nil {
		writeProblem(w, problem{Type: typeInvalid, Title: "Invalid body", Status: http.StatusBadRequest, Detail: err.Error()})
		return false
	}
	return true
}

// decodeJSON decodes one JSON object from body into v with the rules of
// decodeBody; its errors are *errBody.
func decodeJSON(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return badBody("the request body is empty: send a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := checkKeys(dec, reflect.TypeOf(v).Elem(), ""); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return badBody("the request body holds more than one JSON value")
	}
	if err := json.Unmarshal(body, v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return badBody("field %q must be %s, not %s", typeErr.Field, jsonKind(typeErr.Type), typeErr.Value)
		}
		return badBody("the request body is not valid JSON")
	}
	return nil
}

// checkKeys reads one JSON value from dec and checks, where t is a struct,
// that it is an object whose keys are t's json names, each at most once;
// path names the value in messages ("compute.region").
func checkKeys(dec *json.Decoder, t reflect.Type, path string) error {
	tok, err := dec.Token()
	if err != nil {
		return syntaxError(err)
	}
	delim, isDelim := tok.(json.Delim)
	if t.Kind() == reflect.Struct && (!isDelim || delim != '{') {
		if path == "" {
			return badBody("the request body must be a JSON object")
		}
		return badBody("field %q must be an object", path)
	}
	if !isDelim {
		return nil
	}
	if delim == '[' {
		for dec.More() {
			if err := checkKeys(dec, elemType(t), path); err != nil {
				return err
			}
		}
		_, err := dec.Token()
		return syntaxError(err)
	}
	fields := jsonFields(t)
	seen := make(map[string]bool)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return syntaxError(err)
		}
		key, _ := tok.(string)
		name := key
		if path != "" {
			name = path + "." + key
		}
		if seen[key] {
			return badBody("duplicate key %q: each field may appear once", name)
		}
		seen[key] = true
		ft, known := fields[key]
		if fields != nil && !known {
			return badBody("unknown field %q (field names are case-sensitive)", name)
		}
		if err := checkKeys(dec, ft, name); err != nil {
			return err
		}
	}
	_, err = dec.Token()
	return syntaxError(err)
}

// jsonFields maps the json names of struct t's fields to their types; nil
// when t is not a struct (a map, or any: every key is allowed).
func jsonFields(t reflect.Type) map[string]reflect.Type {
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	out := make(map[string]reflect.Type)
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

func elemType(t reflect.Type) reflect.Type {
	if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
		return t.Elem()
	}
	return nil
}

func syntaxError(err error) error {
	if err == nil {
		return nil
	}
	return badBody("the request body is not valid JSON")
}

// jsonKind says what JSON a Go type takes, in the API's words.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return "an object"
}
