package bridge

import (
	"testing"
	"time"
)

func TestRelativeTime(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "", time.Minute: "000000000100000R", 90 * time.Minute: "000000013000000R",
		49*time.Hour + 30*time.Second: "000002010030000R", 99 * 24 * time.Hour: "000099000000000R"} {
		if got := relativeTime(d); got != want {
			t.Errorf("relativeTime(%v) = %q, want %q", d, got, want)
		}
	}
}
