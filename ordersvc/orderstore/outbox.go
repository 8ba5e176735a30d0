package orderstore

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/orderflow/orderflow/ordersvc/order"

	"golang.org/x/sync/errgroup"

	"github.com/orderflow/orderflow/internal/docstore"
	"github.com/orderflow/orderflow/internal/groupcommit"
)

// Outbox remembers, in the store, which orders await an answer from
// paymentsvc and when to announce each of them again, so that an
// announcement lost on the way (Redis pub/sub keeps nothing for a
// subscriber that is away) or never sent (a crash) is sent again.
//
// It is a timing wheel whose every read and write names a document by _id.
// Time is cut into one-second slots, and each slot into a few lanes; a
// replica writes into one lane. The entries due in a slot are batches
// numbered 0, 1, 2... in each lane: a writer inserts the next number, and a
// taken number tells it to try the one after. When a slot is due, its
// lane's owner reads the batches up to the first missing number and inserts
// a closing document under that number, so no batch can be added after the
// lane was read: the insert settles the race, on MongoDB and FerretDB
// alike. It announces what is still unanswered, writes it into a later
// slot, and marks the lane swept. Every replica sweeps the lanes that are
// not swept a few seconds after they were due, so a dead replica's entries
// are swept too.
//
// Writers batch (package groupcommit): the entries scheduled while one
// batch is being written go into the next, so under load the outbox costs
// a fraction of an insert per order. Slots live in one collection per ten minutes, dropped once
// every slot in it is swept and it is old, so the outbox stays small.
type Outbox struct {
	db      docstore.Database
	lane    int
	replica string
	now     func() time.Time

	writes *groupcommit.Queue[scheduled] // of flush

	mu     sync.Mutex
	lanes  map[laneSlot]*laneState // what this process knows of lanes not yet swept
	epochs map[int64]bool          // collections known to exist

	// Sweeping state, of one sweeper at a time.
	sweep    sync.Mutex
	ownNext  int64 // first slot of this replica's lane not swept
	takeNext int64 // first slot whose lanes may not all be swept; 0: not looked for
}

// Shape of the wheel.
const (
	// OutboxLanes is how many lanes each slot has: replicas pick one each.
	OutboxLanes = 4
	// epochSlots is how many one-second slots share a collection.
	epochSlots = 600
	// keepEpochs is how many swept collections are kept before the
	// current one.
	keepEpochs = 2
	// sweepGrace is how long after a slot ends its lane's owner sweeps it:
	// a little time for batches on their way to land.
	sweepGrace = 250 * time.Millisecond
	// TakeoverAfter is how long after that any replica sweeps a lane
	// left unswept: the longest an entry of a dead replica waits.
	TakeoverAfter = 5 * time.Second
	// takeoverSlots bounds the slots one sweep takes over, so that catching
	// up after a long stop does not hold back the replica's own lane.
	takeoverSlots = 60
)

type laneSlot struct {
	slot int64
	lane int
}

// laneState is what this process knows of a lane of a slot.
type laneState struct {
	next    int                         // the first batch number not known to be taken
	batches map[int][]order.OutboxEntry // batches known, written here or read
	closed  bool
}

// scheduled is a request to write entries into a slot.
type scheduled struct {
	slot    int64
	entries []order.OutboxEntry
}

// Documents of the wheel, in the collection of their slot's epoch.
type (
	batchDoc struct {
		ID      string     `bson:"_id"` // "<slot>/<lane>/<n>"
		Closed  bool       `bson:"closed,omitempty"`
		Entries []entryDoc `bson:"entries,omitempty"`
		By      string     `bson:"by"`
	}
	// entryDoc is an order.OutboxEntry.
	entryDoc struct {
		OrderID string    `bson:"o"`
		Awaits  string    `bson:"a"`
		Attempt int       `bson:"n"`
		Since   time.Time `bson:"s"`
	}
	// markDoc marks a lane of a slot swept ("<slot>/<lane>/end"), all its
	// lanes ("<slot>/end"), or the whole collection ("done").
	markDoc struct {
		ID string    `bson:"_id"`
		At time.Time `bson:"at"`
		By string    `bson:"by"`
	}
)

