package bridge

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/smscbridge/smscbridge/store"
)

// ErrNotDead is DropDead's answer for an id that is queued, not a dead
// letter: drop removes dead letters only. It wraps store.ErrNotFound.
var ErrNotDead = fmt.Errorf("%w: queued, not a dead letter: only dead letters can be dropped", store.ErrNotFound)

// DropDead deletes a dead letter (store.ErrNotFound if id is not one,
// ErrNotDead if it is queued). An
// MT's platform hears "failed" (platforms.md E): its callbacks are queued
// in the same store call, and go out once the bridge runs. Requeueing a
// dead letter reports nothing: the MT is tried again.
func (b *Bridge) DropDead(ctx context.Context, id string) error {
	it, err := b.q.Get(ctx, id)
	if err != nil {
		return err
	}
	if it.DeadReason == "" {
		return fmt.Errorf("%s: %w", id, ErrNotDead)
	}
	follow, err := b.droppedMT(it)
	if err != nil {
		return err
	}
	if err := b.q.DropDead(ctx, id, follow...); err != nil {
		return err
	}
	if len(follow) > 0 {
		b.log.Info("MT dead letter dropped; platform told failed", "lane", it.Lane, "id", id)
	}
	return nil
}

// DropDeadLane drops every dead letter of lane as DropDead does and
// returns how many it dropped.
func (b *Bridge) DropDeadLane(ctx context.Context, lane string) (int, error) {
	n := 0
	for {
		items, err := b.q.ListDead(ctx, lane, 100)
		if err != nil || len(items) == 0 {
			return n, err
		}
		for _, it := range items {
			if err := b.DropDead(ctx, it.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
				return n, err
			}
			n++
		}
	}
}

// droppedMT returns the "failed" callbacks of an MT dead letter; none for
// other lanes.
func (b *Bridge) droppedMT(it store.Item) ([]store.NewItem, error) {
	smscID, ok := strings.CutPrefix(it.Lane, "mt:")
	if !ok {
		return nil, nil
	}
	var rec mtRecord
	if err := rec.decode(it.Payload); err != nil {
		return nil, nil // nothing to report on: an undecodable record never had a platform id
	}
	cs := b.t().channels[rec.Channel]
	if cs == nil || cs.adapter == nil {
		return nil, fmt.Errorf("dead letter %s is an MT of channel %q, which is not configured: its platform cannot be told it failed", it.ID, rec.Channel)
	}
	mtid := rec.ID
	if mtid == "" {
		mtid = it.ID
	}
	return b.mtStatus(cs, smscID, mtid, rec, StateFailed, "", errors.New("dropped by an operator: "+it.DeadReason)), nil
}

// OwnsLane reports whether lane belongs to a configured SMSC or channel.
// Queued work in any other lane is orphaned (its SMSC or channel was
// removed from the configuration): nothing works it.
func (b *Bridge) OwnsLane(lane string) bool {
	kind, id, _ := strings.Cut(lane, ":")
	switch kind {
	case "in", "cat", "mt":
		return b.t().smscs[id] != nil
	case "http":
		return b.t().channels[id] != nil
	}
	return false
}
