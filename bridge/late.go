package bridge

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/smscbridge/smscbridge/smsc/pdu"
	"github.com/smscbridge/smscbridge/store"
)

// lateWindow is how long the SMPP client may still report a submit_sm_resp
// after its timeout (smsc.Options.LateResponse).
const lateWindow = 10 * time.Minute

// lateSubmit is an MT whose last submit_sm got no response in time: it was
// dead-lettered as unknown_outcome, and a late response can still settle it.
type lateSubmit struct {
	itemID string // the dead letter
	s      *smscState
	cs     *channelState
	mtid   string
	rec    mtRecord
	ids    []string // message ids of the parts before the unanswered one
	parts  int
	at     time.Time
}

type lateSubmits struct {
	mu sync.Mutex
	m  map[string]*lateSubmit
}

func lateKey(smscID string, ref uint64) string { return fmt.Sprintf("%s/%d", smscID, ref) }

func (l *lateSubmits) put(key string, e *lateSubmit) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = map[string]*lateSubmit{}
	}
	for k, old := range l.m {
		if e.at.Sub(old.at) > lateWindow {
			delete(l.m, k)
		}
	}
	l.m[key] = e
}

func (l *lateSubmits) take(key string) *lateSubmit {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.m[key]
	delete(l.m, key)
	return e
}

// LateResponse returns the smsc.Options.LateResponse hook of one SMSC: a
// submit_sm_resp that arrives after its timeout settles the MT that was
// dead-lettered as unknown_outcome. OK: its receipt mapping is stored and,
// when it was the last part, the platform hears "sent" and the dead letter
// goes away. An error status: the platform hears "failed". It never blocks
// the SMPP read loop.
func (b *Bridge) LateResponse(smscID string) func(ref uint64, messageID string, st pdu.Status) {
	return func(ref uint64, messageID string, st pdu.Status) {
		e := b.late.take(lateKey(smscID, ref))
		if e == nil {
			return
		}
		go b.settleLate(e, messageID, st)
	}
}

func (b *Bridge) settleLate(e *lateSubmit, messageID string, st pdu.Status) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	log := b.log.With("smsc_id", e.s.ID, "msg_id", e.mtid)
	state, cause := StateSent, error(nil)
	var rcpts []store.Receipt
	if st == pdu.StatusOK {
		ids := append(append([]string(nil), e.ids...), messageID)
		rcpts = b.receipts(e.s, e.cs, e.mtid, e.rec, ids, e.parts)[len(e.ids):] // earlier parts' mappings went with the dead letter
		if err := b.q.PutReceipt(ctx, rcpts...); err != nil {
			log.Error("store late receipt mapping; dead letter kept", "err", err)
			return
		}
		if len(ids) < e.parts {
			// Later parts were never sent: the dead letter stays for an
			// operator; only this part's receipt can now be matched.
			log.Warn("late submit_sm_resp for a part; later parts were not sent", "status", st)
			return
		}
	} else {
		state, cause = StateFailed, st
	}
	for _, it := range b.mtStatus(e.cs, e.s, e.mtid, e.rec, state, messageID, cause) {
		if _, _, err := b.q.Enqueue(ctx, it); err != nil {
			log.Error("queue late status callback; dead letter kept", "err", err)
			return
		}
	}
	if err := b.q.Drop(ctx, e.itemID); err != nil && !errors.Is(err, store.ErrNotFound) {
		log.Error("drop settled dead letter", "err", err)
	}
	log.Info("late submit_sm_resp settled an unknown outcome", "status", st)
	b.observe(Event{Kind: "submit", SMSC: e.s.ID, Channel: e.cs.ID, ID: e.mtid,
		Text: fmt.Sprintf("late submit_sm_resp %s message_id %s settled the unknown outcome: %s", st, messageID, state)})
}
