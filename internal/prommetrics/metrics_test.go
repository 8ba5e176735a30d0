package prommetrics_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/orderflow/orderflow/internal/prommetrics"
)

func TestTheStoreAndRedisCountersAreServedByTheNamesBenchReads(t *testing.T) {
	m := prommetrics.NewMetrics("ordersvc")
	commands, documents := m.StoreCommands()
	commands.With("command", "insert", "collection", "outbox").Add(1)
	documents.With("command", "insert", "collection", "outbox").Add(3)
	m.RedisCommands().With("command", "publish").Add(2)

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, want := range []string{
		`ordersvc_store_commands_total{collection="outbox",command="insert"} 1`,
		`ordersvc_store_documents_total{collection="outbox",command="insert"} 3`,
		`ordersvc_redis_commands_total{command="publish"} 2`,
	} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
