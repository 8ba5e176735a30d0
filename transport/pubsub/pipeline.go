package pubsub

import (
	"context"

	"github.com/redis/go-redis/v9"

	"github.com/orderflow/orderflow/internal/groupcommit"
)

// pipeline sends the commands that goroutines make at the same time to
// Redis together: one write and one read carry them all, for the client
// and for Redis. A lone command goes at once.
type pipeline struct {
	q *groupcommit.Queue[redis.Cmder]
}

// maxPipelined bounds the commands of one pipeline.
const maxPipelined = 64

func newPipeline(client redis.UniversalClient) pipeline {
	return pipeline{groupcommit.New(maxPipelined, func(ctx context.Context, cmds []redis.Cmder) []error {
		// Each command gets its own reply, or the pipeline's error.
		_, _ = client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, cmd := range cmds {
				_ = p.Process(ctx, cmd)
			}
			return nil
		})
		errs := make([]error, len(cmds))
		for i, cmd := range cmds {
			errs[i] = cmd.Err()
		}
		return errs
	})}
}

// do sends cmd with the commands of other goroutines, and returns its
// error; its reply is in cmd.
func (p pipeline) do(ctx context.Context, cmd redis.Cmder) error {
	return p.q.Do(ctx, cmd)
}
