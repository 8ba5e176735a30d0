package devstack

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// FerretDB is an embedded MongoDB-compatible server on SQLite files.
type FerretDB struct {
	URI  string
	stop func()
}

// StartFerretDB serves the MongoDB wire protocol on addr ("127.0.0.1:0" for
// any free port) with its data under dir. Its own log lines at logLevel and
// above go to stderr.
func StartFerretDB(addr, dir string, logLevel slog.Level) (*FerretDB, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("ferretdb data folder: %w", err)
	}
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: addr},
		Handler:   "sqlite",
		SQLiteURL: "file:" + dir + "/",
		Logger:    slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel})),
	})
	if err != nil {
		return nil, fmt.Errorf("start ferretdb on %s: %w", addr, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = f.Run(ctx)
	}()
	var once sync.Once
	return &FerretDB{
		URI:  f.MongoDBURI(), // blocks until the listener is up
		stop: func() { once.Do(func() { cancel(); <-done }) },
	}, nil
}

// Stop stops the server and closes its files; stopping it again does nothing.
func (f *FerretDB) Stop() { f.stop() }
