package orderstore

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"golang.org/x/sync/errgroup"

	"github.com/orderflow/orderflow/internal/docstore"
	"github.com/orderflow/orderflow/ordersvc/order"
)

// A user's list of orders is numbered from 1 in the order they were
// created: "<userId>/<n>" holds the n-th, a copy of it as created. Its
// length is found by asking for numbers, doubling the steps from the length
// last seen until one is missing, then halving the gap; an order is listed
// by inserting the next number, and a taken number means another replica
// listed one meanwhile. Each full page of pageSize entries is also kept as
// one document, "<userId>/p<k>", so that listing reads a page where it
// would read ten entries, and starts each order from the version it had
// when its page was written. The creation that fills a page writes it, as
// it stores its order; a list that finds a page missing writes it too.

// position is the number of an order in its user's list, from 1; 0 is
// before the first.
type position int64

// pageSize is how many orders of a user's list a page holds.
const pageSize = 10

// listDoc is a user's n-th order, a copy of it as created.
type listDoc struct {
	ID      string        `bson:"_id"` // "<userId>/<n>"
	OrderID bson.ObjectID `bson:"orderId"`
	Fields  orderFields   `bson:",inline"`
}

// pageDoc is a full page of a user's list: its orders as they were when the
// page was written, each a version to start reading from.
type pageDoc struct {
	ID      string      `bson:"_id"` // "<userId>/p<k>"
	Entries []pageEntry `bson:"entries"`
}

type pageEntry struct {
	OrderID bson.ObjectID `bson:"orderId"`
	Fields  orderFields   `bson:",inline"`
	Version int           `bson:"version"`
	// Stored is false for an order not known to be stored when its page
	// was written (its creation may have failed after listing it) and true
	// for one read at Version.
	Stored bool `bson:"stored"`
	// Missing is true, in a list being made, for an entry whose order is
	// not stored; never in a page.
	Missing bool `bson:"-"`
}

func listID(userID string, n position) string { return userID + "/" + strconv.FormatInt(int64(n), 10) }
func pageID(userID string, k position) string {
	return userID + "/p" + strconv.FormatInt(int64(k), 10)
}

// resumeWindow is how far from the end of a user's list a resumed creation
// looks for the entry of its order: the request that began it listed it
// moments before, when it listed it at all.
const resumeWindow = 32

// recentPage is what this process listed of a user's last page: the order
// id at each position of the page, where the position matches.
type recentPage [pageSize]struct {
	n  position
	id string
}

// id returns the order listed at position n, if this process listed it.
func (r *recentPage) id(n position) string {
	if e := r[(n-1)%pageSize]; e.n == n {
		return e.id
	}
	return ""
}

// enlist appends the order to its user's list and returns its position
// (0 when it was there already); a resumed creation first looks for the
// entry an earlier request made.
func (s *Store) enlist(ctx context.Context, o order.Order, oid bson.ObjectID, resumed bool) (position, error) {
	defer s.locks.Lock("user/" + o.UserID)()
	// The length this process saw last is usually still the length: try
	// the next number at once, and look for the length only if it is taken.
	head, known := s.heads.Get(o.UserID)
	if !known || resumed {
		var err error
		if head, err = s.head(ctx, o.UserID); err != nil {
			return 0, err
		}
	}
	if resumed {
		for n := head; n > max(0, head-resumeWindow); n-- {
			var d listDoc
			if err := s.lists.Find(ctx, listID(o.UserID, n), &d); err != nil {
				return 0, err
			}
			if d.OrderID == oid {
				return 0, nil
			}
		}
	}
	entry := listDoc{OrderID: oid, Fields: fieldsOf(o)}
	for n := head + 1; ; n++ {
		entry.ID = listID(o.UserID, n)
		err := s.lists.Insert(ctx, entry)
		switch {
		case err == nil:
			s.sawHead(o.UserID, n)
			recent, _ := s.recent.Get(o.UserID)
			recent[(n-1)%pageSize].n, recent[(n-1)%pageSize].id = n, o.ID
			s.recent.Add(o.UserID, recent)
			return n, nil
		case !errors.Is(err, docstore.ErrDuplicate):
			return 0, err
		case known: // another replica listed orders since: find the end
			known = false
			if head, err = s.head(ctx, o.UserID); err != nil {
				return 0, err
			}
			n = head
		}
	}
}

