// Package docstore is the one kind of storage the services use: collections
// of documents addressed by their _id, where inserting a document whose _id
// is taken fails. MongoDB and FerretDB both make that insert atomic, and
// FerretDB's SQLite backend answers a lookup by _id from an index however
// much a collection holds (see package devstack), so every race is settled
// by an insert and no hot path reads a document it does not name.
//
// There is no update: state that changes is a sequence of documents, each
// inserted once under a key that says what it is (an order's third change,
// a payment's second attempt). A document that is no longer needed is
// deleted by its _id. Due is the one query by another field: it serves a
// collection kept small (an outbox, whose entries go once answered), which
// FerretDB reads whole and MongoDB from an index.
package docstore

import (
	"context"
	"errors"
	"time"
)

// Collection holds documents addressed by _id.
type Collection interface {
	// Insert stores doc, a struct or document whose "_id" names it. It
	// returns ErrDuplicate when a document with that _id exists, and
	// changes nothing then.
	Insert(ctx context.Context, doc any) error
	// Find decodes the document whose _id is id into v, or returns
	// ErrNotFound.
	Find(ctx context.Context, id, v any) error
	// Delete deletes the documents whose _id is one of ids, those there
	// are. FerretDB reads the whole collection for more than one: it is for
	// a collection kept small.
	Delete(ctx context.Context, ids ...any) error
	// Due decodes into results, a pointer to a slice, up to limit of the
	// documents whose time field is at or before t, the earliest first.
	Due(ctx context.Context, field string, t time.Time, limit int, results any) error
}

// Database is a set of collections.
type Database interface {
	// Collection returns the collection name; it need not exist yet.
	Collection(name string) Collection
	// CreateCollection creates the collection name, unless it exists, with
	// an index on each of fields besides _id's (for Due).
	CreateCollection(ctx context.Context, name string, fields ...string) error
	// HasCollection reports whether the collection name exists: one that
	// an earlier version wrote and this one only reads, say.
	HasCollection(ctx context.Context, name string) (bool, error)
}

// Errors of a Database.
var (
	ErrNotFound  = errors.New("no document has this _id")
	ErrDuplicate = errors.New("a document has this _id already")
	// ErrUnavailable wraps failures to reach the store: the same request
	// may succeed later.
	ErrUnavailable = errors.New("store unavailable")
	// ErrRejected wraps a store's refusal of a document (too large, say):
	// the same request will be refused again.
	ErrRejected = errors.New("store refused the document")
)

// Exists reports whether c holds a document whose _id is id.
func Exists(ctx context.Context, c Collection, id any) (bool, error) {
	var d struct{}
	switch err := c.Find(ctx, id, &d); {
	case err == nil:
		return true, nil
	case errors.Is(err, ErrNotFound):
		return false, nil
	default:
		return false, err
	}
}
