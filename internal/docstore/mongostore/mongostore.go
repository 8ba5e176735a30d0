// Package mongostore is package docstore on MongoDB (or FerretDB). Inserts
// that goroutines make at once into one collection travel as one command.
package mongostore

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"time"

	"github.com/go-kit/kit/metrics"
	"github.com/go-kit/kit/metrics/discard"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver"

	"github.com/orderflow/orderflow/internal/docstore"
	"github.com/orderflow/orderflow/internal/groupcommit"
)

// Database is a docstore.Database on a MongoDB database, or on FerretDB
// on a database for each collection (see New).
type Database struct {
	client *mongo.Client
	name   string
	apart  bool // each collection in a database of its own (FerretDB)

	commands, documents metrics.Counter // see CountCommands

	mu      sync.Mutex
	inserts map[string]*groupcommit.Queue[any] // by collection name
}

// New returns the docstore.Database named name on client.
//
// On FerretDB, which names its version in buildInfo, each collection is
// kept in a database of its own, <name>_<collection>: its SQLite backend
// keeps a database in one file that takes one write at a time, and the
// flow writes several collections at once. On MongoDB, which locks
// documents, not files, the collections are those of the one database.
// A FerretDB database name that holds collections itself was written by a
// version that kept them there: New refuses it rather than start on an
// empty store beside it.
func New(ctx context.Context, client *mongo.Client, name string, opts ...Option) (*Database, error) {
	var info struct {
		FerretDB string `bson:"ferretdbVersion"`
	}
	if err := client.Database("admin").RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info); err != nil {
		return nil, fmt.Errorf("buildInfo: %w", storeErr(err))
	}
	d := &Database{client: client, name: name, apart: info.FerretDB != "", inserts: map[string]*groupcommit.Queue[any]{},
		commands: discard.NewCounter(), documents: discard.NewCounter()}
	for _, opt := range opts {
		opt(d)
	}
	if !d.apart {
		return d, nil
	}
	old, err := client.Database(name).ListCollectionNames(ctx, bson.D{})
	if err != nil {
		return nil, fmt.Errorf("list the collections of %s: %w", name, storeErr(err))
	}
	if len(old) > 0 {
		return nil, fmt.Errorf("FerretDB database %s holds %v, as an earlier version kept them: this one keeps each collection in a database of its own (%s_<collection>); start on a fresh store", name, old, name)
	}
	return d, nil
}

// Option sets an optional parameter of New.
type Option func(*Database)

// CountCommands counts the commands that the collections send, by command
// (insert, find, delete) and collection, in commands, and the documents
// they carry (inserted, deleted, or 1 for a find) in documents: what make
// bench divides by the orders it settled. Counted here rather than by the
// driver's command monitor, which copies each command into an event.
func CountCommands(commands, documents metrics.Counter) Option {
	return func(d *Database) { d.commands, d.documents = commands, documents }
}

// Mongo returns the driver's handle on the collection name, wherever it
// is kept: for tools and tests that read it as it is stored.
func (d *Database) Mongo(name string) *mongo.Collection {
	if d.apart {
		return d.client.Database(d.name + "_" + name).Collection(name)
	}
	return d.client.Database(d.name).Collection(name)
}

// Collection implements docstore.Database.
func (d *Database) Collection(name string) docstore.Collection {
	d.mu.Lock()
	defer d.mu.Unlock()
	c := collection{
		c:      d.Mongo(name),
		insert: d.meter("insert", name),
		find:   d.meter("find", name),
		delete: d.meter("delete", name),
	}
	q, ok := d.inserts[name]
	if !ok {
		q = groupcommit.New(maxInserts, func(ctx context.Context, docs []any) []error { return insertMany(ctx, c.c, c.insert, docs) })
		d.inserts[name] = q
	}
	c.inserts = q
	return c
}

// meter counts the commands of one kind sent to one collection, and the
// documents they carry.
type meter struct{ commands, documents metrics.Counter }

func (d *Database) meter(command, collection string) meter {
	lvs := []string{"command", command, "collection", collection}
	return meter{d.commands.With(lvs...), d.documents.With(lvs...)}
}

func (m meter) add(docs int) {
	m.commands.Add(1)
	m.documents.Add(float64(docs))
}

