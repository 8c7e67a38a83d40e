package taskchat_test

import (
	"io"
	"net/http"
	"runtime"
	"testing"

	"github.com/taskchat/taskchat/internal/pgtest"
)

func runtimeProcs() int { return runtime.GOMAXPROCS(0) }

// teeReader returns r's body, copying what is read into w.
func teeReader(r *http.Request, w io.Writer) io.Reader { return io.TeeReader(r.Body, w) }

func runtimeGosched() { runtime.Gosched() }

func pgtestDatabase(t *testing.T) string { return pgtest.NewDatabase(t) }