// head returns the length of the user's list: the highest n whose entry
// exists. It starts from the length this process saw last, which the list
// can only have passed, and doubles its steps until an entry is missing,
// then halves the gap.
func (s *Store) head(ctx context.Context, userID string) (position, error) {
	lo, _ := s.heads.Get(userID) // exists, or 0
	hi := position(0)            // missing, once known
	for step := position(1); hi == 0; step *= 2 {
		ok, err := docstore.Exists(ctx, s.lists, listID(userID, lo+step))
		if err != nil {
			return 0, err
		}
		if ok {
			lo = lo + step
		} else {
			hi = lo + step
		}
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		ok, err := docstore.Exists(ctx, s.lists, listID(userID, mid))
		if err != nil {
			return 0, err
		}
		if ok {
			lo = mid
		} else {
			hi = mid
		}
	}
	s.sawHead(userID, lo)
	return lo, nil
}

func (s *Store) sawHead(userID string, n position) {
	if cur, ok := s.heads.Peek(userID); !ok || cur < n {
		s.heads.Add(userID, n)
	}
}

// listReads is how many documents List reads at once.
const listReads = 16

// List implements order.Repository. An entry whose order was never stored
// (its creation failed after listing it) is left out.
func (s *Store) List(ctx context.Context, userID, cursor string, limit int) ([]order.Order, string, error) {
	top, err := s.top(ctx, userID, cursor)
	if err != nil || top < 1 || limit < 1 {
		return nil, "", storeErr(err)
	}
	low := max(1, top-position(limit)+1)

	// The entries, from the pages that are full (all of a page's entries
	// are at or below top), else one by one, then each order as it is now.
	entries := make([]pageEntry, top-low+1)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(listReads)
	for k := (low - 1) / pageSize; k <= (top-1)/pageSize; k++ {
		first, last := k*pageSize+1, (k+1)*pageSize
		if last <= top {
			g.Go(func() error {
				page, err := s.page(gctx, userID, k)
				if err != nil {
					return err
				}
				for n := max(first, low); n <= last; n++ {
					entries[top-n] = page[n-first]
				}
				return nil
			})
			continue
		}
		for n := max(first, low); n <= top; n++ {
			g.Go(func() (err error) {
				entries[top-n], err = s.entry(gctx, userID, n)
				return err
			})
		}
	}
	if err := g.Wait(); err != nil {
		return nil, "", storeErr(err)
	}
	if err := s.resolve(ctx, entries); err != nil {
		return nil, "", storeErr(err)
	}

	orders := make([]order.Order, 0, len(entries))
	seen := map[bson.ObjectID]bool{}
	for _, e := range entries {
		if !e.Missing && !seen[e.OrderID] { // an order listed twice, by requests that raced with its key, shows once
			seen[e.OrderID] = true
			orders = append(orders, e.order())
		}
	}
	next := ""
	if low > 1 {
		next = encodeCursor(userID, low-1)
	}
	return orders, next, nil
}

// top returns the position a list starts from: the cursor's, or, without
// one, the end of the list. A cursor beyond the end is not one that List
// gave.
func (s *Store) top(ctx context.Context, userID, cursor string) (position, error) {
	if cursor == "" {
		return s.head(ctx, userID)
	}
	n, err := decodeCursor(userID, cursor)
	if err != nil {
		return 0, err
	}
	if head, _ := s.heads.Peek(userID); n <= head {
		return n, nil
	}
	head, err := s.head(ctx, userID)
	switch {
	case err != nil:
		return 0, err
	case n > head:
		return 0, order.ErrInvalidCursor
	}
	return n, nil
}

func (s *Store) entry(ctx context.Context, userID string, n position) (pageEntry, error) {
	var d listDoc
	if err := s.lists.Find(ctx, listID(userID, n), &d); err != nil {
		return pageEntry{}, err
	}
	return pageEntry{OrderID: d.OrderID, Fields: d.Fields}, nil
}

