package taskchat

import (
	"io"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// NewCheapHashing is New with bcrypt at its lowest cost, for the tests that
// hash many passwords: under the race detector a cost-12 hash takes seconds.
// The tests that check the cost itself use New.
func NewCheapHashing(getenv func(string) string, logOut io.Writer) *App {
	return newApp(getenv, logOut, options{bcryptCost: bcrypt.MinCost})
}

// SetHeartbeat sets how often a quiet stream gets a keep-alive comment, and
// returns a function that puts it back.
func SetHeartbeat(d time.Duration) func() {
	old := heartbeatEvery
	heartbeatEvery = d
	return func() { heartbeatEvery = old }
}
