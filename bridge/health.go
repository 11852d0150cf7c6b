package bridge

import (
	"slices"
	"sync/atomic"
	"time"
)

// laneBeat registers lane with the stall check and returns its "all slots
// busy since" clock.
func (b *Bridge) laneBeat(lane string) *atomic.Int64 {
	v, _ := b.beats.LoadOrStore(lane, new(atomic.Int64))
	return v.(*atomic.Int64)
}

// Stalled lists the lanes that have not moved for at least d: every slot
// of the lane has been busy all that time, so no item of the lane has
// finished. An idle lane (waiting for work or for a bind) is not stalled.
// The service watchdog stops reporting health while a lane is stalled.
func (b *Bridge) Stalled(d time.Duration) []string {
	now := b.o.Now().UnixNano()
	var out []string
	b.beats.Range(func(k, v any) bool {
		if t := v.(*atomic.Int64).Load(); t != 0 && now-t >= int64(d) {
			out = append(out, k.(string))
		}
		return true
	})
	slices.Sort(out)
	return out
}
