package orderstore_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/orderflow/orderflow/internal/docstore"
	"github.com/orderflow/orderflow/internal/docstore/mongostore"
	"github.com/orderflow/orderflow/internal/testenv"
	"github.com/orderflow/orderflow/ordersvc/order"
	"github.com/orderflow/orderflow/ordersvc/orderstore"
)

func TestOutboxInMemory(t *testing.T) {
	testOutbox(t, func(*testing.T) docstore.Database { return docstore.NewMemory() })
}

func TestOutboxOnFerretDB(t *testing.T) {
	client := testenv.Mongo(t, testenv.FerretDB(t))
	testOutbox(t, func(*testing.T) docstore.Database {
		return mongostore.New(client.Database("outbox_" + bson.NewObjectID().Hex()))
	})
}

// slot0 starts a slot, and a collection of slots.
var slot0 = time.Unix(1_800_000_000, 0).UTC()

// dueLog is a DueFunc that records the entries it is handed and keeps none.
type dueLog struct {
	mu   sync.Mutex
	seen []string
}

func (d *dueLog) due(_ context.Context, e order.OutboxEntry) (order.OutboxEntry, time.Time, bool, error) {
	d.mu.Lock()
	d.seen = append(d.seen, e.OrderID)
	d.mu.Unlock()
	return order.OutboxEntry{}, time.Time{}, false, nil
}

func (d *dueLog) orders() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := slices.Clone(d.seen)
	slices.Sort(s)
	return s
}

func newOutbox(db docstore.Database, lane int, c *testenv.Clock) *orderstore.Outbox {
	return orderstore.NewOutbox(db, fmt.Sprintf("replica-%d", lane), lane, orderstore.OutboxClock(c.Now))
}

func entry(id string) order.OutboxEntry {
	return order.OutboxEntry{OrderID: id, Awaits: order.Pending, Since: slot0}
}

// after is the time a slot's sweep by the lane's owner is due.
func after(slot time.Time) time.Time { return slot.Add(time.Second + orderstore.OutboxSweepGrace) }

