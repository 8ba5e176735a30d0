package devstack

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	_ "modernc.org/sqlite" // the driver FerretDB's SQLite backend uses, for the _id indexes
)

// FerretDB is an embedded MongoDB-compatible server on SQLite files.
type FerretDB struct {
	URI  string
	stop func()
}

// StartFerretDB serves the MongoDB wire protocol on addr ("127.0.0.1:0" for
// any free port) with its data under dir. Its own log lines at logLevel and
// above go to stderr. Every collection's table gets the index that lookups
// by _id need (see IDIndex).
func StartFerretDB(addr, dir string, logLevel slog.Level) (*FerretDB, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("ferretdb data folder: %w", err)
	}
	logger := slog.New(deferredAttrs{base: slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel})})
	files := &fileKeeper{dir: dir, dbs: map[string]*sql.DB{}, logger: logger}
	files.index() // the collections a previous run left, before any query
	f, err := ferretdb.New(&ferretdb.Config{
		Listener: ferretdb.ListenerConfig{TCP: addr},
		Handler:  "sqlite",
		// WAL with synchronous=NORMAL: a commit is safe from a crash of any
		// process as soon as it returns, and reaches the disk at the next
		// checkpoint; only a crash of the machine itself can lose the last
		// commits, as with a standalone MongoDB's journal interval. FULL
		// would sync the disk on every insert.
		//
		// temp_store=memory: the statement journal of an insert of
		// several documents lives in small blocks of memory, not in a
		// 64 KiB buffer mapped and unmapped for every command
		// (BenchmarkInsertCommand).
		//
		// wal_autocheckpoint: a commit that takes the log past that many
		// pages copies the log into the database file before it returns.
		// The launcher checkpoints every second instead (fileKeeper), so
		// no insert waits for it; the limit, ten times SQLite's default,
		// only bounds the log if those checkpoints fall behind.
		SQLiteURL: "file:" + dir + "/?_pragma=synchronous(normal)&_pragma=temp_store(memory)&_pragma=wal_autocheckpoint(10000)",
		Logger:    logger,
	})
	if err != nil {
		files.close()
		return nil, fmt.Errorf("start ferretdb on %s: %w", addr, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = f.Run(ctx) })
	wg.Go(func() { files.run(ctx) })
	var once sync.Once
	return &FerretDB{
		URI: f.MongoDBURI(), // blocks until the listener is up
		stop: func() {
			once.Do(func() {
				cancel()
				wg.Wait()
				files.close()
			})
		},
	}, nil
}

// Stop stops the server and closes its files; stopping it again does nothing.
func (f *FerretDB) Stop() { f.stop() }

// IDIndex is the name of the index a collection's table gets, after the
// name of its table.
//
// FerretDB 1.24's SQLite backend keeps a collection in a table whose one
// column, _ferretdb_sjson, holds each document as JSON. It answers a filter
// of exactly {_id: X}, and finds the document that an update or a delete
// writes, with SQL: WHERE _ferretdb_sjson->'$._id' = ?. But it builds its
// unique _id index on another expression, _ferretdb_sjson->"_id", which
// SQLite does not match to that query: every lookup by _id would read the
// whole table, and grow slower as the collection fills. The launcher owns
// the SQLite files, so it adds an index on the expression the queries use
// (EXPLAIN QUERY PLAN then says SEARCH, not SCAN). FerretDB's unique index
// stays, and still makes an insert of a taken _id fail. FerretDB does not
// know of the extra index: it is not listed, and it goes with its table
// when the collection is dropped.
func IDIndex(table string) string { return table + idIndexSuffix }

const idIndexSuffix = "_id_lookup"

// fileKeeper looks after the SQLite files under dir while FerretDB runs:
// it adds IDIndex to their tables as they appear (FerretDB creates a
// database's file and a collection's table on first use), and checkpoints
// their write-ahead logs.
type fileKeeper struct {
	dir    string
	dbs    map[string]*sql.DB // by file
	logger *slog.Logger
}

