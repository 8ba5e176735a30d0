// Package docstore is the one kind of storage the services use: collections
// of documents addressed by their _id, where inserting a document whose _id
// is taken fails. MongoDB and FerretDB both make that insert atomic, and
// FerretDB's SQLite backend answers a lookup by _id from an index however
// much a collection holds (see package devstack), so every race is settled
// by an insert and no operation reads a document it does not name.
//
// There is no update: state that changes is a sequence of documents, each
// inserted once under a key that says what it is (an order's third change,
// a payment's second attempt).
package docstore

import (
	"context"
	"errors"
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
}

// Database is a set of collections.
type Database interface {
	// Collection returns the collection name; it need not exist yet.
	Collection(name string) Collection
	// CreateCollection creates the collection name, unless it exists.
	CreateCollection(ctx context.Context, name string) error
	// DropCollection deletes the collection name and its documents,
	// unless it does not exist.
	DropCollection(ctx context.Context, name string) error
	// CollectionNames lists the collections.
	CollectionNames(ctx context.Context) ([]string, error)
}

// Errors of a Database.
var (
	ErrNotFound  = errors.New("no document has this _id")
	ErrDuplicate = errors.New("a document has this _id already")
	// ErrUnavailable wraps failures to reach the store.
	ErrUnavailable = errors.New("store unavailable")
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
