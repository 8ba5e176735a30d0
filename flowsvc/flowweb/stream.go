package flowweb

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/go-kit/kit/metrics"
	"github.com/go-kit/kit/metrics/discard"
	"github.com/go-kit/log"

	"github.com/orderflow/orderflow/flowsvc/flow"
)

// Step is the JSON of one step of an order on the stream.
type Step struct {
	OrderID       string    `json:"orderId"`
	Step          string    `json:"step"` // created, paid, declined, cancelled or refunded
	At            time.Time `json:"at"`
	CorrelationID string    `json:"correlationId"`
	Detail        string    `json:"detail"`
	// Again marks a step the order had taken before: a redelivery or a
	// duplicate of its event. Times counts them, the first included.
	Again bool `json:"again"`
	Times int  `json:"times"`
}

// Stats is the JSON of the summary the stream sends every second.
type Stats struct {
	OrdersPerMinute int     `json:"ordersPerMinute"`
	SettleMedianMs  float64 `json:"settleMedianMs"`
	SettleSamples   int     `json:"settleSamples"`
	// Orders is how many orders the server remembers (what a new page
	// gets first); Watchers how many pages watch this replica.
	Orders   int `json:"orders"`
	Watchers int `json:"watchers"`
	// Receivers counts the subscribers of each channel; null when Redis
	// does not say.
	Receivers map[string]int64 `json:"receivers"`
	// Dropped is how many steps this connection missed because it read
	// too slowly.
	Dropped int64 `json:"dropped"`
}

// Stream serves the flow as Server-Sent Events:
//
//	event: reset   data {"history":N}: forget what you have, N steps follow
//	event: step    data Step, the history first, then live
//	event: live    data {}: the history is over
//	event: stats   data Stats, at once and then every second
type Stream struct {
	board       *flow.Board
	receivers   func() map[string]int64
	interval    time.Duration
	connections metrics.Counter
	logger      log.Logger

	closeOnce sync.Once
	closed    chan struct{}
}

// StreamOption sets an optional parameter of a Stream.
type StreamOption func(*Stream)

// StatsInterval sets how often the stats are sent (default 1s).
func StatsInterval(d time.Duration) StreamOption { return func(s *Stream) { s.interval = d } }

// CountConnections counts the streams opened.
func CountConnections(c metrics.Counter) StreamOption { return func(s *Stream) { s.connections = c } }

// NewStream returns the stream of board. receivers gives the subscriber
// counts of the channels (nil: unknown).
func NewStream(board *flow.Board, receivers func() map[string]int64, logger log.Logger, opts ...StreamOption) *Stream {
	s := &Stream{
		board: board, receivers: receivers, interval: time.Second,
		connections: discard.NewCounter(), logger: logger, closed: make(chan struct{}),
	}
	for _, opt := range opts {
		opt(s)
	}
	return s
}

// Close ends every stream being served, and those opened later at once:
// a server's Shutdown waits for its requests, and a stream never ends by
// itself. The browser's EventSource reconnects, to another replica or to
// this one started again.
func (s *Stream) Close() { s.closeOnce.Do(func() { close(s.closed) }) }

// writeTimeout bounds each write to a client: one that reads nothing for
// that long is given up.
const writeTimeout = 10 * time.Second

// batch is the most steps written between two flushes.
const batch = 512

func (s *Stream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	// The server's deadlines are for requests that end; this one lasts
	// until the client leaves. Each write gets its own deadline instead.
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})

	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // a proxy in front must not hold it back
	w.WriteHeader(http.StatusOK)
	s.connections.Add(1)

	history, watcher := s.board.Watch()
	defer watcher.Close()
	flush := func() error {
		_ = rc.SetWriteDeadline(time.Now().Add(writeTimeout))
		return rc.Flush()
	}
	fmt.Fprintf(w, "retry: 2000\n\n")
	writeEvent(w, "reset", map[string]int{"history": len(history)})
	for _, st := range history {
		writeEvent(w, "step", wireStep(st))
	}
	writeEvent(w, "live", struct{}{})
	writeEvent(w, "stats", s.stats(watcher))
	if err := flush(); err != nil {
		return
	}

	tick := time.NewTicker(s.interval)
	defer tick.Stop()
	for {
		select {
		case st := <-watcher.Steps():
			writeEvent(w, "step", wireStep(st))
		drain:
			for range batch - 1 {
				select {
				case st := <-watcher.Steps():
					writeEvent(w, "step", wireStep(st))
				default:
					break drain
				}
			}
		case <-tick.C:
			writeEvent(w, "stats", s.stats(watcher))
		case <-r.Context().Done():
			return
		case <-s.closed:
			return
		}
		if err := flush(); err != nil {
			if dropped := watcher.Dropped(); dropped > 0 {
				s.logger.Log("msg", "stream client gone after missing steps", "dropped", dropped, "err", err)
			}
			return
		}
	}
}

func (s *Stream) stats(w *flow.Watcher) Stats {
	st := s.board.Stats()
	return Stats{
		OrdersPerMinute: st.OrdersPerMinute,
		SettleMedianMs:  float64(st.SettleMedian.Microseconds()) / 1000,
		SettleSamples:   st.SettleSamples,
		Orders:          st.Orders,
		Watchers:        st.Watchers,
		Receivers:       s.receivers(),
		Dropped:         w.Dropped(),
	}
}

func wireStep(s flow.Step) Step {
	return Step{
		OrderID: s.OrderID, Step: s.Name, At: s.At, CorrelationID: s.CorrelationID,
		Detail: s.Detail, Again: s.Again(), Times: s.Times,
	}
}

// writeEvent writes one event. JSON has no newline, so data is one line.
func writeEvent(w io.Writer, name string, data any) {
	b, err := json.Marshal(data)
	if err != nil {
		b = []byte("null")
	}
	fmt.Fprintf(w, "event: %s\ndata: %s\n\n", name, b)
}
