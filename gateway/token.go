package gateway

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/orderflow/orderflow/internal/process"
)

// TokenCommand is "gateway token -sub USER [-ttl 1h]": it prints a token
// for USER signed with the gateway's -auth.hs256.secret (and with its
// -auth.issuer and -auth.audience), for trying sign-in locally.
var TokenCommand = process.Command{
	Name:    "token",
	Args:    "-sub USER [-ttl 1h] [flags]",
	Summary: "print a sign-in token for USER, signed with -auth.hs256.secret (GATEWAY_AUTH_HS256_SECRET)",
	Run:     runToken,
}

func runToken(fs *flag.FlagSet, envPrefix string, args []string, stdout, stderr io.Writer) int {
	var cfg Config
	fs = flag.NewFlagSet(fs.Name()+" token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.RegisterFlags(fs)
	sub := fs.String("sub", "", "the user the token signs in (its sub claim)")
	ttl := fs.Duration("ttl", time.Hour, "how long the token is valid")
	switch err := process.ParseFlags(fs, envPrefix, args); {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		fmt.Fprintln(stderr, err)
		return 1
	}
	tok, err := NewToken(cfg.Auth, *sub, *ttl, time.Now())
	if err != nil {
		fmt.Fprintln(stderr, "token:", err)
		return 1
	}
	fmt.Fprintln(stdout, tok)
	return 0
}
