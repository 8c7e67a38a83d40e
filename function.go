// Package taskchat is a task-managing chat backend packaged as one HTTP
// function. Handler is the entry point for function platforms; New builds the
// same application with an injected environment for main and tests.
//
// Where things are: app.go builds the app; routes.go lists every route;
// middleware.go holds what wraps them; chat.go, history.go, tasks.go, ops.go
// and web.go the handlers; config.go the settings; respond.go the JSON and
// error answers. The README's "Where things are" maps the rest.
package taskchat

import (
	"io"
	"net/http"
	"os"
	"sync"
)

// Version is the build's version, set with -ldflags "-X github.com/taskchat/taskchat.Version=…".
var Version = ""

// app is the one application Handler serves, built on first use.
var app = sync.OnceValue(func() *App { return New(os.Getenv, os.Stdout) })

// Handler serves taskchat. The first call builds the application from the
// process environment; building never panics or exits, whatever is missing.
func Handler(w http.ResponseWriter, r *http.Request) {
	app().ServeHTTP(w, r)
}

// New builds the application from getenv, logging to logOut. It does no
// network I/O before returning, so the process can answer /health at once;
// database migrations start in the background.
func New(getenv func(string) string, logOut io.Writer) *App {
	return newApp(getenv, logOut, options{})
}
