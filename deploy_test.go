package taskchat_test

import (
	"bufio"
	"os"
	"slices"
	"strings"
	"testing"
)

// dockerStage is one stage of the Dockerfile: its FROM, and its
// instructions as written (continuation lines joined).
type dockerStage struct {
	from  string
	lines []string
}

func readDockerfile(t *testing.T) map[string]*dockerStage {
	t.Helper()
	f, err := os.Open("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	stages := map[string]*dockerStage{}
	var cur *dockerStage
	sc := bufio.NewScanner(f)
	var pending string
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		if strings.HasSuffix(line, "\\") {
			pending += strings.TrimSuffix(line, "\\") + " "
			continue
		}
		line, pending = strings.Join(strings.Fields(pending+line), " "), ""
		if rest, ok := strings.CutPrefix(line, "FROM "); ok {
			from, name, _ := strings.Cut(rest, " AS ")
			cur = &dockerStage{from: from}
			if name == "" {
				name = "(default)"
			}
			stages[name] = cur
			continue
		}
		if cur != nil {
			cur.lines = append(cur.lines, line)
		}
	}
	return stages
}

func (s *dockerStage) has(prefix string) bool {
	return slices.ContainsFunc(s.lines, func(l string) bool { return strings.HasPrefix(l, prefix) })
}

// env is the stage's ENV settings (KEY=value pairs, one ENV or several).
func (s *dockerStage) env() map[string]string {
	out := map[string]string{}
	for _, l := range s.lines {
		if rest, ok := strings.CutPrefix(l, "ENV "); ok {
			for _, kv := range strings.Fields(rest) {
				if k, v, ok := strings.Cut(kv, "="); ok {
					out[k] = v
				}
			}
		}
	}
	return out
}

// TestDockerfileTargets: the Lambda Web Adapter target waits for a route
// that exists and answers 200 with nothing configured, on the port the
// service listens on; the native Lambda target is cmd/lambda as
// /bootstrap; the default target is the service.
func TestDockerfileTargets(t *testing.T) {
	stages := readDockerfile(t)
	service, adapter, native := stages["service"], stages["lambda"], stages["lambda-native"]
	if service == nil || adapter == nil || native == nil || stages["(default)"] == nil || stages["(default)"].from != "service" {
		t.Fatalf("stages: %v", stages)
	}
	port := service.env()["PORT"]
	if port != "7860" || !service.has("EXPOSE "+port) || !service.has(`ENTRYPOINT ["/taskchat"]`) {
		t.Errorf("the service: PORT %q, %v", port, service.lines)
	}

	if adapter.from != "service" || !adapter.has("COPY --from=lambda-adapter /lambda-adapter /opt/extensions/lambda-adapter") {
		t.Errorf("the adapter target: %s %v", adapter.from, adapter.lines)
	}
	lwa := adapter.env()
	if lwa["AWS_LWA_PORT"] != port {
		t.Errorf("the adapter forwards to port %q, the service listens on %q", lwa["AWS_LWA_PORT"], port)
	}
	ready := lwa["AWS_LWA_READINESS_CHECK_PATH"]
	h := newApp(t, nil)
	if !slices.Contains(h.Routes(), "GET "+ready) {
		t.Errorf("the adapter's readiness path %q is no route", ready)
	}
	if res := do(t, h, "GET", ready, nil); res.Code != 200 {
		t.Errorf("GET %s with nothing configured = %d; the adapter would never send a request", ready, res.Code)
	}
	down := newApp(t, map[string]string{"DATABASE_URL": "postgres://nobody@127.0.0.1:1/none"})
	if res := do(t, down, "GET", ready, nil); res.Code != 200 {
		t.Errorf("GET %s with the database down = %d; the adapter would never start", ready, res.Code)
	}

	build := stages["build-lambda"]
	if build == nil || !slices.ContainsFunc(build.lines, func(l string) bool {
		return strings.HasPrefix(l, "RUN CGO_ENABLED=0 go build") && strings.Contains(l, "-tags lambda.norpc") && strings.HasSuffix(l, "-o /out/bootstrap ./cmd/lambda")
	}) {
		t.Errorf("the native build: %+v", build)
	}
	if native.from != "scratch" || !native.has("COPY --from=build-lambda /out/bootstrap /bootstrap") || !native.has(`ENTRYPOINT ["/bootstrap"]`) {
		t.Errorf("the native target: %s %v", native.from, native.lines)
	}
}
