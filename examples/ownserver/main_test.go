package main

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The program runs as the README shows it, and prints what each step did.
func Example_main() {
	main()
	// Output:
	// create: 200 aws
	// unconfirmed: 428
	// switch: 200 hetzner cpx31
	// reconcile: <nil> listed map[aws:0 hetzner:1] orphans 0
}

// TestTheREADMEShowsThisProgram fails when the README's copy of the program
// drifts from this file: the README's "Using it in your own server" shows
// main.go whole, so that what a reader copies compiles and runs.
func TestTheREADMEShowsThisProgram(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	program, err := os.ReadFile("main.go")
	require.NoError(t, err)

	section, ok := strings.CutPrefix(string(readme)[strings.Index(string(readme), "## Using it in your own server"):], "## Using it in your own server")
	require.True(t, ok, "the README has no section \"Using it in your own server\"")
	_, block, ok := strings.Cut(section, "```go\n")
	require.True(t, ok, "the section has no Go block")
	block, _, ok = strings.Cut(block, "```\n")
	require.True(t, ok, "the Go block is not closed")
	require.Equal(t, string(program), block,
		"the README's program differs from examples/ownserver/main.go: copy the file into the README (or the README's change into the file)")
}
