package httpserver

import (
	"net"
	"strings"
	"testing"
)

func TestABusyPortNamesTheFlagAndVariable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, err = Listen(ln.Addr().String(), "http.addr", "SVC_HTTP_ADDR")
	if err == nil || !strings.Contains(err.Error(), "already in use") || !strings.Contains(err.Error(), "-http.addr or SVC_HTTP_ADDR") {
		t.Errorf("want a busy-port error naming the flag and variable, have %v", err)
	}
}
