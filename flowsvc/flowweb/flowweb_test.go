package flowweb_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"

	"github.com/orderflow/orderflow/flowsvc/flow"
	"github.com/orderflow/orderflow/flowsvc/flowweb"
)

const orderID = "6b06df22a1b2c3d4e5f60718"

var t0 = time.Date(2026, 11, 25, 13, 14, 10, 0, time.UTC)

// newServer serves the page, stream and proxy of board, the proxy to
// gatewayURL, with server set up by setup before it starts.
func newServer(t *testing.T, board *flow.Board, gatewayURL string, setup func(*httptest.Server), opts ...flowweb.StreamOption) (*httptest.Server, *flowweb.Stream) {
	t.Helper()
	stream := flowweb.NewStream(board, func() map[string]int64 { return map[string]int64{"orders.created": 2} }, log.NewNopLogger(), opts...)
	mux := http.NewServeMux()
	flowweb.Mount(mux, stream, flowweb.NewProxy(gatewayURL, &http.Client{Timeout: 5 * time.Second}, log.NewNopLogger()))
	srv := httptest.NewUnstartedServer(mux)
	if setup != nil {
		setup(srv)
	}
	srv.Start()
	t.Cleanup(func() {
		stream.Close()
		srv.Close()
	})
	return srv, stream
}

// sse reads the events of a stream.
type sse struct {
	t    *testing.T
	body io.ReadCloser
	r    *bufio.Reader
}

type sseEvent struct {
	name string
	data string
}

func openStream(t *testing.T, url string) *sse {
	t.Helper()
	resp, err := http.Get(url + "/events")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("GET /events: %s, %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	return &sse{t: t, body: resp.Body, r: bufio.NewReader(resp.Body)}
}

// next returns the next event, skipping the retry advice; io.EOF when the
// stream ends.
func (s *sse) next() (sseEvent, error) {
	var e sseEvent
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			return e, err
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "" && e.name != "":
			return e, nil
		case strings.HasPrefix(line, "event: "):
			e.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			e.data = strings.TrimPrefix(line, "data: ")
		}
	}
}

// nextNamed returns the next event called name, skipping the others.
func (s *sse) nextNamed(name string) sseEvent {
	s.t.Helper()
	for {
		e, err := s.next()
		if err != nil {
			s.t.Fatalf("waiting for %s: %v", name, err)
		}
		if e.name == name {
			return e
		}
	}
}

func decode[T any](t *testing.T, e sseEvent) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(e.data), &v); err != nil {
		t.Fatalf("%s %q: %v", e.name, e.data, err)
	}
	return v
}

func TestTheStreamSendsTheHistoryThenLiveStepsAndStats(t *testing.T) {
	board := flow.NewBoard(flow.Options{})
	board.Record(flow.Step{OrderID: orderID, Name: flow.Created, At: t0, CorrelationID: "c1", Detail: "user demo, product 1, RM 12.50"})
	srv, _ := newServer(t, board, "http://127.0.0.1:1", nil, flowweb.StatsInterval(20*time.Millisecond))
	s := openStream(t, srv.URL)

	var names []string
	for range 4 {
		e, err := s.next()
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, e.name)
		switch e.name {
		case "reset":
			if have := decode[map[string]int](t, e); have["history"] != 1 {
				t.Errorf("reset: want a history of 1 step, have %v", have)
			}
		case "step":
			want := flowweb.Step{OrderID: orderID, Step: "created", At: t0, CorrelationID: "c1", Detail: "user demo, product 1, RM 12.50", Times: 1}
			if have := decode[flowweb.Step](t, e); have != want {
				t.Errorf("history: want %+v, have %+v", want, have)
			}
		case "stats":
			st := decode[flowweb.Stats](t, e)
			if st.Orders != 1 || st.Watchers != 1 || st.Receivers["orders.created"] != 2 {
				t.Errorf("stats: want 1 order, 1 watcher, 2 receivers, have %+v", st)
			}
		}
	}
	if want := "reset,step,live,stats"; strings.Join(names, ",") != want {
		t.Errorf("want %s first, have %s", want, strings.Join(names, ","))
	}

	board.Record(flow.Step{OrderID: orderID, Name: flow.Paid, At: t0.Add(8 * time.Millisecond), CorrelationID: "c1", Detail: "payment p1"})
	board.Record(flow.Step{OrderID: orderID, Name: flow.Paid, At: t0.Add(time.Second), CorrelationID: "c1", Detail: "payment p1"})
	firstEvent, againEvent := s.nextNamed("step"), s.nextNamed("step")
	first, again := decode[flowweb.Step](t, firstEvent), decode[flowweb.Step](t, againEvent)
	if first.Step != "paid" || first.Again || again.Step != "paid" || !again.Again || again.Times != 2 {
		t.Errorf("want paid, then paid again (times 2); have %+v and %+v", first, again)
	}
	// The message's fields are named as the page reads them.
	raw := decode[map[string]any](t, againEvent)
	for _, key := range []string{"orderId", "step", "at", "correlationId", "detail", "again", "times"} {
		if _, ok := raw[key]; !ok {
			t.Errorf("a step has no %s: %s", key, againEvent.data)
		}
	}
}

