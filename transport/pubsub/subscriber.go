package pubsub

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-kit/kit/endpoint"
)

// DecodeMessageFunc turns a message payload into an endpoint request.
type DecodeMessageFunc func(ctx context.Context, payload []byte) (request any, err error)

// Handler handles the payload of one message.
type Handler interface {
	ServeMessage(ctx context.Context, payload []byte) error
}

// ErrUndecodable wraps decode failures: such a message can never be
// handled; it is logged as dropped.
var ErrUndecodable = errors.New("undecodable message")

// Subscriber is a Handler that decodes a message and calls an endpoint, the
// pub/sub counterpart of go-kit's HTTP server.
type Subscriber struct {
	e   endpoint.Endpoint
	dec DecodeMessageFunc
}

// NewSubscriber returns a Subscriber of e.
func NewSubscriber(e endpoint.Endpoint, dec DecodeMessageFunc) *Subscriber {
	return &Subscriber{e: e, dec: dec}
}

// ServeMessage implements Handler. A response that is an endpoint.Failer with
// a business error is reported as an error too.
func (s *Subscriber) ServeMessage(ctx context.Context, payload []byte) error {
	req, err := s.dec(ctx, payload)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUndecodable, err)
	}
	resp, err := s.e(ctx, req)
	if err != nil {
		return err
	}
	if f, ok := resp.(endpoint.Failer); ok && f.Failed() != nil {
		return f.Failed()
	}
	return nil
}
