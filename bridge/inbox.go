package bridge

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smscbridge/smscbridge/store"
)

// An inbox hands items to a running lane without a lease commit: a producer
// that queues an item for the lane reserves a place first, asks the store to
// claim the item in the commit that queues it (store.NewItem.Claim), and puts
// the leased item here; the lane's worker takes it as if it had leased it.
// Each message thus costs one commit fewer per lane it passes through (an MO:
// its receive commit also leases it; its platform request, queued by the MO's
// completion, is leased by that commit).
//
// Places are bounded by the lane's slots, so an inbox never holds more than a
// lane can start at once; a producer that finds no place queues its item the
// usual way (the worker leases it, oldest first). The worker alternates
// between its inbox and the store's due items when both have work, so neither
// waits on the other for long. A claimed item is an ordinary lease: if the
// process dies it is due again at once on restart (leases do not survive a
// reopen), and if it sat here past the store's LeaseTTL it is fenced.
type inbox struct {
	ch    chan store.Item
	taken atomic.Int32 // reserved places plus items in ch
	mu    sync.Mutex
	wake  context.CancelFunc // ends the worker's LeaseWait when an item arrives
	woke  bool               // wake was called
	shut  bool               // the lane stopped: no more places
}

func newInbox(slots int) *inbox { return &inbox{ch: make(chan store.Item, slots)} }

// reserve takes a place for one item; false when there is none (or the lane
// has stopped).
func (ib *inbox) reserve() bool {
	if ib == nil {
		return false
	}
	for {
		n := ib.taken.Load()
		if int(n) >= cap(ib.ch) {
			return false
		}
		if ib.taken.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// release gives back a place reserve took and put did not use.
func (ib *inbox) release() { ib.taken.Add(-1) }

// put hands a claimed item to the worker, into the place reserve took. It
// reports false when the lane has stopped meanwhile: the caller must then
// give the item back to the store.
func (ib *inbox) put(it store.Item) bool {
	ib.mu.Lock()
	defer ib.mu.Unlock()
	if ib.shut {
		ib.taken.Add(-1)
		return false
	}
	ib.ch <- it // never blocks: the place was reserved
	if ib.wake != nil {
		ib.wake()
		ib.wake, ib.woke = nil, true
	}
	return true
}

// take returns up to n items waiting in the inbox, without waiting.
func (ib *inbox) take(items []store.Item, n int) []store.Item {
	for len(items) < n {
		select {
		case it := <-ib.ch:
			ib.taken.Add(-1)
			items = append(items, it)
		default:
			return items
		}
	}
	return items
}

// waitContext returns a context for one LeaseWait of the worker: it ends
// with ctx or when an item arrives in the inbox (at once if one is there).
// stop ends it and says whether an arrival did.
func (ib *inbox) waitContext(ctx context.Context) (wctx context.Context, stop func() (woken bool)) {
	wctx, cancel := context.WithCancel(ctx)
	ib.mu.Lock()
	ib.woke = len(ib.ch) > 0
	if ib.woke {
		cancel()
	} else {
		ib.wake = cancel
	}
	ib.mu.Unlock()
	return wctx, func() bool {
		ib.mu.Lock()
		woken := ib.woke
		ib.wake, ib.woke = nil, false
		ib.mu.Unlock()
		cancel()
		return woken
	}
}

// close stops handing out places and returns the items still waiting.
func (ib *inbox) close() []store.Item {
	ib.mu.Lock()
	ib.shut = true
	ib.mu.Unlock()
	return ib.take(nil, cap(ib.ch))
}

// inbox returns the inbox of a running lane, or nil.
func (b *Bridge) inbox(lane string) *inbox {
	v, ok := b.inboxes.Load(lane)
	if !ok {
		return nil
	}
	return v.(*inbox)
}

// claimFor marks the items whose lane has a free inbox place to be claimed
// in the commit that queues them, in a copy of items (items itself is left
// alone; it is returned as is when nothing is claimed), and returns those
// places (nil entries for the others, or nil if none). settle hands the
// outcome to them.
func (b *Bridge) claimFor(items []store.NewItem) ([]store.NewItem, []*inbox) {
	var places []*inbox
	for i := range items {
		ib := b.inbox(items[i].Lane)
		if !ib.reserve() {
			continue
		}
		if places == nil {
			places = make([]*inbox, len(items))
			items = slices.Clone(items)
		}
		places[i] = ib
		items[i].Claim = true
	}
	return items, places
}

// settle puts each claimed item (leased[i], nil where the store did not
// claim it, or nil altogether after a failed commit) into the place reserved
// for it, and gives back the places left unused.
func (b *Bridge) settle(places []*inbox, leased []*store.Item) {
	for i, ib := range places {
		if ib == nil {
			continue
		}
		var it *store.Item
		if i < len(leased) {
			it = leased[i]
		}
		b.settleOne(ib, it)
	}
}

// settleOne puts a claimed item into the place ib reserved for it, or gives
// the place back when the store did not claim it (it nil).
func (b *Bridge) settleOne(ib *inbox, it *store.Item) {
	switch {
	case it == nil:
		ib.release()
	case !ib.put(*it):
		b.unclaim(*it)
	}
}

// unclaim gives a claimed item whose lane stopped back to the store, due
// now, without counting an attempt.
func (b *Bridge) unclaim(it store.Item) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := b.q.Complete(ctx, store.Completion{Lane: it.Lane, ID: it.ID, Token: it.Token,
		Retry: &store.RetrySpec{Cause: "lane stopped before it started", Delay: time.Nanosecond, Wait: true}})
	if err != nil {
		b.log.Warn("claimed item left to its lease expiry", "lane", it.Lane, "id", it.ID, "err", err)
	}
}

// add queues one item, claimed for its lane's inbox when it has a place.
func (b *Bridge) add(ctx context.Context, it store.NewItem) (string, error) {
	a, _, err := b.addDup(ctx, it)
	return a, err
}

// addDup is add that also says whether the item was a dedup hit.
func (b *Bridge) addDup(ctx context.Context, it store.NewItem) (id string, dup bool, err error) {
	ib := b.inbox(it.Lane)
	it.Claim = ib.reserve()
	a, err := b.q.Add(ctx, it)
	if it.Claim {
		b.settleOne(ib, a.Leased)
	}
	return a.ID, a.Dup, err
}