func TestTheStreamOutlivesTheServersTimeouts(t *testing.T) {
	board := flow.NewBoard(flow.Options{})
	const timeout = 50 * time.Millisecond
	srv, _ := newServer(t, board, "http://127.0.0.1:1", func(s *httptest.Server) {
		s.Config.ReadTimeout, s.Config.WriteTimeout = timeout, timeout
	}, flowweb.StatsInterval(10*time.Millisecond))
	s := openStream(t, srv.URL)
	begin := time.Now()
	for time.Since(begin) < 5*timeout {
		s.nextNamed("stats")
	}
	board.Record(flow.Step{OrderID: orderID, Name: flow.Created, At: t0})
	if st := decode[flowweb.Step](t, s.nextNamed("step")); st.Step != "created" {
		t.Errorf("want the step created, have %+v", st)
	}
}

func TestClosingTheStreamEndsEveryConnection(t *testing.T) {
	srv, stream := newServer(t, flow.NewBoard(flow.Options{}), "http://127.0.0.1:1", nil)
	s := openStream(t, srv.URL)
	s.nextNamed("live")
	stream.Close()
	done := make(chan error, 1)
	go func() {
		for {
			if _, err := s.next(); err != nil {
				done <- err
				return
			}
		}
	}()
	select {
	case err := <-done:
		if err != io.EOF {
			t.Errorf("want the stream ended, have %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the stream went on after Close")
	}
	// A page that reconnects to a stopping server gets what there is, and
	// the end: its EventSource tries again later, maybe elsewhere.
	again := openStream(t, srv.URL)
	again.nextNamed("stats")
	if e, err := again.next(); err != io.EOF {
		t.Errorf("a stream opened after Close: want it ended after the history and stats, have %v %v", e, err)
	}
}

func TestThePageIsServedWithItsFiles(t *testing.T) {
	srv, _ := newServer(t, flow.NewBoard(flow.Options{}), "http://127.0.0.1:1", nil)
	for _, c := range []struct {
		path, contentType, contains string
	}{
		{"/", "text/html; charset=utf-8", `id="order-paid"`},
		{"/page/flow.js", "text/javascript; charset=utf-8", `new EventSource("/events")`},
		{"/page/flow.css", "text/css; charset=utf-8", ".s-paid"},
	} {
		resp, err := http.Get(srv.URL + c.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != c.contentType || !strings.Contains(string(body), c.contains) {
			t.Errorf("GET %s: want 200 %s with %q, have %s %s", c.path, c.contentType, c.contains, resp.Status, resp.Header.Get("Content-Type"))
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
			t.Errorf("GET %s: want a same-origin Content-Security-Policy, have %q", c.path, csp)
		}
	}
	for _, c := range []struct {
		method, path string
		status       int
	}{
		{"POST", "/events", http.StatusMethodNotAllowed},
		{"GET", "/orders", http.StatusMethodNotAllowed},
	} {
		req, _ := http.NewRequest(c.method, srv.URL+c.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.status {
			t.Errorf("%s %s: want %d, have %s", c.method, c.path, c.status, resp.Status)
		}
	}
}
