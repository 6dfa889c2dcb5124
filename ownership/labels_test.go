package ownership

import (
	"errors"
	"testing"
)

func TestDecodeLabelsReadsWhatEncodeLabelWrote(t *testing.T) {
	ws, err := EncodeLabel("Team/Alpha 1")
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeLabels(map[string]string{WorkspaceKey: ws, TokenKey: "0123abcd", OwnerKey: "acme"})
	if err != nil {
		t.Fatalf("DecodeLabels: %v", err)
	}
	if want := (Labels{Workspace: "Team/Alpha 1", Token: "0123abcd"}); got != want {
		t.Fatalf("DecodeLabels = %+v; want %+v (an absent installation is empty)", got, want)
	}
}

func TestDecodeLabelsNamesTheFirstLabelThatDoesNotDecodeAndKeepsItRaw(t *testing.T) {
	got, err := DecodeLabels(map[string]string{WorkspaceKey: "ws-1", TokenKey: "x-!!", InstallationKey: "x-##"})
	var le *LabelError
	if !errors.As(err, &le) || le.Key != TokenKey {
		t.Fatalf("DecodeLabels error = %v; want a *LabelError naming %s, the first that does not decode", err, TokenKey)
	}
	if got.Workspace != "ws-1" || got.Token != "x-!!" || got.Installation != "x-##" {
		t.Fatalf("DecodeLabels = %+v; want the decodable label decoded and the others raw", got)
	}
}
