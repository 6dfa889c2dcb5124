// Package wiring is what the programs of this module share: the command
// cloudswitch and the example programs (examples/httpserver and
// examples/reconciler). It holds flags that fall back to environment
// variables, opening the workspace database, connecting the drivers of the
// emulated or the real clouds, the options of the Switcher and the
// Reconciler, and the reconciler's loop. It is plain wiring, kept in one
// place so that programs which must see the same database and the same
// clouds cannot drift apart.
package wiring