func docsOf(entries []order.OutboxEntry) []entryDoc {
	docs := make([]entryDoc, len(entries))
	for i, e := range entries {
		docs[i] = entryDoc{OrderID: e.OrderID, Awaits: string(e.Awaits), Attempt: e.Attempt, Since: e.Since}
	}
	return docs
}

func entriesOf(docs []entryDoc) []order.OutboxEntry {
	entries := make([]order.OutboxEntry, len(docs))
	for i, d := range docs {
		entries[i] = order.OutboxEntry{OrderID: d.OrderID, Awaits: order.PaymentStatus(d.Awaits), Attempt: d.Attempt, Since: d.Since}
	}
	return entries
}

func batchID(slot int64, lane, n int) string {
	return strconv.FormatInt(slot, 10) + "/" + strconv.Itoa(lane) + "/" + strconv.Itoa(n)
}
func laneEndID(slot int64, lane int) string {
	return strconv.FormatInt(slot, 10) + "/" + strconv.Itoa(lane) + "/end"
}
func slotEndID(slot int64) string { return strconv.FormatInt(slot, 10) + "/end" }

const outboxPrefix = "outbox_"

func epochOf(slot int64) int64           { return slot / epochSlots }
func epochCollection(epoch int64) string { return outboxPrefix + strconv.FormatInt(epoch, 10) }

// NewOutbox returns the Outbox of db for a replica named replica (which
// only its documents' "by" shows), writing into lane (taken modulo the
// number of lanes; replicas that share one only do some work twice).
func NewOutbox(db docstore.Database, replica string, lane int, opts ...OutboxOption) *Outbox {
	o := &Outbox{
		db: db, replica: replica, lane: ((lane % OutboxLanes) + OutboxLanes) % OutboxLanes,
		now:    func() time.Time { return time.Now().UTC() },
		lanes:  map[laneSlot]*laneState{},
		epochs: map[int64]bool{},
	}
	for _, opt := range opts {
		opt(o)
	}
	o.writes = groupcommit.New(0, o.flush)
	return o
}

// OutboxOption configures an Outbox.
type OutboxOption func(*Outbox)

// OutboxClock makes the outbox read the time from now, which tests move on.
func OutboxClock(now func() time.Time) OutboxOption {
	return func(o *Outbox) { o.now = now }
}

// Schedule stores the entries, due at at (or now, if that is sooner), and
// returns once they are stored.
func (o *Outbox) Schedule(ctx context.Context, at time.Time, entries ...order.OutboxEntry) error {
	return storeErr(o.writes.Do(ctx, scheduled{slot: max(at.Unix(), o.now().Unix()), entries: entries}))
}

// flush writes what was scheduled together, as one batch per slot.
func (o *Outbox) flush(reqs []groupcommit.Request[scheduled]) []error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	bySlot := map[int64][]int{} // the indexes of reqs of each slot
	for i, r := range reqs {
		bySlot[r.Item.slot] = append(bySlot[r.Item.slot], i)
	}
	errs := make([]error, len(reqs))
	for slot, is := range bySlot {
		var entries []order.OutboxEntry
		for _, i := range is {
			entries = append(entries, reqs[i].Item.entries...)
		}
		err := o.write(ctx, slot, entries)
		for _, i := range is {
			errs[i] = err
		}
	}
	return errs
}

