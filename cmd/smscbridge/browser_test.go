//go:build browser

package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestStatusPageInChromium renders /status in headless Chromium (Debian's
// package: `make test-browser` installs it) and checks that the page a
// person sees shows a bind with its state and a queue depth. The
// screenshot is saved in the test's artifact directory (go test
// -artifacts: under the -outputdir).
func TestStatusPageInChromium(t *testing.T) {
	bin := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		t.Skip("chromium is not installed (apt-get install -y chromium, or make test-browser): status page not checked in a browser")
	}
	h := newHarness(t)
	if code, body := h.adminCall("POST", "/smsc/agg-a/suspend"); code != 200 {
		t.Fatalf("suspend = %d %s", code, body)
	}
	h.sendRP("4601", "queued for the page", "+250788123123")
	h.sendRP("4602", "and another", "+250788123124")
	h.waitStatus(t, func(st statusDoc) bool { return laneQueued(st, "mt:agg-a") == 2 })

	url := "http://" + h.d.AdminAddr() + "/status"
	shot := filepath.Join(t.ArtifactDir(), "status.png")
	dom := chromium(t, bin, "--dump-dom", url)
	_ = chromium(t, bin, "--screenshot="+shot, url)
	if fi, err := os.Stat(shot); err != nil || fi.Size() == 0 {
		t.Errorf("no screenshot at %s: %v", shot, err)
	} else {
		t.Logf("screenshot: %s (%d bytes)", shot, fi.Size())
	}
	bind := regexp.MustCompile(`(?s)<tr class="bind"><td>agg-a</td>.*?MT suspended.*?transceiver.*?class="bound state">bound</td>`)
	if !bind.MatchString(dom) {
		t.Errorf("rendered page shows no bound agg-a bind:\n%s", dom)
	}
	depth := regexp.MustCompile(`<td><code>mt:agg-a</code></td><td class="num depth">2</td>`)
	if !depth.MatchString(dom) {
		t.Errorf("rendered page shows no queue depth 2 for mt:agg-a:\n%s", dom)
	}
	if !strings.Contains(dom, `id="trace-form"`) {
		t.Errorf("rendered page has no trace search box")
	}
}

// chromium runs headless Chromium on url with one more flag and returns
// its standard output.
func chromium(t *testing.T, bin, flag, url string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--user-data-dir="+t.TempDir(),
		"--window-size=1280,900", flag, url)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", bin, flag, err, stderr.String())
	}
	return string(out)
}
