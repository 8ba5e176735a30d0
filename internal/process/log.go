package process

import (
	"io"

	"github.com/go-kit/log"
)

// NewLogger returns a logfmt logger on w that stamps each line with the time
// and the service's name.
func NewLogger(w io.Writer, svc string) log.Logger {
	logger := log.NewLogfmtLogger(log.NewSyncWriter(w))
	return log.With(logger, "ts", log.DefaultTimestampUTC, "svc", svc)
}