// CreateCollection implements docstore.Database. FerretDB's SQLite backend
// keeps the indexes of fields but reads the whole collection for a query on
// them; MongoDB uses them.
func (d *Database) CreateCollection(ctx context.Context, name string, fields ...string) error {
	c := d.Mongo(name)
	if db := c.Database().Name(); d.apart && !ferretDBName.MatchString(db) {
		return fmt.Errorf("database %s: FerretDB takes names of 1 to 63 letters, digits, _ and - (database %q, collection %q)", db, d.name, name)
	}
	var cmdErr mongo.CommandError
	if err := c.Database().CreateCollection(ctx, name); err != nil && !(errors.As(err, &cmdErr) && cmdErr.Code == 48) { // NamespaceExists
		return storeErr(err)
	}
	for _, f := range fields {
		if _, err := c.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: f, Value: 1}}}); err != nil {
			return storeErr(err)
		}
	}
	return nil
}

// HasCollection implements docstore.Database.
func (d *Database) HasCollection(ctx context.Context, name string) (bool, error) {
	c := d.Mongo(name)
	names, err := c.Database().ListCollectionNames(ctx, bson.D{{Key: "name", Value: c.Name()}})
	if err != nil {
		return false, storeErr(err)
	}
	return len(names) > 0, nil
}

type collection struct {
	c                    *mongo.Collection
	inserts              *groupcommit.Queue[any] // of insertMany
	insert, find, delete meter
}

// Insert writes doc together with the documents other goroutines insert
// into the collection meanwhile.
func (c collection) Insert(ctx context.Context, doc any) error {
	return c.inserts.Do(ctx, doc)
}

// Find asks for exactly {_id: id}: the one filter FerretDB's SQLite backend
// sends down to SQL.
func (c collection) Find(ctx context.Context, id, v any) error {
	c.find.add(1)
	res := c.c.FindOne(ctx, bson.D{{Key: "_id", Value: id}})
	if err := res.Err(); err != nil {
		return storeErr(err)
	}
	if err := res.Decode(v); err != nil {
		return fmt.Errorf("decode %s %v: %w", c.c.Name(), id, err)
	}
	return nil
}

// Delete deletes one document by exactly {_id: id}, as Find asks, and
// several by {_id: {$in: ids}}, with one command.
func (c collection) Delete(ctx context.Context, ids ...any) error {
	if len(ids) == 0 {
		return nil
	}
	c.delete.add(len(ids))
	var err error
	switch len(ids) {
	case 1:
		_, err = c.c.DeleteOne(ctx, bson.D{{Key: "_id", Value: ids[0]}})
	default:
		_, err = c.c.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}})
	}
	return storeErr(err)
}

// Due implements docstore.Collection.
func (c collection) Due(ctx context.Context, field string, t time.Time, limit int, results any) error {
	c.find.add(1)
	cur, err := c.c.Find(ctx, bson.D{{Key: field, Value: bson.D{{Key: "$lte", Value: t}}}},
		options.Find().SetSort(bson.D{{Key: field, Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return storeErr(err)
	}
	return storeErr(cur.All(ctx, results))
}

// ferretDBName is what FerretDB takes as the name of a database.
var ferretDBName = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,63}$`)

// maxInserts bounds the documents of one insert command.
const maxInserts = 64

// insertMany writes docs into c with one unordered insert command, and
// returns the answer for each: the command's write error at its index,
// since MongoDB, and FerretDB, insert the others of a command when one has
// a taken _id.
func insertMany(ctx context.Context, c *mongo.Collection, m meter, docs []any) []error {
	errs := make([]error, len(docs))
	m.add(len(docs))
	_, err := c.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	var bulk mongo.BulkWriteException
	switch {
	case err == nil:
	case errors.As(err, &bulk) && bulk.WriteConcernError == nil && len(bulk.WriteErrors) > 0:
		for _, we := range bulk.WriteErrors {
			if we.Index >= 0 && we.Index < len(docs) {
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

// storeErr turns a driver error into one of package docstore's: a write the
// server refused for what it holds is ErrRejected, and anything else, a
// server away or slow above all, ErrUnavailable.
func storeErr(err error) error {
	var we mongo.WriteException
	switch {
	case err == nil:
		return nil
	case errors.Is(err, mongo.ErrNoDocuments):
		return docstore.ErrNotFound
	case mongo.IsDuplicateKeyError(err):
		return docstore.ErrDuplicate
	case errors.Is(err, context.Canceled):
		return err
	case errors.As(err, &we) && we.WriteConcernError == nil && len(we.WriteErrors) > 0,
		errors.Is(err, driver.ErrDocumentTooLarge):
		return fmt.Errorf("%w: %v", docstore.ErrRejected, err)
	}
	return fmt.Errorf("%w: %v", docstore.ErrUnavailable, err)
}
