package devstack

import (
	"bytes"
	"log/slog"
	"testing"
)

// counted is a value that counts how often a handler resolved it.
type counted struct{ n *int }

func (c counted) LogValue() slog.Value { *c.n++; return slog.StringValue("document") }

func TestTheStoresLoggerFormatsAttributesOnlyForALineItWrites(t *testing.T) {
	var plain, deferred bytes.Buffer
	var resolved int
	opts := &slog.HandlerOptions{Level: slog.LevelInfo, ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}
	for _, l := range []*slog.Logger{
		slog.New(slog.NewTextHandler(&plain, opts)),
		slog.New(deferredAttrs{base: slog.NewTextHandler(&deferred, opts)}),
	} {
		conn := l.With("conn", "127.0.0.1:5000").WithGroup("sql").With("db", "orders_orders")
		conn.Info("opened", "n", 1)
		conn.With("args", counted{&resolved}).Debug(">>> INSERT")
		conn.With("rows", 1).Warn("slow", "took", "2s")
	}
	if plain.String() != deferred.String() {
		t.Errorf("the lines differ from a TextHandler's:\nwant %s\nhave %s", plain.String(), deferred.String())
	}
	// Once for the plain TextHandler; never for the line not written.
	if resolved != 1 {
		t.Errorf("the arguments of a debug line were formatted %d times, want only by the plain handler", resolved)
	}
}
