package bridge

import (
	"context"
	"slices"
	"time"

	"github.com/smscbridge/smscbridge/store"
)

// statusOf says what a status callback reports: which MT, which of its
// parts, which state, and the platform message (group) it belongs to. The
// callback lane merges the statuses of a group into the one status its
// platform sees (platforms.md B.1.4, E).
type statusOf struct {
	MTID  string `json:"mt,omitempty"`
	State State  `json:"state,omitempty"`
	Group string `json:"grp,omitempty"`  // mark key of the platform message
	Parts int    `json:"n,omitempty"`    // SMS parts of the MT
	Part  int    `json:"part,omitempty"` // the part reported on (1-based); 0 = every part
	Dedup string `json:"dd,omitempty"`   // the MT's store dedup key
	// For the trace: the MO a callback posts, and the contact.
	MO      string `json:"mo,omitempty"`
	Contact string `json:"c,omitempty"`
}

// groupKey is the mark key of the platform message a status belongs to:
// every chunk courier sends with one id is one message (B.1.4); an MT with
// no platform id (custom channel) is its own message.
func groupKey(channel string, st Status) string {
	if st.ExternalID != "" {
		return "status\x00" + channel + "\x00ext\x00" + st.ExternalID
	}
	return "status\x00" + channel + "\x00mt\x00" + st.MTID
}

// statusMark is what the store keeps per platform message (a Mark): the
// state of every part of every MT of the message and what was reported,
// so the reported status never moves backwards, also across a restart.
type statusMark struct {
	Reported State              `json:"r,omitempty"`
	MT       map[string][]State `json:"mt,omitempty"` // per MT id, the state of each part (0: none yet)
	Dedup    []string           `json:"dd,omitempty"` // the MTs' dedup keys, forgotten once failed is reported
	// Closed is when failed was reported (Unix ms). An MT of the group
	// accepted later is the platform's resend (§0.1): a new attempt with a
	// fresh status; statuses of the earlier MTs are ignored.
	Closed int64 `json:"closed,omitempty"`
}

// statusMerge is the outcome of merging one status callback into its
// group: whether to send it, and what to store when it is done.
type statusMerge struct {
	key  string
	mark statusMark
	send bool
	skip bool // a status of an attempt already reported failed: drop it
}

// rank orders states for "never backwards": nothing < sent < buffered <
// delivered < failed.
func rank(s State) int {
	switch s {
	case StateSent:
		return 1
	case StateBuffered:
		return 2
	case StateDelivered:
		return 3
	case StateFailed:
		return 4
	}
	return 0
}

// mergeStatus merges cb into the stored state of its group. Status
// callbacks of one group share an ordering key (channel + recipient), so
// the lane handles them one at a time and this read-modify-write is not
// raced.
func (b *Bridge) mergeStatus(ctx context.Context, cb *callback) (*statusMerge, error) {
	key := cb.Group
	if key == "" { // queued by an older version
		key = "status\x00\x00mt\x00" + cb.MTID
	}
	m := &statusMerge{key: key}
	raw, ok, err := b.q.GetMark(ctx, key)
	if err != nil {
		return nil, err
	}
	if ok && m.mark.decode(raw) != nil {
		b.log.Warn("unreadable status mark; starting over", "msg_id", cb.MTID)
		m.mark = statusMark{}
	}
	if m.mark.Closed != 0 {
		if _, known := m.mark.MT[cb.MTID]; known || acceptedBy(cb.MTID, m.mark.Closed) {
			m.skip = true
			return m, nil
		}
		m.mark = statusMark{} // the platform resent the message: a new attempt
	}
	if m.mark.MT == nil {
		m.mark.MT = map[string][]State{}
	}
	parts := m.mark.MT[cb.MTID]
	if n := max(cb.Parts, cb.Part, 1); len(parts) < n {
		parts = append(parts, make([]State, n-len(parts))...)
	}
	for i := range parts {
		if cb.Part == 0 || cb.Part == i+1 {
			parts[i] = advance(parts[i], cb.State)
		}
	}
	m.mark.MT[cb.MTID] = parts
	if cb.Dedup != "" && !slices.Contains(m.mark.Dedup, cb.Dedup) {
		m.mark.Dedup = append(m.mark.Dedup, cb.Dedup)
	}
	m.send = rank(m.mark.merged()) > rank(m.mark.Reported) && m.mark.merged() == cb.State
	return m, nil
}

// acceptedBy reports whether the MT with id was accepted before the time
// (Unix ms) closed. A resend can only be accepted once the commit that
// closed the group has forgotten its dedup keys, so in the same
// millisecond at the earliest: that counts as after.
func acceptedBy(id string, closed int64) bool {
	t, ok := store.IDTime(id)
	return ok && t.UnixMilli() < closed
}

// advance is the state of one part after st is reported for it: a final
// state (delivered, failed) stays, and so does buffered against a late
// sent.
func advance(old, st State) State {
	if old == StateDelivered || old == StateFailed || st == 0 || rank(st) < rank(old) {
		return old
	}
	return st
}

// merged is the status of the whole message: failed if any part failed,
// otherwise the least advanced state of its parts (so delivered only when
// every part is).
func (m *statusMark) merged() State {
	least := StateDelivered
	for _, parts := range m.MT {
		for _, p := range parts {
			switch {
			case p == StateFailed:
				return StateFailed
			case rank(p) < rank(least):
				least = p
			}
		}
	}
	return least
}

// completion is what the store records when the callback is done: the
// group's new state and, when it was sent, what was reported; once failed
// is reported the message's dedup keys are forgotten so that the
// platform's resend is a new attempt (platforms.md §0.1).
func (m *statusMerge) completion(sent bool, now time.Time) store.Completion {
	if m == nil || m.skip {
		return store.Completion{}
	}
	mark := m.mark
	var c store.Completion
	if sent {
		mark.Reported = mark.merged()
		if mark.Reported == StateFailed {
			mark.Closed = now.UnixMilli()
			c.DropDedup = mark.Dedup
		}
	}
	c.Marks = []store.Mark{{Key: m.key, Value: mark.encode()}}
	return c
}
