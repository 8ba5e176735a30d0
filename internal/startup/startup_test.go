package startup

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestRedactHidesPasswords(t *testing.T) {
	if have := Redact("mongodb://app:s3cret@mongo:27017/orders"); strings.Contains(have, "s3cret") {
		t.Errorf("password shown: %s", have)
	}
}

func TestAwaitGivesUpAtTheTimeoutWithTheDependencysError(t *testing.T) {
	refused := errors.New("connection refused")
	begin := time.Now()
	err := Await(context.Background(), 300*time.Millisecond, func(context.Context) error { return refused }, func(error) bool { return false })
	if !errors.Is(err, refused) {
		t.Errorf("want the last error of the dependency, have %v", err)
	}
	if took := time.Since(begin); took > 5*time.Second {
		t.Errorf("gave up after %v, not at the timeout", took)
	}
}

func TestAwaitStopsAtAFinalAnswer(t *testing.T) {
	calls := 0
	denied := errors.New("wrong password")
	err := Await(context.Background(), time.Minute, func(context.Context) error { calls++; return denied }, func(err error) bool { return err == denied })
	if !errors.Is(err, denied) || calls != 1 {
		t.Errorf("want one call ending in %v, have %d calls and %v", denied, calls, err)
	}
}