// indexInterval is how often the keeper looks for new collections. Until
// it finds one, lookups in that collection read its few documents.
const indexInterval = 200 * time.Millisecond

// checkpointInterval is how often the keeper copies each file's
// write-ahead log into the file. A commit is durable once in the log;
// the copy keeps the log short, so reads stay fast and the log is written
// again from its start. The keeper's checkpoints are PASSIVE: they copy
// what no reader still needs, and neither wait for nor hold up a writer.
const checkpointInterval = time.Second

func (x *fileKeeper) run(ctx context.Context) {
	index := time.NewTicker(indexInterval)
	defer index.Stop()
	checkpoint := time.NewTicker(checkpointInterval)
	defer checkpoint.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-index.C:
			x.index()
		case <-checkpoint.C:
			x.checkpoint()
		}
	}
}

// index indexes every table that lacks its index.
func (x *fileKeeper) index() {
	for _, file := range x.files() {
		if err := x.indexFile(file); err != nil {
			x.logger.Debug("index _id lookups", "file", file, "err", err)
		}
	}
}

// checkpoint checkpoints the log of every file the keeper has opened.
func (x *fileKeeper) checkpoint() {
	for file, db := range x.dbs {
		if _, err := db.Exec(`PRAGMA wal_checkpoint(PASSIVE)`); err != nil {
			x.logger.Debug("checkpoint", "file", file, "err", err)
		}
	}
}

func (x *fileKeeper) files() []string {
	files, _ := filepath.Glob(filepath.Join(x.dir, "*.sqlite"))
	return files
}

func (x *fileKeeper) indexFile(file string) error {
	db := x.dbs[file]
	if db == nil {
		var err error
		if db, err = sql.Open("sqlite", "file:"+file+"?_pragma=busy_timeout(10000)"); err != nil {
			return err
		}
		db.SetMaxOpenConns(1)
		x.dbs[file] = db
	}
	// A database FerretDB is still creating has no table of collections yet.
	rows, err := db.Query(`SELECT table_name FROM _ferretdb_collections
		WHERE table_name || ? NOT IN (SELECT name FROM sqlite_master WHERE type = 'index')`, idIndexSuffix)
	if err != nil {
		return err
	}
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return err
		}
		tables = append(tables, t)
	}
	rows.Close()
	for _, t := range tables {
		// The table may be dropped meanwhile: the next pass will not see it.
		if _, err := db.Exec(fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %q ON %q (_ferretdb_sjson->'$._id')`, IDIndex(t), t)); err != nil {
			return err
		}
	}
	return nil
}

func (x *fileKeeper) close() {
	for _, db := range x.dbs {
		db.Close()
	}
}

// deferredAttrs is base with the attributes and groups of Logger.With and
// WithGroup kept aside until a record is handled. FerretDB adds every SQL
// statement's arguments, whole documents, to its logger to log them at
// debug level, and a TextHandler formats them then, logged or not: that
// was a twentieth of the store's CPU under make bench.
type deferredAttrs struct {
	base slog.Handler
	with []func(slog.Handler) slog.Handler
}

func (d deferredAttrs) Enabled(ctx context.Context, l slog.Level) bool {
	return d.base.Enabled(ctx, l)
}

func (d deferredAttrs) Handle(ctx context.Context, r slog.Record) error {
	h := d.base
	for _, with := range d.with {
		h = with(h)
	}
	return h.Handle(ctx, r)
}

func (d deferredAttrs) WithAttrs(attrs []slog.Attr) slog.Handler {
	return d.then(func(h slog.Handler) slog.Handler { return h.WithAttrs(attrs) })
}

func (d deferredAttrs) WithGroup(name string) slog.Handler {
	return d.then(func(h slog.Handler) slog.Handler { return h.WithGroup(name) })
}

func (d deferredAttrs) then(with func(slog.Handler) slog.Handler) deferredAttrs {
	return deferredAttrs{base: d.base, with: append(slices.Clip(d.with), with)}
}
