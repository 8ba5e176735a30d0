package flow_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/go-kit/kit/metrics"

	"github.com/orderflow/orderflow/flowsvc/flow"
)

var t0 = time.Date(2026, 11, 25, 13, 14, 10, 0, time.UTC)

func step(order, name string, after time.Duration) flow.Step {
	return flow.Step{OrderID: order, Name: name, At: t0.Add(after), CorrelationID: "req-" + order}
}

// summary writes steps as "order:step×times" for comparisons.
func summary(steps []flow.Step) []string {
	var out []string
	for _, s := range steps {
		out = append(out, fmt.Sprintf("%s:%s×%d", s.OrderID, s.Name, s.Times))
	}
	return out
}

func TestARepeatedStepOfAnOrderIsMarkedAgain(t *testing.T) {
	b := flow.NewBoard(flow.Options{})
	for _, c := range []struct {
		step  flow.Step
		times int
		again bool
	}{
		{step("a", flow.Created, 0), 1, false},
		{step("a", flow.Paid, 8*time.Millisecond), 1, false},
		{step("a", flow.Created, time.Second), 2, true}, // the redeliverer's
		{step("a", flow.Paid, time.Second), 2, true},    // paymentsvc's answer to it
		{step("b", flow.Created, 0), 1, false},          // another order's is its first
		{step("a", flow.Paid, 2*time.Second), 3, true},
	} {
		have := b.Record(c.step)
		if have.Times != c.times || have.Again() != c.again {
			t.Errorf("%s %s: want times %d, again %v; have %d, %v", c.step.OrderID, c.step.Name, c.times, c.again, have.Times, have.Again())
		}
	}
	history, w := b.Watch()
	defer w.Close()
	// Each step once, at its first sighting, with the count as it stands.
	want := []string{"a:created×2", "a:paid×3", "b:created×1"}
	if have := summary(history); !slices.Equal(have, want) {
		t.Errorf("history: want %q, have %q", want, have)
	}
	if history[0].At != t0 {
		t.Errorf("the history keeps the first sighting's time: want %v, have %v", t0, history[0].At)
	}
}

func TestTheBoardRemembersOnlyTheLatestOrders(t *testing.T) {
	b := flow.NewBoard(flow.Options{History: 3})
	for i := range 5 {
		id := fmt.Sprint("order", i)
		b.Record(step(id, flow.Created, 0))
		b.Record(step(id, flow.Declined, time.Millisecond))
	}
	history, w := b.Watch()
	w.Close()
	want := []string{
		"order2:created×1", "order2:declined×1",
		"order3:created×1", "order3:declined×1",
		"order4:created×1", "order4:declined×1",
	}
	if have := summary(history); !slices.Equal(have, want) {
		t.Errorf("want the last 3 orders, oldest first: %q, have %q", want, have)
	}
	if st := b.Stats(); st.Orders != 3 {
		t.Errorf("want 3 orders remembered, have %d", st.Orders)
	}
	// A forgotten order comes back as a new one, and pushes out the oldest.
	if s := b.Record(step("order0", flow.Cancelled, time.Minute)); s.Times != 1 {
		t.Errorf("a forgotten order's step: want times 1, have %d", s.Times)
	}
	history, w = b.Watch()
	w.Close()
	if have := summary(history); have[0] != "order3:created×1" || have[len(have)-1] != "order0:cancelled×1" {
		t.Errorf("want order2 forgotten and order0 newest, have %q", have)
	}
}

