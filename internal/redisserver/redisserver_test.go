package redisserver

import (
	"strings"
	"testing"

	"github.com/go-kit/log"
)

func TestRedisServerLinesBecomeLogfmt(t *testing.T) {
	var b strings.Builder
	logRedis(strings.NewReader("32036:C 02 Dec 2026 02:37:20.586 # oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo\n\n"+
		"32036:M 02 Dec 2026 02:37:21.909 * Ready to accept connections\n"), log.NewLogfmtLogger(&b))
	want := "level=warning msg=\"oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo\"\nlevel=notice msg=\"Ready to accept connections\"\n"
	if b.String() != want {
		t.Errorf("want\n%s\nhave\n%s", want, b.String())
	}
}