// write inserts a batch into this replica's lane of slot, or of a later
// slot when that lane was closed meanwhile.
func (o *Outbox) write(ctx context.Context, slot int64, entries []order.OutboxEntry) error {
	for {
		coll, err := o.collection(ctx, slot)
		if err != nil {
			return err
		}
		o.mu.Lock()
		st := o.laneState(slot, o.lane)
		closed, n := st.closed, st.next
		o.mu.Unlock()
		if closed {
			slot = max(slot+1, o.now().Unix())
			continue
		}
		err = coll.Insert(ctx, batchDoc{ID: batchID(slot, o.lane, n), Entries: docsOf(entries), By: o.replica})
		if err != nil && !errors.Is(err, docstore.ErrDuplicate) {
			return err
		}
		if err == nil {
			o.mu.Lock()
			st.batches[n], st.next = entries, max(st.next, n+1)
			o.mu.Unlock()
			return nil
		}
		// Taken: another replica's batch, or the lane was closed.
		var d batchDoc
		if err := coll.Find(ctx, batchID(slot, o.lane, n), &d); err != nil {
			return err
		}
		o.mu.Lock()
		if d.Closed {
			st.closed = true
		} else {
			st.batches[n], st.next = entriesOf(d.Entries), max(st.next, n+1)
		}
		o.mu.Unlock()
	}
}

// laneState returns what is known of a lane of a slot. The caller holds mu.
func (o *Outbox) laneState(slot int64, lane int) *laneState {
	k := laneSlot{slot, lane}
	st := o.lanes[k]
	if st == nil {
		st = &laneState{batches: map[int][]order.OutboxEntry{}}
		o.lanes[k] = st
	}
	return st
}

// collection returns the collection of slot's epoch, created if need be.
func (o *Outbox) collection(ctx context.Context, slot int64) (docstore.Collection, error) {
	e := epochOf(slot)
	o.mu.Lock()
	exists := o.epochs[e]
	o.mu.Unlock()
	if !exists {
		if err := o.db.CreateCollection(ctx, epochCollection(e)); err != nil {
			return nil, err
		}
		o.mu.Lock()
		o.epochs[e] = true
		o.mu.Unlock()
	}
	return o.db.Collection(epochCollection(e)), nil
}

// Sweep sweeps what is due now: this replica's lane of every slot past its
// grace, and any lane left unswept past the takeover time. due handles each
// entry found. It stops at the first failure; the next sweep goes on from
// there.
func (o *Outbox) Sweep(ctx context.Context, due order.DueFunc) (err error) {
	defer func() { err = storeErr(err) }()
	o.sweep.Lock()
	defer o.sweep.Unlock()
	now := o.now()
	if o.ownNext == 0 {
		o.ownNext = now.Unix()
	}
	if o.takeNext == 0 {
		first, err := o.firstUnswept(ctx, now)
		if err != nil {
			return err
		}
		o.takeNext = first
	}
	// The next minute's collection exists before it is written to, so the
	// store has indexed it by then.
	if _, err := o.collection(ctx, now.Add(time.Minute).Unix()); err != nil {
		return err
	}
	for ; !now.Before(slotTime(o.ownNext + 1).Add(sweepGrace)); o.ownNext++ {
		if err := o.sweepLane(ctx, o.ownNext, o.lane, due); err != nil {
			return err
		}
	}
	for i := 0; i < takeoverSlots && !now.Before(slotTime(o.takeNext+1).Add(sweepGrace+TakeoverAfter)); i++ {
		if err := o.sweepSlot(ctx, o.takeNext, due); err != nil {
			return err
		}
		o.takeNext++
	}
	return nil
}

func slotTime(slot int64) time.Time { return time.Unix(slot, 0).UTC() }

// firstUnswept returns the first slot of the oldest collection that is not
// marked swept, or the current slot when every collection is; it drops the
// swept collections that are old.
func (o *Outbox) firstUnswept(ctx context.Context, now time.Time) (int64, error) {
	names, err := o.db.CollectionNames(ctx)
	if err != nil {
		return 0, err
	}
	var epochs []int64
	for _, name := range names {
		if s, ok := strings.CutPrefix(name, outboxPrefix); ok {
			if e, err := strconv.ParseInt(s, 10, 64); err == nil {
				epochs = append(epochs, e)
			}
		}
	}
	slices.Sort(epochs)
	current := epochOf(now.Unix())
	for _, e := range epochs {
		done, err := docstore.Exists(ctx, o.db.Collection(epochCollection(e)), "done")
		if err != nil {
			return 0, err
		}
		if !done {
			return max(e*epochSlots, 1), nil
		}
		if e <= current-keepEpochs {
			if err := o.db.DropCollection(ctx, epochCollection(e)); err != nil {
				return 0, err
			}
		}
	}
	return now.Unix(), nil
}

