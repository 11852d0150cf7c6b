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
	key    string // its ordering key
	smscID string
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
// dead-lettered as unknown_outcome, each in one store call that does
// nothing if an operator has requeued or dropped the dead letter
// meanwhile. OK for the last part: the dead letter goes, its receipt
// mapping and "sent" callbacks are stored. OK for an earlier part: the
// dead letter goes, its receipt mapping is stored and the MT is queued
// again with that part counted, so the rest is sent under the same
// reference. A temporary error: the dead letter is requeued, and the retry
// sends from the unanswered part on. A permanent error: the dead letter
// goes and the platform hears "failed". It never blocks the SMPP read loop.
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
	log := b.log.With("smsc_id", e.smscID, "msg_id", e.mtid)
	var err error
	state, cause := StateSent, error(nil)
	switch {
	case st == pdu.StatusOK:
		ids := append(append([]string(nil), e.ids...), messageID)
		rec := e.rec
		rec.Sent = ids
		rcpts := b.receipts(e.smscID, e.cs.ID, e.mtid, rec, ids, len(e.ids)) // earlier parts' mappings went with the dead letter
		if len(ids) < e.parts {
			// Later parts were never sent: the MT goes back to the queue
			// with this part counted as accepted, and the retry sends the
			// rest under the same reference.
			state = 0
			rec.ID = e.mtid
			data := rec.encode()
			err = b.q.SettleDead(ctx, e.itemID, []store.NewItem{{Lane: laneMT(e.smscID), Key: e.key, Payload: data}}, rcpts)
			break
		}
		err = b.q.SettleDead(ctx, e.itemID, b.mtStatus(e.cs, e.smscID, e.mtid, rec, state, messageID, nil), rcpts)
	case st.Temporary():
		state = 0
		err = b.q.Requeue(ctx, e.itemID)
	default:
		state, cause = StateFailed, st
		err = b.q.SettleDead(ctx, e.itemID, b.mtStatus(e.cs, e.smscID, e.mtid, e.rec, state, messageID, cause), nil)
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		log.Info("late submit_sm_resp ignored: the dead letter was requeued or dropped meanwhile", "status", st)
		return
	case err != nil:
		log.Error("settle late submit_sm_resp; dead letter kept", "status", st, "err", err)
		return
	}
	what := "settled the unknown outcome: " + state.String()
	if state == 0 {
		what = "requeued the MT: the rest is sent on the next try"
	}
	log.Info("late submit_sm_resp "+what, "status", st)
	b.trace(store.TraceEvent{ID: e.mtid, Hop: "submit_sm", SMSC: e.smscID, Channel: e.cs.ID,
		Detail: fmt.Sprintf("late submit_sm_resp %s message_id %s: %s", st, messageID, what)})
	b.observe(Event{Kind: "submit", SMSC: e.smscID, Channel: e.cs.ID, ID: e.mtid,
		Text: fmt.Sprintf("late submit_sm_resp %s message_id %s %s", st, messageID, what)})
}
