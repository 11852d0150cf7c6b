// Package bridge is the core of smscbridge: it moves messages between SMSC
// binds (package smsc), the durable queue (package store, through the Queue
// interface declared here) and platform adapters (one package per channel
// kind under bridge/, e.g. bridge/rapidpro and bridge/custom).
//
// Flows (design.md, "What it is"; platforms.md E for status mapping):
//
//   - MO: Handler(smsc) answers each deliver_sm only after the message, or
//     the part of a concatenated message, is committed to the store
//     (ESME_ROK); a failed commit answers ESME_RX_T_APPN so the SMSC retries.
//     A worker per SMSC decodes, routes by destination number and commits the
//     channel's platform requests (built by its Adapter) together with the
//     completion of the inbound item. Unroutable MO becomes a dead letter
//     with reason "no_route".
//   - MT: Accept validates and routes a platform's send call and returns only
//     once it is committed to the lane of the chosen SMSC ("mt:<smsc>"). A
//     worker per SMSC sends one submit_sm per segment and commits, in one
//     store call, the receipt mappings, the "sent" callbacks and the item's
//     completion. Every MT ends with a status at its platform (design.md
//     invariant 7): permanent SMPP errors fail the message (a "failed"
//     callback); temporary ones are retried with the progress of a
//     multi-part MT kept (only missing parts are resent, same reference),
//     and a retry past max_attempts or max_age queues "failed" in the call
//     that dead-letters it. With no bind an MT waits (max_age still
//     applies) and after SMSC.FailoverAfter moves to the next SMSC of its
//     list. A submit with no response is dead-lettered as
//     "unknown_outcome", never resent silently; a late response settles it
//     (LateResponse), an operator's drop reports "failed" (DropDead).
//   - Receipts: committed like MO, matched by (SMSC, canonical id) with a
//     grace period for receipts that overtake their submit_sm_resp, then
//     turned into status callbacks of one part.
//   - Callbacks: a worker per channel sends the stored requests, in order
//     per contact; 2xx is done, 408/429/5xx and transport errors are retried
//     from the queue honouring Retry-After, other 4xx are dead-lettered.
//     Status callbacks are merged per platform message (parts, courier
//     chunks) with what the store remembers of it (a Mark): failed if any
//     part failed, else the least advanced state, never backwards; once
//     failed is reported the message's dedup keys are forgotten, so a
//     platform's resend is a new attempt.
//
// Lanes are "in:<smsc>", "mt:<smsc>" and "http:<channel>" ("cat:<smsc>"
// only drains long MO queued by older versions), so one slow SMSC or
// platform never holds up another. Every item carries an ordering key
// (contactKey: SMSC or channel + contact); a lane worker keeps up to its
// concurrency items in flight, leases again as each finishes, and the
// store hands out only the head of each key, so each contact's items go one
// at a time, in order, and contacts proceed in parallel (design.md
// invariant 6). A slot whose item completes asks the store to lease the
// key's next item in that same commit (store.Completion.LeaseNext) and goes
// on with it, up to maxContinue items, so a busy contact costs one commit
// per item rather than two; that contact thus runs ahead of older heads of
// other keys waiting for a slot. The package does no
// configuration parsing; cmd/smscbridge maps conf.Config onto Options.
//
// The configured SMSCs, channels and routes form one immutable table
// behind an atomic pointer; every request and queue item is handled under
// the table it loaded first. Reload (SIGHUP in the daemon) builds a new
// table, stops the lanes of removed and changed SMSCs and channels once
// their in-flight items are done, swaps the table in and starts the new
// lanes; unchanged SMSCs keep their state, lanes and Submitter. Stalled
// lists lanes that stopped moving, for the service watchdog.
package bridge
