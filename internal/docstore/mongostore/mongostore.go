// Package mongostore is package docstore on MongoDB (or FerretDB). Inserts
// that goroutines make at once into one collection travel as one command.
package mongostore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/orderflow/orderflow/internal/docstore"
)

// Database is a docstore.Database on a MongoDB database.
type Database struct {
	db *mongo.Database

	mu      sync.Mutex
	inserts map[string]*inserts // by collection name
}

// New returns the docstore.Database of db.
func New(db *mongo.Database) *Database {
	return &Database{db: db, inserts: map[string]*inserts{}}
}

// Collection implements docstore.Database.
func (d *Database) Collection(name string) docstore.Collection {
	d.mu.Lock()
	defer d.mu.Unlock()
	in, ok := d.inserts[name]
	if !ok {
		in = &inserts{c: d.db.Collection(name)}
		d.inserts[name] = in
	}
	return collection{c: in.c, inserts: in}
}

// CreateCollection implements docstore.Database.
func (d *Database) CreateCollection(ctx context.Context, name string) error {
	var cmdErr mongo.CommandError
	if err := d.db.CreateCollection(ctx, name); err != nil && !(errors.As(err, &cmdErr) && cmdErr.Code == 48) { // NamespaceExists
		return storeErr(err)
	}
	return nil
}

// DropCollection implements docstore.Database.
func (d *Database) DropCollection(ctx context.Context, name string) error {
	d.mu.Lock()
	delete(d.inserts, name) // an insert on its way finishes with the one it has
	d.mu.Unlock()
	return storeErr(d.db.Collection(name).Drop(ctx))
}

// CollectionNames implements docstore.Database.
func (d *Database) CollectionNames(ctx context.Context) ([]string, error) {
	names, err := d.db.ListCollectionNames(ctx, bson.D{})
	return names, storeErr(err)
}

type collection struct {
	c       *mongo.Collection
	inserts *inserts
}

// Insert writes doc together with the documents other goroutines insert
// into the collection meanwhile (see inserts).
func (c collection) Insert(ctx context.Context, doc any) error {
	return c.inserts.insert(ctx, doc)
}

// Find asks for exactly {_id: id}: the one filter FerretDB's SQLite backend
// sends down to SQL.
func (c collection) Find(ctx context.Context, id, v any) error {
	res := c.c.FindOne(ctx, bson.D{{Key: "_id", Value: id}})
	if err := res.Err(); err != nil {
		return storeErr(err)
	}
	if err := res.Decode(v); err != nil {
		return fmt.Errorf("decode %s %v: %w", c.c.Name(), id, err)
	}
	return nil
}

// inserts writes the documents of concurrent Inserts into one collection
// with one unordered insert command: while one command is on its way, the
// documents that arrive wait for it and then go as the next one. Each
// document gets its own answer, from the command's write error at its
// index: MongoDB, and FerretDB, insert the others of a command when one
// has a taken _id. So under load a store round trip serves several
// requests, and with one request at a time nothing waits.
type inserts struct {
	c *mongo.Collection

	mu      sync.Mutex
	pending []*pendingInsert
	busy    bool // a goroutine is writing; it takes what is pending next
}

type pendingInsert struct {
	ctx  context.Context
	doc  any
	done chan error
}

// maxInserts bounds the documents of one command.
const maxInserts = 64

func (in *inserts) insert(ctx context.Context, doc any) error {
	p := &pendingInsert{ctx: ctx, doc: doc, done: make(chan error, 1)}
	in.mu.Lock()
	in.pending = append(in.pending, p)
	lead := !in.busy
	in.busy = true
	in.mu.Unlock()
	if lead {
		in.write()
	}
	select {
	case err := <-p.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// write sends what is pending, and hands what arrives meanwhile to another
// goroutine, so that the caller's answer waits for its own command only.
func (in *inserts) write() {
	in.mu.Lock()
	batch := in.pending[:min(len(in.pending), maxInserts)]
	in.pending = in.pending[len(batch):]
	in.mu.Unlock()

	sent := batch[:0:0]
	for _, p := range batch {
		if err := p.ctx.Err(); err != nil { // its caller gave up: not written
			p.done <- err
			continue
		}
		sent = append(sent, p)
	}
	if len(sent) > 0 {
		for i, err := range in.send(sent) {
			sent[i].done <- err
		}
	}

	in.mu.Lock()
	more := len(in.pending) > 0
	in.busy = more
	in.mu.Unlock()
	if more {
		go in.write()
	}
}

// send writes the documents of batch with one command, and returns the
// answer for each.
func (in *inserts) send(batch []*pendingInsert) []error {
	docs := make([]any, len(batch))
	for i, p := range batch {
		docs[i] = p.doc
	}
	// The command serves several callers: none of them may cancel it, and
	// it runs until the last of their deadlines, or within the client's
	// operation timeout when one of them has none.
	ctx := context.WithoutCancel(batch[0].ctx)
	if end, ok := lastDeadline(batch); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, end)
		defer cancel()
	}
	_, err := in.c.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	errs := make([]error, len(batch))
	var bulk mongo.BulkWriteException
	switch {
	case err == nil:
	case errors.As(err, &bulk) && bulk.WriteConcernError == nil && len(bulk.WriteErrors) > 0:
		for _, we := range bulk.WriteErrors {
			if we.Index >= 0 && we.Index < len(errs) {
				errs[we.Index] = storeErr(mongo.WriteException{WriteErrors: []mongo.WriteError{we.WriteError}})
			}
		}
	default:
		for i := range errs {
			errs[i] = storeErr(err)
		}
	}
	return errs
}

// lastDeadline returns the latest deadline of the batch's callers, and
// false when one of them has none.
func lastDeadline(batch []*pendingInsert) (time.Time, bool) {
	var last time.Time
	for _, p := range batch {
		end, ok := p.ctx.Deadline()
		if !ok {
			return time.Time{}, false
		}
		if end.After(last) {
			last = end
		}
	}
	return last, true
}

// storeErr turns a driver error into one of package docstore's.
func storeErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, mongo.ErrNoDocuments):
		return docstore.ErrNotFound
	case mongo.IsDuplicateKeyError(err):
		return docstore.ErrDuplicate
	case errors.Is(err, context.Canceled):
		return err
	}
	return fmt.Errorf("%w: %v", docstore.ErrUnavailable, err)
}