func testOutbox(t *testing.T, newDB func(*testing.T) docstore.Database) {
	ctx := context.Background()

	t.Run("an entry is due once, when its slot is swept", func(t *testing.T) {
		c := testenv.NewClock(slot0)
		o := newOutbox(newDB(t), 0, c)
		var d dueLog
		if err := o.Sweep(ctx, d.due); err != nil { // a replica starting
			t.Fatal(err)
		}
		if err := o.Schedule(ctx, slot0.Add(2*time.Second), entry("a"), entry("b")); err != nil {
			t.Fatal(err)
		}
		c.Set(after(slot0.Add(time.Second)))
		if err := o.Sweep(ctx, d.due); err != nil {
			t.Fatal(err)
		}
		if len(d.orders()) != 0 {
			t.Fatalf("due before its time: %v", d.orders())
		}
		for _, at := range []time.Time{after(slot0.Add(2 * time.Second)), after(slot0.Add(20 * time.Second))} {
			c.Set(at)
			if err := o.Sweep(ctx, d.due); err != nil {
				t.Fatal(err)
			}
		}
		if have := d.orders(); !slices.Equal(have, []string{"a", "b"}) {
			t.Errorf("want [a b] due once, have %v", have)
		}
	})

	t.Run("an entry kept is due again at the time it is kept for", func(t *testing.T) {
		c := testenv.NewClock(slot0)
		o := newOutbox(newDB(t), 0, c)
		var times []time.Time
		keepTwice := func(_ context.Context, e order.OutboxEntry) (order.OutboxEntry, time.Time, bool, error) {
			times = append(times, c.Now())
			e.Attempt++
			return e, c.Now().Add(3 * time.Second), e.Attempt < 3, nil
		}
		if err := o.Sweep(ctx, keepTwice); err != nil {
			t.Fatal(err)
		}
		if err := o.Schedule(ctx, slot0, entry("a")); err != nil {
			t.Fatal(err)
		}
		for s := range 15 {
			c.Set(after(slot0.Add(time.Duration(s) * time.Second)))
			if err := o.Sweep(ctx, keepTwice); err != nil {
				t.Fatal(err)
			}
		}
		if len(times) != 3 || times[1].Sub(times[0]) < 3*time.Second || times[2].Sub(times[1]) < 3*time.Second {
			t.Errorf("want due 3 times, 3 seconds apart at least, have %v", times)
		}
	})

	t.Run("the entries of a replica that stopped are swept by another", func(t *testing.T) {
		db := newDB(t)
		c := testenv.NewClock(slot0)
		dead, live := newOutbox(db, 0, c), newOutbox(db, 1, c)
		var d dueLog
		if err := live.Sweep(ctx, d.due); err != nil {
			t.Fatal(err)
		}
		if err := dead.Schedule(ctx, slot0.Add(time.Second), entry("orphan")); err != nil {
			t.Fatal(err)
		}
		c.Set(after(slot0.Add(time.Second)))
		if err := live.Sweep(ctx, d.due); err != nil {
			t.Fatal(err)
		}
		if len(d.orders()) != 0 {
			t.Fatalf("another replica's lane swept before the takeover time: %v", d.orders())
		}
		c.Set(after(slot0.Add(time.Second)).Add(orderstore.TakeoverAfter))
		if err := live.Sweep(ctx, d.due); err != nil {
			t.Fatal(err)
		}
		if have := d.orders(); !slices.Equal(have, []string{"orphan"}) {
			t.Errorf("want [orphan], have %v", have)
		}
	})

	t.Run("a batch that comes after its lane was swept goes to a later slot", func(t *testing.T) {
		db := newDB(t)
		late, sweeper := testenv.NewClock(slot0), testenv.NewClock(slot0)
		writer, other := newOutbox(db, 0, late), newOutbox(db, 0, sweeper) // two replicas in one lane
		var d dueLog
		for _, o := range []*orderstore.Outbox{writer, other} {
			if err := o.Sweep(ctx, d.due); err != nil {
				t.Fatal(err)
			}
		}
		sweeper.Set(after(slot0))
		if err := other.Sweep(ctx, d.due); err != nil { // closes slot0's lane
			t.Fatal(err)
		}
		// The writer's clock, or the write itself, is late: it still aims
		// at the slot just swept.
		if err := writer.Schedule(ctx, slot0, entry("late")); err != nil {
			t.Fatal(err)
		}
		sweeper.Set(after(slot0.Add(time.Second)))
		if err := other.Sweep(ctx, d.due); err != nil {
			t.Fatal(err)
		}
		if have := d.orders(); !slices.Equal(have, []string{"late"}) {
			t.Errorf("want [late] swept from the next slot, have %v", have)
		}
	})

	t.Run("a replica that starts sweeps what was left unswept before it", func(t *testing.T) {
		db := newDB(t)
		c := testenv.NewClock(slot0.Add(30 * time.Second))
		first := newOutbox(db, 2, c)
		if err := first.Schedule(ctx, c.Now().Add(time.Second), entry("left")); err != nil {
			t.Fatal(err)
		}
		// first stops; a minute later another starts, in the same lane.
		c.Set(slot0.Add(90 * time.Second))
		restarted := newOutbox(db, 2, c)
		var d dueLog
		for range 5 {
			if err := restarted.Sweep(ctx, d.due); err != nil {
				t.Fatal(err)
			}
		}
		if have := d.orders(); !slices.Equal(have, []string{"left"}) {
			t.Errorf("want [left], have %v", have)
		}
	})

	t.Run("concurrent schedules all come due", func(t *testing.T) {
		c := testenv.NewClock(slot0)
		o := newOutbox(newDB(t), 3, c)
		var d dueLog
		if err := o.Sweep(ctx, d.due); err != nil {
			t.Fatal(err)
		}
		var want []string
		var wg sync.WaitGroup
		for i := range 40 {
			id := fmt.Sprintf("o%02d", i)
			want = append(want, id)
			wg.Go(func() {
				if err := o.Schedule(ctx, slot0.Add(time.Second), entry(id)); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		c.Set(after(slot0.Add(time.Second)))
		if err := o.Sweep(ctx, d.due); err != nil {
			t.Fatal(err)
		}
		if have := d.orders(); !slices.Equal(have, want) {
			t.Errorf("want %v, have %v", want, have)
		}
	})
}

// The outbox keeps a collection per ten minutes of slots, and drops those
// swept long enough ago: it stays small however long it runs.
func TestOutboxDropsOldSweptCollections(t *testing.T) {
	ctx := context.Background()
	db := docstore.NewMemory()
	c := testenv.NewClock(slot0)
	o := newOutbox(db, 0, c)
	var d dueLog
	if err := o.Sweep(ctx, d.due); err != nil {
		t.Fatal(err)
	}
	if err := o.Schedule(ctx, slot0.Add(time.Second), entry("a")); err != nil {
		t.Fatal(err)
	}
	epoch := time.Duration(orderstore.OutboxEpochSlots) * time.Second
	for at := slot0; at.Before(slot0.Add(5 * epoch)); at = at.Add(time.Second) {
		c.Set(at)
		if err := o.Sweep(ctx, d.due); err != nil {
			t.Fatal(err)
		}
	}
	names, _ := db.CollectionNames(ctx)
	var outboxes []string
	for _, n := range names {
		if strings.HasPrefix(n, "outbox_") {
			outboxes = append(outboxes, n)
		}
	}
	if len(outboxes) > 4 {
		t.Errorf("after 5 collections' time, want at most 4 kept, have %v", outboxes)
	}
	if have := d.orders(); !slices.Equal(have, []string{"a"}) {
		t.Errorf("want [a] due once, have %v", have)
	}
}
