// Command taskchat serves the taskchat HTTP function on 0.0.0.0:$PORT.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/taskchat/taskchat"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "taskchat:", err)
		os.Exit(1)
	}
}

// run serves until ctx is canceled, then shuts down gracefully: it stops
// accepting, lets in-flight requests finish within SHUTDOWN_TIMEOUT, and
// closes the store. It returns nil after a clean shutdown.
func run(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) error {
	app := taskchat.New(getenv, stdout)
	defer app.Close()
	cfg, logger := app.Config(), app.Logger()

	ln, err := net.Listen("tcp", net.JoinHostPort("0.0.0.0", strconv.Itoa(cfg.Port)))
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{
		Handler:           app,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		// A chat turn with a slow model can take a while; the agent's own
		// deadline ends it before this does.
		WriteTimeout:   2 * time.Minute,
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       log.New(stderr, "taskchat: http: ", log.LstdFlags),
	}
	logger.Info().Str("addr", ln.Addr().String()).Msg("listening")

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}

	logger.Info().Dur("timeout", cfg.ShutdownTimeout).Msg("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		// Requests still running past the bound are cut off; the platform
		// would kill us soon anyway, and exiting cleanly keeps it calm.
		logger.Warn().Err(err).Msg("in-flight requests cut off at the shutdown timeout")
		_ = srv.Close()
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	logger.Info().Msg("stopped")
	return nil
}
