package orderstore

import (
	"context"
	"errors"
	"strconv"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/orderflow/orderflow/internal/docstore"
	"github.com/orderflow/orderflow/ordersvc/order"
)

// The outbox is a collection of the orders that await paymentsvc, one
// document per order and what it awaits, due when the order is to be
// announced again. It holds only what is unanswered: an entry goes when its
// answer comes (the change that applies it deletes it) or when a sweep finds
// it answered. So it stays as small as the orders in flight, whatever was
// stored before and however long a replica was away, and every replica can
// afford to read the whole of what is due (FerretDB reads the collection,
// MongoDB an index on due).
//
// Every replica sweeps every entry that is due, whoever wrote it: an entry
// of a replica that died is found at the next sweep of any other. Of the
// replicas that find an entry due at once, one takes it: an entry's _id
// counts its announcements ("<orderId>/<awaits>/<n>"), and the sweep takes
// entry n by inserting entry n+1, due after the next delay of the backoff,
// then deletes entry n. The insert that comes second is refused, so one
// replica announces the order; a replica that dies between the insert and
// the delete leaves entry n, which the next sweep deletes when its insert of
// n+1 is refused.

// entryDoc is an outbox entry.
type entryDoc struct {
	ID      string    `bson:"_id"` // "<orderId>/<awaits>/<attempt>"
	OrderID string    `bson:"orderId"`
	Awaits  string    `bson:"awaits"`
	Attempt int       `bson:"attempt"`
	Due     time.Time `bson:"due"`
	Since   time.Time `bson:"since"`
}

func entryID(orderID string, awaits order.PaymentStatus, attempt int) string {
	return orderID + "/" + string(awaits) + "/" + strconv.Itoa(attempt)
}

// Sweeping bounds.
const (
	// sweepBatch is how many due entries a sweep reads at once.
	sweepBatch = 256
	// sweepBatches bounds the batches of one sweep, so that one that
	// meets failures ends and the next one starts afresh.
	sweepBatches = 8
	// dueAtOnce is how many due entries are handled at once.
	dueAtOnce = 8
)

// schedule writes the entry that says the order awaits e.Awaits, due after
// the first delay of the backoff.
func (s *Store) schedule(ctx context.Context, e order.OutboxEntry) error {
	return s.outbox.Insert(ctx, entryDoc{
		ID: entryID(e.OrderID, e.Awaits, 0), OrderID: e.OrderID, Awaits: string(e.Awaits),
		Due: e.Since.Add(s.backoff.Delay(0)), Since: e.Since,
	})
}

// answered deletes the entry of what the order awaited, now answered. The
// entry is usually the first; a later one (the order was announced again)
// goes when it comes due.
func (s *Store) answered(ctx context.Context, orderID string, awaited order.PaymentStatus) {
	_ = s.outbox.Delete(ctx, entryID(orderID, awaited, 0)) // one left is let go by a sweep
}

// Sweep implements order.Outbox: every due entry whose order still awaits
// what it says is taken by one replica and handed to announce; the others
// go, or wait for what they await to begin. It stops at the first failure:
// what it did not handle is still due for the next sweep.
func (s *Store) Sweep(ctx context.Context, announce func(ctx context.Context, o order.Order, attempt int) error) error {
	now := s.now().UTC()
	for range sweepBatches {
		var due []entryDoc
		if err := s.outbox.Due(ctx, "due", now, sweepBatch, &due); err != nil {
			return storeErr(err)
		}
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(dueAtOnce)
		for _, e := range due {
			g.Go(func() error { return s.sweepEntry(gctx, e, now, announce) })
		}
		if err := g.Wait(); err != nil || len(due) < sweepBatch {
			return storeErr(err)
		}
	}
	return nil
}

// sweepEntry handles one due entry.
func (s *Store) sweepEntry(ctx context.Context, e entryDoc, now time.Time, announce func(context.Context, order.Order, int) error) error {
	awaits := order.PaymentStatus(e.Awaits)
	o, err := s.get(ctx, e.OrderID)
	switch {
	case err != nil && !errors.Is(err, docstore.ErrNotFound):
		return err
	case err == nil && o.Answered(awaits):
		return s.outbox.Delete(ctx, e.ID)
	case err != nil || o.Awaits() != awaits:
		// What the entry awaits has not begun: the order, or the change
		// that makes it await this, is written after the entry. It is on
		// its way, or failed.
		if now.Sub(e.Since) >= s.patience {
			s.logger.Log("msg", "outbox entry let go: what it awaits never began", "order_id", e.OrderID, "awaits", awaits, "since", e.Since.UTC().Format(time.RFC3339))
			return s.outbox.Delete(ctx, e.ID)
		}
		_, err := s.take(ctx, e, now)
		return err
	}
	taken, err := s.take(ctx, e, now)
	if err != nil || !taken {
		return err
	}
	return announce(ctx, o, e.Attempt+1)
}

// take takes entry e for this replica by inserting its successor, and
// reports whether it did: false when another replica's came first. Either
// way e goes.
//
// A sweep that read e long ago does not take it: meanwhile another replica
// may have taken e, and its successor may have come due and been taken in
// turn, deleted, and so be free to insert again, which would announce the
// order twice from then on.
func (s *Store) take(ctx context.Context, e entryDoc, now time.Time) (bool, error) {
	if s.now().Sub(now) > s.backoff.Min/2 {
		return false, nil
	}
	next := e
	next.Attempt++
	next.ID = entryID(e.OrderID, order.PaymentStatus(e.Awaits), next.Attempt)
	next.Due = now.Add(s.backoff.Delay(next.Attempt))
	err := s.outbox.Insert(ctx, next)
	if err != nil && !errors.Is(err, docstore.ErrDuplicate) {
		return false, err
	}
	// A failed delete leaves e due: the next sweep's insert of next is
	// refused, and deletes it then.
	_ = s.outbox.Delete(ctx, e.ID)
	return err == nil, nil
}
