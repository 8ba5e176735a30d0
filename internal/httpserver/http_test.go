package httpserver

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// A request framed both by Content-Length and by chunks is answered, then
// its connection is closed: what follows it on that connection (a request
// smuggled in its body, as a proxy that believed Content-Length would pass
// it on) is never read.
func TestARequestWithTwoFramingsHasItsConnectionClosedAfterItsAnswer(t *testing.T) {
	var served atomic.Int32
	srv := NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		served.Add(1)
		_, _ = w.Write([]byte("ok"))
	}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	smuggled := "POST /orders HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n" +
		"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
	if _, err := c.Write([]byte(smuggled)); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(c)
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !resp.Close {
		t.Errorf("want 200 closing the connection, have %d Connection: %q", resp.StatusCode, resp.Header.Get("Connection"))
	}
	if _, err := http.ReadResponse(r, nil); err == nil || !(err == io.EOF || strings.Contains(err.Error(), "EOF") || strings.Contains(err.Error(), "reset")) {
		t.Errorf("want the connection closed, have another answer (%v)", err)
	}
	if n := served.Load(); n != 1 {
		t.Errorf("want 1 request served, have %d", n)
	}

	// One framing, on a connection kept alive: both are served.
	c2, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	_ = c2.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c2.Write([]byte("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nabcdGET /b HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	r2 := bufio.NewReader(c2)
	for i := range 2 {
		resp, err := http.ReadResponse(r2, nil)
		if err != nil {
			t.Fatalf("answer %d on a kept-alive connection: %v", i, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}
