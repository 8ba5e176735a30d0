package orderstore

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/orderflow/orderflow/internal/docstore"
	"github.com/orderflow/orderflow/internal/groupcommit"
	"github.com/orderflow/orderflow/internal/objectid"
	"github.com/orderflow/orderflow/ordersvc/order"
)

// The outbox is a collection of batches of entries, each entry an order
// that awaits paymentsvc, each batch due when its orders are to be
// announced again. The entries scheduled while one batch is being written
// go together as the next (package groupcommit), so under load an order's
// entry costs a fraction of an insert. A batch goes at the next sweep of the
// replica that wrote it once that replica has seen every one of its orders
// answered, or else once its time came and a sweep finds them answered: the
// outbox holds what is in flight and what is unanswered, whatever was stored before and however
// long a replica was away. So every replica can afford to read all that is
// due at every sweep (FerretDB reads the whole collection, MongoDB an index
// on due).
//
// Every replica sweeps every batch that is due, whoever wrote it: a batch of
// a replica that died is found at the next sweep of any other. Of the
// replicas that find a batch due at once, one takes it: a batch's _id counts
// the times it came due ("<batch>/<n>"), and the sweep takes batch n by
// inserting batch n+1 (the entries still unanswered, due after the next
// delay of the backoff), then deletes batch n. The insert that comes second
// is refused, so one replica announces the orders; one that dies between
// the insert and the delete leaves batch n, which the next sweep deletes
// when its insert of n+1 is refused.

// written is a batch this process wrote, and how many of its entries are
// not known to be answered.
type written struct {
	id   string
	left atomic.Int32
}

func writtenKey(orderID string, awaits order.PaymentStatus) string {
	return orderID + "/" + string(awaits)
}

// batchDoc is a batch of outbox entries.
type batchDoc struct {
	ID      string     `bson:"_id"` // "<batch>/<attempt>"
	Attempt int        `bson:"attempt"`
	Due     time.Time  `bson:"due"`
	Entries []entryDoc `bson:"entries"`
}

// entryDoc is an order.OutboxEntry.
type entryDoc struct {
	OrderID string    `bson:"o"`
	Awaits  string    `bson:"a"`
	Since   time.Time `bson:"s"`
}

func batchID(batch string, attempt int) string { return batch + "/" + strconv.Itoa(attempt) }

// batch is the batch the document is an attempt of.
func (b batchDoc) batch() string {
	batch, _, _ := strings.Cut(b.ID, "/")
	return batch
}

// Sweeping bounds.
const (
	// sweepBatch is how many due batches a sweep reads at once.
	sweepBatch = 128
	// sweepRounds bounds the reads of one sweep, so that one that meets
	// failures ends and the next one starts afresh.
	sweepRounds = 8
	// dueAtOnce is how many due batches are handled at once.
	dueAtOnce = 8
)

// newScheduler returns the queue that writes scheduled entries in batches.
func (s *Store) newScheduler() *groupcommit.Queue[order.OutboxEntry] {
	return groupcommit.New(0, func(ctx context.Context, scheduled []order.OutboxEntry) []error {
		entries := make([]entryDoc, len(scheduled))
		for i, e := range scheduled {
			entries[i] = entryDoc{OrderID: e.OrderID, Awaits: string(e.Awaits), Since: e.Since}
		}
		// Due the first delay after the earliest of them began to await.
		since := entries[0].Since
		for _, e := range entries {
			if e.Since.Before(since) {
				since = e.Since
			}
		}
		batch := objectid.New()
		err := s.outbox.Insert(ctx, batchDoc{ID: batchID(batch, 0), Due: since.UTC().Add(s.backoff.Delay(0)), Entries: entries})
		errs := make([]error, len(entries))
		for i := range errs {
			errs[i] = err
		}
		if err == nil {
			w := &written{id: batchID(batch, 0)}
			w.left.Store(int32(len(entries)))
			for _, e := range entries {
				s.written.Add(writtenKey(e.OrderID, order.PaymentStatus(e.Awaits)), w)
			}
		}
		return errs
	})
}

// schedule stores the entry in the next batch, and returns once it is
// stored.
func (s *Store) schedule(ctx context.Context, e order.OutboxEntry) error {
	return s.scheduler.Do(ctx, e)
}

// answered notes that what the order awaited came. A batch this process
// wrote whose every entry it saw answered goes at the next sweep, before
// its time, so that the outbox holds what is in flight rather than a
// second of batches for every sweep to read. One answered elsewhere, or
// forgotten, waits for the sweep that finds it due.
func (s *Store) answered(orderID string, awaited order.PaymentStatus) {
	w, ok := s.written.Peek(writtenKey(orderID, awaited))
	if !ok {
		return
	}
	s.written.Remove(writtenKey(orderID, awaited))
	if w.left.Add(-1) == 0 {
		s.doneMu.Lock()
		s.done = append(s.done, w.id)
		s.doneMu.Unlock()
	}
}