// sweepSlot sweeps every lane of slot not swept yet.
func (o *Outbox) sweepSlot(ctx context.Context, slot int64, due order.DueFunc) error {
	coll, err := o.collection(ctx, slot)
	if err != nil {
		return err
	}
	if ok, err := docstore.Exists(ctx, coll, slotEndID(slot)); err != nil || ok {
		return err
	}
	for lane := range OutboxLanes {
		ok, err := docstore.Exists(ctx, coll, laneEndID(slot, lane))
		if err != nil {
			return err
		}
		if !ok {
			if err := o.sweepLane(ctx, slot, lane, due); err != nil {
				return err
			}
		}
	}
	if err := o.mark(ctx, coll, slotEndID(slot)); err != nil {
		return err
	}
	if (slot+1)%epochSlots == 0 { // the last slot of its collection
		e := epochOf(slot)
		if err := o.mark(ctx, coll, "done"); err != nil {
			return err
		}
		if err := o.db.DropCollection(ctx, epochCollection(e-keepEpochs)); err != nil {
			return err
		}
	}
	return nil
}

// sweepLane reads the batches of a lane of a slot, closes it, hands each
// entry to due, writes the entries to keep into later slots, and marks the
// lane swept.
func (o *Outbox) sweepLane(ctx context.Context, slot int64, lane int, due order.DueFunc) error {
	coll, err := o.collection(ctx, slot)
	if err != nil {
		return err
	}
	o.mu.Lock()
	st := o.laneState(slot, lane)
	o.mu.Unlock()
	var entries []order.OutboxEntry
	for n := 0; ; n++ {
		o.mu.Lock()
		b, known := st.batches[n]
		o.mu.Unlock()
		if known {
			entries = append(entries, b...)
			continue
		}
		var d batchDoc
		err := coll.Find(ctx, batchID(slot, lane, n), &d)
		if errors.Is(err, docstore.ErrNotFound) {
			// The first free number: closing it ends the lane, unless a
			// batch takes it first, which is then read.
			err = coll.Insert(ctx, batchDoc{ID: batchID(slot, lane, n), Closed: true, By: o.replica})
			if errors.Is(err, docstore.ErrDuplicate) {
				n--
				continue
			}
			if err != nil {
				return err
			}
			break
		}
		if err != nil {
			return err
		}
		if d.Closed {
			break
		}
		batch := entriesOf(d.Entries)
		o.mu.Lock()
		st.batches[n] = batch
		o.mu.Unlock()
		entries = append(entries, batch...)
	}
	o.mu.Lock()
	st.closed = true
	o.mu.Unlock()

	if err := o.handle(ctx, entries, due); err != nil {
		return err
	}
	if err := o.mark(ctx, coll, laneEndID(slot, lane)); err != nil {
		return err
	}
	o.mu.Lock()
	delete(o.lanes, laneSlot{slot, lane})
	o.mu.Unlock()
	return nil
}

// dueAtOnce is how many due entries are handled at once.
const dueAtOnce = 8

// handle hands every entry to due, and schedules those to keep.
func (o *Outbox) handle(ctx context.Context, entries []order.OutboxEntry, due order.DueFunc) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(dueAtOnce)
	for _, e := range entries {
		g.Go(func() error {
			next, at, keep, err := due(gctx, e)
			if err != nil || !keep {
				return err
			}
			return o.Schedule(gctx, at, next)
		})
	}
	return g.Wait()
}

func (o *Outbox) mark(ctx context.Context, coll docstore.Collection, id string) error {
	err := coll.Insert(ctx, markDoc{ID: id, At: o.now(), By: o.replica})
	if errors.Is(err, docstore.ErrDuplicate) { // another replica marked it
		return nil
	}
	return err
}
