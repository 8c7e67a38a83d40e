package taskchat_test

import (
	"os"
	"strings"
	"testing"
)

// TestSpaceCard keeps the Hugging Face Space card in space.yaml and the
// README's front matter (where Hugging Face reads it) the same, and checks
// the settings the Space needs.
func TestSpaceCard(t *testing.T) {
	card, err := os.ReadFile("space.yaml")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	front, ok := strings.CutPrefix(string(readme), "---\n")
	if !ok {
		t.Fatal("README.md does not start with YAML front matter")
	}
	front, _, ok = strings.Cut(front, "\n---\n")
	if !ok {
		t.Fatal("README.md's front matter is not closed by ---")
	}
	if strings.TrimSpace(front) != strings.TrimSpace(string(card)) {
		t.Errorf("README.md front matter and space.yaml differ:\n--- README\n%s\n--- space.yaml\n%s", front, card)
	}
	fields := map[string]string{}
	for _, line := range strings.Split(string(card), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			fields[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	for k, want := range map[string]string{"sdk": "docker", "app_port": "7860"} {
		if fields[k] != want {
			t.Errorf("%s = %q, want %q", k, fields[k], want)
		}
	}
	for _, k := range []string{"title", "emoji", "colorFrom", "colorTo", "short_description", "pinned"} {
		if fields[k] == "" {
			t.Errorf("space.yaml lacks %s", k)
		}
	}
	if n := len([]rune(fields["short_description"])); n > 60 {
		t.Errorf("short_description has %d characters; Hugging Face allows 60", n)
	}
}
