package main

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/taskchat/taskchat/internal/pgtest"
)

// buildBinary builds taskchat as the Dockerfile does.
func buildBinary(b *testing.B) string {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "taskchat")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// startBinary runs the binary on a free port and returns its base URL once
// /health answers 200.
func startBinary(b *testing.B, bin string, env ...string) (string, *exec.Cmd) {
	b.Helper()
	port := freePort(b)
	cmd := exec.Command(bin)
	cmd.Env = append([]string{"PORT=" + strconv.Itoa(port), "LOG_LEVEL=warn"}, env...)
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if res, err := client.Get(base + "/health"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return base, cmd
			}
		}
	}
	_ = cmd.Process.Kill()
	b.Fatal("the binary never answered /health")
	return "", nil
}

// BenchmarkColdStart measures process exec → first 200 from /health, with
// nothing configured and with a PostgreSQL URL (whose migrations start in the
// background and must not delay /health).
func BenchmarkColdStart(b *testing.B) {
	bin := buildBinary(b)
	for _, tc := range []struct {
		name string
		env  func(b *testing.B) []string
	}{
		{"bare", func(*testing.B) []string { return nil }},
		{"postgres", func(b *testing.B) []string { return []string{"DATABASE_URL=" + pgtest.NewDatabase(b)} }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			env := tc.env(b)
			for b.Loop() {
				_, cmd := startBinary(b, bin, env...)
				b.StopTimer()
				_ = cmd.Process.Signal(os.Interrupt)
				_ = cmd.Wait()
				b.StartTimer()
			}
		})
	}
}

// BenchmarkRSSAfterTurns runs 10,000 chat turns (8 clients) against the
// binary on PostgreSQL and reports its resident memory afterwards.
func BenchmarkRSSAfterTurns(b *testing.B) {
	bin := buildBinary(b)
	base, cmd := startBinary(b, bin, "DATABASE_URL="+pgtest.NewDatabase(b), "CHAT_RATE_LIMIT=0")
	defer func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() }()
	const turns, clients = 10_000, 8
	for b.Loop() {
		var wg sync.WaitGroup
		for c := range clients {
			wg.Go(func() {
				for i := range turns / clients {
					res, err := http.Post(base+fmt.Sprintf("/api/rss%d/chat", c), "application/json",
						strings.NewReader(fmt.Sprintf(`{"message":"Add a task to item %d"}`, i)))
					if err != nil || res.StatusCode != 200 {
						b.Errorf("turn: %v %v", err, res)
						return
					}
					res.Body.Close()
				}
			})
		}
		wg.Wait()
	}
	b.ReportMetric(rssMB(b, cmd.Process.Pid), "MB-RSS")
}

func rssMB(b *testing.B, pid int) float64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if kb, ok := strings.CutPrefix(s.Text(), "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(kb), "kB")))
			return float64(n) / 1024
		}
	}
	b.Fatal("no VmRSS")
	return 0
}
