package loadgen

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// WriteText writes the report as a person reads it.
func (r Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "concurrency\t%d\n", r.Concurrency)
	fmt.Fprintf(tw, "load\t%.1f s\n", r.Seconds)
	fmt.Fprintf(tw, "created\t%d (%.1f/s)\n", r.Created, r.CreatedPerSec)
	fmt.Fprintf(tw, "POST ms\tp50 %.1f  p90 %.1f  p99 %.1f  max %.1f\n", r.Post.P50, r.Post.P90, r.Post.P99, r.Post.Max)
	fmt.Fprintf(tw, "settled\t%d, unsettled %d%s, %d polls\n", r.Settled, r.Unsettled, r.lastSeenText(), r.Polls)
	fmt.Fprintf(tw, "settle ms\tp50 %.1f  p90 %.1f  p99 %.1f  max %.1f\n", r.Settle.P50, r.Settle.P90, r.Settle.P99, r.Settle.Max)
	if s := r.ServerSettle; s != nil {
		fmt.Fprintf(tw, "server settle ms\tp50 %.1f  p90 %.1f  p99 %.1f  max %.1f\n", s.P50, s.P90, s.P99, s.Max)
	}
	fmt.Fprintf(tw, "errors\t%s\n", r.errorsText())
	for _, c := range r.CPU {
		fmt.Fprintf(tw, "cpu %s\t%.3f ms per settled order (%.0f ms)\n", c.Name, c.MsPerSettled, c.Ms)
	}
	return tw.Flush()
}

// lastSeenText says in which statuses the unsettled orders were left:
// " (last seen Declined 196)".
func (r Report) lastSeenText() string {
	if len(r.UnsettledLastSeen) == 0 {
		return ""
	}
	seen := maps.Clone(r.UnsettledLastSeen)
	if n, ok := seen[""]; ok {
		delete(seen, "")
		seen["never answered"] = n
	}
	return " (last seen " + countsText(seen, " ") + ")"
}

func (r Report) errorsText() string {
	if len(r.Errors) == 0 {
		return "none"
	}
	return countsText(r.Errors, ": ")
}

// countsText writes counts as "<key><sep><count>, ...", by key.
func countsText(counts map[string]int, sep string) string {
	keys := slices.Sorted(maps.Keys(counts))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + sep + strconv.Itoa(counts[k])
	}
	return strings.Join(parts, ", ")
}
