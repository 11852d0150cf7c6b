// smscsim entry point; see doc.go.

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	sim, err := newSim(os.Args[1:], os.Stdout, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "smscsim:", err)
		os.Exit(2)
	}
	if err := sim.run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "smscsim:", err)
		os.Exit(1)
	}
}
