// Package architecture holds, as tests, the rules of the module's shape
// that a reader relies on and a compiler does not check: what the domain
// packages link, which test binaries link the embedded FerretDB, and that
// no package keeps state in its variables.
package architecture
