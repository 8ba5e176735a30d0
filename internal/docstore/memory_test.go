package docstore_test

import (
	"testing"

	"github.com/orderflow/orderflow/internal/docstore"
	"github.com/orderflow/orderflow/internal/docstore/docstoretest"
)

func TestMemory(t *testing.T) {
	docstoretest.Run(t, func(*testing.T) docstore.Database { return docstore.NewMemory() })
}
