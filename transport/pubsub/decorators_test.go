package pubsub_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-kit/log"

	"github.com/orderflow/orderflow/transport/pubsub"
)

func TestAPanicIsAFailedMessageLoggedWithItsStackNotACrash(t *testing.T) {
	var lines []string
	logger := log.LoggerFunc(func(kv ...any) error {
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i] == "stack" {
				lines = append(lines, kv[i+1].(string))
			}
		}
		return nil
	})
	h := pubsub.Recover(logger)(pubsub.HandlerFunc(func(context.Context, []byte) error {
		var m map[string]int
		m["boom"]++ // a nil map: the panic of a real bug
		return nil
	}))
	err := h.ServeMessage(context.Background(), []byte(`{}`))
	if !errors.Is(err, pubsub.ErrPanicked) {
		t.Fatalf("want ErrPanicked, have %v", err)
	}
	if len(lines) != 1 || !strings.Contains(lines[0], "decorators_test.go") {
		t.Errorf("want the panic logged once with the stack where it happened, have %q", lines)
	}
}

func TestAFailureThatMayPassIsTriedAgainABoundedNumberOfTimes(t *testing.T) {
	transient, permanent := errors.New("store blinked"), errors.New("busy elsewhere")
	for _, tc := range []struct {
		name      string
		fails     int32
		err       error
		wantTries int32
		wantErr   error
	}{
		{"passes at the second try", 1, transient, 2, nil},
		{"fails every try", 10, transient, 3, transient},
		{"one that will not pass", 10, permanent, 1, permanent},
		{"one that can never be handled", 10, pubsub.ErrUndecodable, 1, pubsub.ErrUndecodable},
		{"a panic", 10, pubsub.ErrPanicked, 1, pubsub.ErrPanicked},
	} {
		var tries atomic.Int32
		h := pubsub.Retry(3, time.Millisecond, func(err error) bool { return !errors.Is(err, permanent) })(
			pubsub.HandlerFunc(func(context.Context, []byte) error {
				if tries.Add(1) <= tc.fails {
					return tc.err
				}
				return nil
			}))
		err := h.ServeMessage(context.Background(), nil)
		if tries.Load() != tc.wantTries || !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
			t.Errorf("%s: want %d tries ending %v, have %d ending %v", tc.name, tc.wantTries, tc.wantErr, tries.Load(), err)
		}
	}
}

func TestARetryStopsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var tries atomic.Int32
	h := pubsub.Retry(5, time.Hour, nil)(pubsub.HandlerFunc(func(context.Context, []byte) error {
		tries.Add(1)
		cancel()
		return errors.New("down")
	}))
	done := make(chan error)
	go func() { done <- h.ServeMessage(ctx, nil) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the retry waited out its pause after its context was done")
	}
	if tries.Load() != 1 {
		t.Errorf("want 1 try, have %d", tries.Load())
	}
}