// page returns the entries of page k of the user's list: its document
// (written by the creation that filled it), or, when that is missing, the
// entries read one by one and resolved, and then written as the page for
// the next reader.
func (s *Store) page(ctx context.Context, userID string, k position) ([]pageEntry, error) {
	var d pageDoc
	switch err := s.lists.Find(ctx, pageID(userID, k), &d); {
	case err == nil && len(d.Entries) == pageSize:
		return d.Entries, nil
	case err != nil && !errors.Is(err, docstore.ErrNotFound):
		return nil, err
	}
	entries := make([]pageEntry, pageSize)
	for i := range entries {
		var err error
		if entries[i], err = s.entry(ctx, userID, k*pageSize+position(i)+1); err != nil {
			return nil, err
		}
	}
	if err := s.resolve(ctx, entries); err != nil {
		return nil, err
	}
	// An order not stored may be on its way (its entry is written first):
	// Missing is not stored, so the page leaves it to be looked for again.
	err := s.lists.Insert(ctx, pageDoc{ID: pageID(userID, k), Entries: entries})
	if err != nil && !errors.Is(err, docstore.ErrDuplicate) {
		return nil, err
	}
	return entries, nil
}

// writePage writes page k of the user's list, once last, its last entry,
// is listed, from what this process knows: the orders it listed and knows
// stored, at the versions it knows, and of the others their entries, to be
// looked for by the first list that reads them. The last order is on its
// way to the store: it is left to be looked for.
func (s *Store) writePage(ctx context.Context, userID string, k position, last pageEntry) error {
	recent, _ := s.recent.Get(userID)
	entries := make([]pageEntry, pageSize)
	entries[pageSize-1] = last
	for i := range entries[:pageSize-1] {
		n := k*pageSize + position(i) + 1
		if o, ok := s.known.Peek(recent.id(n)); ok {
			oid, _ := bson.ObjectIDFromHex(o.ID)
			entries[i] = pageEntry{OrderID: oid, Fields: fieldsOf(o), Version: o.Version, Stored: true}
			continue
		}
		var err error
		if entries[i], err = s.entry(ctx, userID, n); err != nil {
			return err
		}
	}
	err := s.lists.Insert(ctx, pageDoc{ID: pageID(userID, k), Entries: entries})
	if errors.Is(err, docstore.ErrDuplicate) {
		return nil
	}
	return err
}

// resolve brings each entry to its order's latest version, and marks the
// entries whose order was never stored.
func (s *Store) resolve(ctx context.Context, entries []pageEntry) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(listReads)
	for i := range entries {
		if entries[i].Missing {
			continue
		}
		g.Go(func() error { return s.resolveEntry(gctx, &entries[i]) })
	}
	return g.Wait()
}

func (s *Store) resolveEntry(ctx context.Context, e *pageEntry) error {
	o := e.order()
	if k, ok := s.known.Peek(o.ID); ok && k.Version >= o.Version {
		o, e.Stored = k, true
	}
	o, err := s.latest(ctx, o)
	if err != nil {
		return err
	}
	// An order this process knows, or that has changed, exists; else only
	// the order itself says whether its creation got that far.
	if !e.Stored && o.Version == 0 {
		switch o, err = s.created(ctx, o.ID); {
		case errors.Is(err, docstore.ErrNotFound):
			e.Missing = true
			return nil
		case err != nil:
			return err
		}
	}
	s.remember(o)
	e.Fields, e.Version, e.Stored = fieldsOf(o), o.Version, true
	return nil
}

func (e pageEntry) order() order.Order {
	o := e.Fields.order(e.OrderID.Hex())
	o.Version = e.Version
	return o
}

// A cursor is a position in a user's list and a tag of the user, so that it
// continues no other user's list: "n<position>.<tag>", in URL-safe base64.

func encodeCursor(userID string, n position) string {
	return base64.RawURLEncoding.EncodeToString([]byte("n" + strconv.FormatInt(int64(n), 10) + "." + cursorTag(userID)))
}

// decodeCursor reads a cursor encodeCursor made for the user.
func decodeCursor(userID, c string) (position, error) {
	b, err := base64.RawURLEncoding.Strict().DecodeString(c)
	if err != nil {
		return 0, order.ErrInvalidCursor
	}
	pos, tag, found := strings.Cut(string(b), ".")
	digits, ok := strings.CutPrefix(pos, "n")
	n, err := strconv.ParseInt(digits, 10, 64)
	if !found || !ok || err != nil || n < 1 || strconv.FormatInt(n, 10) != digits || tag != cursorTag(userID) {
		return 0, order.ErrInvalidCursor
	}
	return position(n), nil
}

// cursorTag names a user in a cursor: the first 8 bytes of the SHA-256 of
// the user id.
func cursorTag(userID string) string {
	sum := sha256.Sum256([]byte(userID))
	return hex.EncodeToString(sum[:8])
}