func TestAWatcherGetsTheHistoryThenEveryStepLive(t *testing.T) {
	b := flow.NewBoard(flow.Options{})
	b.Record(step("a", flow.Created, 0))
	history, w := b.Watch()
	defer w.Close()
	b.Record(step("a", flow.Paid, 5*time.Millisecond))
	b.Record(step("a", flow.Paid, 6*time.Millisecond))
	if have := summary(history); !slices.Equal(have, []string{"a:created×1"}) {
		t.Errorf("history: have %q", have)
	}
	var live []flow.Step
	for range 2 {
		live = append(live, <-w.Steps())
	}
	if have := summary(live); !slices.Equal(have, []string{"a:paid×1", "a:paid×2"}) {
		t.Errorf("live: have %q", have)
	}
	w.Close()
	b.Record(step("a", flow.Cancelled, time.Second))
	select {
	case s := <-w.Steps():
		t.Errorf("a closed watcher got %+v", s)
	default:
	}
	if st := b.Stats(); st.Watchers != 0 {
		t.Errorf("want no watchers left, have %d", st.Watchers)
	}
}

func TestASlowWatcherMissesStepsAndHoldsUpNoOne(t *testing.T) {
	dropped := &counter{}
	b := flow.NewBoard(flow.Options{Buffer: 2, Dropped: dropped})
	_, slow := b.Watch() // reads nothing
	defer slow.Close()
	_, fast := b.Watch()
	defer fast.Close()

	done := make(chan []flow.Step)
	go func() {
		var got []flow.Step
		for i := range 10 {
			b.Record(step(fmt.Sprint("order", i), flow.Created, 0))
			got = append(got, <-fast.Steps())
		}
		done <- got
	}()
	var got []flow.Step
	select {
	case got = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Record blocked on a watcher that does not read")
	}
	if len(got) != 10 || fast.Dropped() != 0 {
		t.Errorf("the reading watcher: want all 10 steps and none dropped, have %d and %d dropped", len(got), fast.Dropped())
	}
	if slow.Dropped() != 8 || dropped.value != 8 {
		t.Errorf("the slow watcher: want 8 of 10 dropped (2 buffered) and counted, have %d and %v counted", slow.Dropped(), dropped.value)
	}
	if len(slow.Steps()) != 2 {
		t.Errorf("want the slow watcher's buffer full with the first 2, have %d", len(slow.Steps()))
	}
}

// counter is a metrics.Counter for one goroutine.
type counter struct{ value float64 }

func (c *counter) With(...string) metrics.Counter { return c }
func (c *counter) Add(delta float64)              { c.value += delta }

func TestStatsCountTheLastMinutesOrdersAndTheMedianSettleTime(t *testing.T) {
	now := t0 // the board reads it on the test's goroutine only
	b := flow.NewBoard(flow.Options{Now: func() time.Time { return now }})
	for i, took := range []time.Duration{10, 40, 20, 30} {
		id := fmt.Sprint("order", i)
		b.Record(step(id, flow.Created, 0))
		outcome := flow.Paid
		if i%2 == 1 {
			outcome = flow.Declined
		}
		b.Record(step(id, outcome, took*time.Millisecond))
		now = now.Add(10 * time.Second)
	}
	b.Record(step("order0", flow.Created, time.Second))       // a redelivery is no new order
	b.Record(step("order0", flow.Paid, 900*time.Millisecond)) // nor a new settle time
	b.Record(step("lost", flow.Paid, time.Millisecond))       // its creation unseen: no settle time

	st := b.Stats()
	if st.OrdersPerMinute != 4 || st.SettleSamples != 4 || st.SettleMedian != 25*time.Millisecond {
		t.Errorf("want 4 orders a minute and a median of 25ms over 4, have %d and %v over %d", st.OrdersPerMinute, st.SettleMedian, st.SettleSamples)
	}
	now = now.Add(35 * time.Second) // the first two are now older than a minute
	if st := b.Stats(); st.OrdersPerMinute != 2 {
		t.Errorf("after 75s: want 2 orders in the last minute, have %d", st.OrdersPerMinute)
	}
	now = now.Add(time.Hour)
	if st := b.Stats(); st.OrdersPerMinute != 0 || st.SettleMedian != 25*time.Millisecond {
		t.Errorf("an hour later: want 0 a minute and the median kept, have %d and %v", st.OrdersPerMinute, st.SettleMedian)
	}
}
