package wiring

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/jobs/jobstest"
	"github.com/cvo-app/cvo/internal/postgres/pgtest"
	"github.com/cvo-app/cvo/internal/simulator"
)

// inProcess is the app wired as in production, server and worker in the
// test's process, against a simulator of its own.
type inProcess struct {
	sim    *simulator.Simulator
	app    *App
	server *httptest.Server // the app's HTTP server
	dbURL  string
}

// startInProcess starts a simulator and the app with a database and a job
// namespace of the test's own; tune adjusts the app before it serves.
// Everything stops when the test ends, the worker before its connections
// close, and the app's logs are printed if the test failed.
func startInProcess(t *testing.T, clientID, secret string, tune func(*App)) *inProcess {
	t.Helper()
	// A job namespace of the test's own: its worker takes no other test's
	// tasks (and no other worker takes its). Removed last, after the worker
	// stopped.
	ns := jobstest.Namespace(t)
	ctx, cancel := context.WithCancel(context.Background())

	var appHandler http.Handler
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { appHandler.ServeHTTP(w, r) }))
	t.Cleanup(app.Close)
	var simHandler http.Handler
	simServer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { simHandler.ServeHTTP(w, r) }))
	t.Cleanup(simServer.Close)
	sim := simulator.New(simulator.Config{ClientID: clientID, ClientSecret: secret, AppURL: app.URL,
		APIVersion: DefaultAPIVersion, PublicURL: simServer.URL})
	t.Cleanup(sim.Close)
	simHandler = sim.Handler()

	_, dbURL := pgtest.NewWithURL(t)
	cfg := Config{
		ClientID: clientID, ClientSecret: secret, AppURL: app.URL, Scopes: DefaultScopes, APIVersion: DefaultAPIVersion,
		AdminOrigin: simServer.URL, DatabaseURL: dbURL, RedisURL: jobstest.RedisURL(), QueueNamespace: string(ns),
		EncryptionKey: "v1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
	}
	logs := &strings.Builder{}
	a, err := Open(ctx, cfg, slog.New(slog.NewTextHandler(&lockedWriter{w: logs}, nil)))
	if err != nil {
		cancel()
		require.NoError(t, err)
	}
	if tune != nil {
		tune(a)
	}
	appHandler = a.Server()
	workerDone := make(chan error, 1)
	go func() { workerDone <- a.Work(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-workerDone:
			t.Logf("worker stopped: %v", err)
		case <-time.After(30 * time.Second):
			t.Error("worker did not stop")
		}
		a.Close()
		if t.Failed() {
			t.Log(logs.String())
		}
	})
	return &inProcess{sim: sim, app: a, server: app, dbURL: dbURL}
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
