// Package cli is the main function both binaries share: a JSON logger,
// a context that ends on SIGINT or SIGTERM, one subcommand by name, and an
// exit code.
package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

// Command is one subcommand; args are the words after its name.
type Command func(ctx context.Context, log *slog.Logger, args []string) error

// Main runs the subcommand os.Args names and exits: 2 for a missing or
// unknown one (with the usage), 1 when it fails. A command stopped by a
// signal has not failed.
func Main(name, usage string, commands map[string]Command) {
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	slog.SetDefault(log)
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	cmd, args := os.Args[1], os.Args[2:]
	if cmd == "help" || cmd == "-h" || cmd == "--help" {
		fmt.Print(usage)
		return
	}
	run, ok := commands[cmd]
	if !ok {
		fmt.Fprintf(os.Stderr, "unknown command %q\n\n%s", cmd, usage)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, log, args)
	stop()
	if err != nil && !errors.Is(err, context.Canceled) {
		log.Error(name+" failed", "command", cmd, "err", err)
		os.Exit(1)
	}
}
