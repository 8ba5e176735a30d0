package process

import (
	"runtime"
	"strings"
	"testing"
)

// TestVersionPrefersWhatTheLinkerSet: the version and commit that the
// Dockerfile sets with -X come before the build info's, and without them
// the build info still answers.
func TestVersionPrefersWhatTheLinkerSet(t *testing.T) {
	defer func(v, c string) { version, commit = v, c }(version, commit)
	const rev = "0123456789abcdef0123456789abcdef01234567"
	goRelease := ", " + runtime.Version() + ")"

	version, commit = "v1.2.3", rev
	if have, want := Version("gateway"), "gateway v1.2.3 (commit "+rev+goRelease; have != want {
		t.Errorf("with both set, have %q, want %q", have, want)
	}

	version, commit = "v1.2.3", ""
	if have := Version("gateway"); !strings.HasPrefix(have, "gateway v1.2.3 (commit ") || strings.Contains(have, rev) {
		t.Errorf("with the version alone set, have %q", have)
	}

	version, commit = "", ""
	have := Version("gateway")
	if !strings.HasPrefix(have, "gateway ") || !strings.HasSuffix(have, goRelease) || strings.Contains(have, "v1.2.3") || strings.Contains(have, rev) {
		t.Errorf("with neither set, have %q, want the build info's version and commit", have)
	}
}