// Sweep implements order.Outbox: every due batch is taken by one replica,
// which hands each order that still awaits what its entry says to
// announce; the entries of the others go, or wait for what they await to
// begin. It stops at the first failure: what it did not handle is still
// due for the next sweep.
func (s *Store) Sweep(ctx context.Context, announce func(ctx context.Context, o order.Order, attempt int) error) error {
	s.doneMu.Lock()
	answered := s.done
	s.done = nil
	s.doneMu.Unlock()
	if err := s.deleteBatches(ctx, answered); err != nil { // left due: a sweep finds them answered
		return storeErr(err)
	}
	now := s.now().UTC()
	for range sweepRounds {
		var due []batchDoc
		if err := s.outbox.Due(ctx, "due", now, sweepBatch, &due); err != nil {
			return storeErr(err)
		}
		var (
			mu   sync.Mutex
			done []string // the batches to delete: answered, or taken
		)
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(dueAtOnce)
		for _, b := range due {
			g.Go(func() error {
				gone, err := s.sweepBatch(gctx, b, now, announce)
				if gone {
					mu.Lock()
					done = append(done, b.ID)
					mu.Unlock()
				}
				return err
			})
		}
		err := g.Wait()
		// A failed delete leaves its batch due, and the next sweep finds it
		// answered, or its successor inserted.
		if derr := s.deleteBatches(ctx, done); err == nil {
			err = derr
		}
		if err != nil || len(due) < sweepBatch {
			return storeErr(err)
		}
	}
	return nil
}

// deleteBatches deletes the batches of ids, sweepBatch to a command. On
// FerretDB a delete of several _ids reads the whole collection, as each
// sweep's search for due batches does already: the outbox holds only what
// is in flight, and one such read costs less than a command per batch.
func (s *Store) deleteBatches(ctx context.Context, ids []string) error {
	for chunk := range slices.Chunk(ids, sweepBatch) {
		keys := make([]any, len(chunk))
		for i, id := range chunk {
			keys[i] = id
		}
		if err := s.outbox.Delete(ctx, keys...); err != nil {
			return err
		}
	}
	return nil
}

// sweepBatch handles one due batch, and reports whether it is to go: all
// its orders were answered, or it was taken (by this replica or another).
func (s *Store) sweepBatch(ctx context.Context, b batchDoc, now time.Time, announce func(context.Context, order.Order, int) error) (bool, error) {
	var (
		keep []entryDoc
		late []order.Order
	)
	for _, e := range b.Entries {
		awaits := order.PaymentStatus(e.Awaits)
		// An answer is never taken back: an order this process knows
		// answered, at any version, needs no read.
		if o, ok := s.known.Peek(e.OrderID); ok && o.Answered(awaits) {
			continue
		}
		o, err := s.get(ctx, e.OrderID)
		switch {
		case err != nil && !errors.Is(err, docstore.ErrNotFound):
			return false, err
		case err == nil && o.Answered(awaits): // it goes
		case err != nil || o.Awaits() != awaits:
			// What the entry awaits has not begun: the order, or the change
			// that makes it await this, is written after the entry. It is
			// on its way, or failed.
			if now.Sub(e.Since) < s.patience {
				keep = append(keep, e)
				continue
			}
			s.logger.Log("msg", "outbox entry let go: what it awaits never began", "order_id", e.OrderID, "awaits", awaits, "since", e.Since.UTC().Format(time.RFC3339))
		default:
			keep, late = append(keep, e), append(late, o)
		}
	}
	if len(keep) == 0 {
		return true, nil
	}
	taken, gone, err := s.take(ctx, b, keep, now)
	if err != nil || !taken {
		return gone, err
	}
	var errs []error
	for _, o := range late {
		errs = append(errs, announce(ctx, o, b.Attempt+1))
	}
	return true, errors.Join(errs...)
}

// take takes batch b for this replica by inserting its successor, of the
// entries to keep, and reports whether it did, and whether b is to go: it
// is once this replica's successor or another's is stored.
//
// A sweep that read b long ago does not take it: meanwhile another replica
// may have taken b, and its successor may have come due and been taken in
// turn, deleted, and so be free to insert again, which would announce its
// orders twice from then on.
func (s *Store) take(ctx context.Context, b batchDoc, keep []entryDoc, now time.Time) (taken, gone bool, err error) {
	if s.now().Sub(now) > s.backoff.Min/2 {
		return false, false, nil
	}
	next := batchDoc{ID: batchID(b.batch(), b.Attempt+1), Attempt: b.Attempt + 1, Entries: keep}
	next.Due = now.Add(s.backoff.Delay(next.Attempt))
	switch err := s.outbox.Insert(ctx, next); {
	case errors.Is(err, docstore.ErrDuplicate):
		return false, true, nil
	case err != nil:
		return false, false, err
	}
	return true, true, nil
}
