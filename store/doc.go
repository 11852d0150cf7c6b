// Package store is smscbridge's durable state: a work queue with named
// lanes, the receipt correlation map and the MO reassembly buffer, in one
// bbolt file (go.etcd.io/bbolt). Everything the bridge acknowledges to an
// SMSC or a platform passes through it first (design.md, "Invariants" 1
// and 2).
//
// Backend is what the daemon needs of a store; *Store is the embedded
// one, and package store/pgstore offers the same calls on PostgreSQL for
// several nodes sharing one database. Package store/storetest is their
// common contract, one test suite run against both. Export reads a whole
// store out (pgstore.Import takes it) to move a node to PostgreSQL.
//
// # Queue
//
// Items live in lanes (arbitrary strings such as "mt:agg-a" or
// "http:rp-main"); one slow lane never holds up another. Every item keeps
// one id for its whole life: a UUIDv7 (RFC 9562), globally unique and
// ordered by creation time. A worker leases due items (Lease, LeaseWait),
// then acks them (Ack, or Complete to also queue follow-ups, receipt
// mappings and marks in the same transaction), retries them (Retry:
// exponential backoff with jitter, or the caller's delay) or dead-letters
// them (Dead). Items past RetryPolicy.MaxAttempts or MaxAge go to the dead
// letters, where List/ListDead/Get/Requeue/Drop reach them.
//
// # Keys and order
//
// Within a lane every item has an ordering key (NewItem.Key: e.g. channel
// and contact; all parts of one platform message share it). The store
// keeps each key's items in enqueue order, as a persisted sequence, and
// promises (design.md, "Queue semantics: lanes and keys"):
//
//   - Only a key's head (its oldest queued item) can be leased. While the
//     head is leased or waiting out a retry delay, the key's later items
//     wait; other keys go on.
//   - Lease returns up to max due heads of distinct keys, oldest due first
//     (then by id), so one busy key cannot starve the others.
//   - Acking or completing the head makes the key's next item the head,
//     due at once (or at its own due time, if later). Dead-lettering the
//     head does the same: later items are not held hostage by a dead letter.
//   - A requeued dead letter joins the end of its key's order.
//   - Order is a property of the stored data: after a lease expiry or a
//     restart the same heads are due again, in the same order.
//
// The empty key means "alone": such an item is ordered with nothing, and
// is always the head of its own key. Items of a store written before keys
// existed (format smscbridge-store-1) are migrated that way by Open.
//
// # Leases and fencing
//
// Every lease carries a fresh Item.Token, unique for the life of the file.
// Ack, Retry, Dead and Complete take it back and refuse a token that is
// not the item's current one with ErrStaleLease, changing nothing: that is
// the case once the lease ran out and another worker leased the item, after
// the holder's own Retry, and after the store was reopened. So a worker
// that stalled past LeaseTTL cannot ack, retry or complete work that now
// belongs to another (token 0 matches only an item not leased since its
// last retry or the last Open).
//
// Due items are found through a time index holding the heads of keys
// (lane, due time, id), never by scanning; LeaseWait sleeps until a commit
// makes an item of its lane due (an enqueue, a retry, a requeue, or a key's
// next item becoming its head) or the lane's earliest due time (or lease
// expiry) comes, without polling.
//
// # Dead letters
//
// Drop, DropDead, DropLane and the admin paths built on them remove dead
// letters only; a queued item is never dropped (ErrNotFound). DropDead and
// SettleDead remove a dead letter and, in the same transaction, enqueue
// follow-ups (and, for SettleDead, put receipt mappings): a late
// submit_sm_resp settles an unknown outcome in one call, and changes
// nothing if an operator requeued the dead letter meanwhile.
//
// # Marks
//
// Complete can put small records with a time to live (Mark; GetMark reads
// them), e.g. the last status reported for a message, so that reports never
// move backwards across a restart. Run deletes expired marks.
//
// # What is durable when a call returns
//
// Every call that changes state returns only after the bbolt transaction
// holding its change is committed and fsynced (fdatasync), or with an error
// and no part of its change committed. Concurrent calls share transactions
// and fsyncs (group commit; Options.MaxBatch), which does not weaken this.
//
//   - Enqueue: the item (and its dedup key) is on disk. kill -9 after the
//     return cannot lose it.
//   - Ack: the deletion is on disk; the item never comes back.
//   - Retry, Dead: the attempt count, error and new due time, or the
//     dead letter, are on disk.
//   - Complete: the ack, retry or dead-lettering, the new payload, every
//     follow-up item, receipt mapping, mark and forgotten dedup key are on
//     disk together; after a crash either all of them happened or none did.
//   - AddPart: the part is on disk, so the deliver_sm carrying it may be
//     acknowledged; when it completes the set, the assembled item is on disk
//     in the same transaction.
//   - PutReceipt, Requeue, RequeueLane, Drop, DropDead, SettleDead,
//     DropLane: their change is on
//     disk (the Lane variants work in transactions of up to 1000 items, each
//     durable on its own).
//   - Lease: the lease is committed with its batch, but a lease is not a
//     removal: when the store is reopened (after a crash or a clean Close)
//     every leased item that was not acked, retried or dead-lettered is due
//     at once, and while the store runs an item whose lease is older than
//     LeaseTTL is handed out again. Delivery is therefore at least once;
//     consumers de-duplicate by item id.
//
// If the context ends before a call has joined a transaction, the call
// returns ctx.Err() and changes nothing; once joined it runs to completion.
//
// # Receipts
//
// Receipt mappings ((SMSC id, normalised message id) → item, channel, part)
// are written by Complete in the same transaction as the ack of the submit,
// and expire ReceiptTTL later (Run deletes them in short transactions).
// MatchReceipt reads the last committed state: a mapping whose Complete
// returned before MatchReceipt is called is always found. The store does
// not hold receipts that arrive before their mapping: the bridge queues such
// a receipt itself and retries MatchReceipt for Options.ReceiptGrace.
//
// # MO reassembly
//
// AddPart stores each part of a concatenated MO durably, keyed by SMSC,
// source, destination, reference (8- or 16-bit) and part count. A repeated
// part (same number, same content) is ignored; a part whose number is
// already held with other content means the reference was reused, so the
// held set is closed (as on timeout, below) and a new one starts. The last
// part enqueues one item (with Part.Key as its ordering key) whose payload is
// EncodeParts of the parts in order. Sets still incomplete after
// ReassemblyTimeout are enqueued with Assembled.Missing set, or
// dead-lettered, according to Options.PartialMO (done by Run).
//
// # Size, locking and failures
//
// Acked items are deleted; bbolt reuses freed pages, so the file grows to
// fit the largest backlog and stays there. Compact (smscbridge queue
// compact) shrinks it offline. Per-lane counters (Stats) are kept with the
// data and cost nothing to read.
//
// Only one process can have the file open: Open waits LockTimeout and then
// fails with ErrLocked. A full disk fails the calls of the affected commit
// with an error matching ErrNoSpace (and syscall.ENOSPC); nothing of them
// is committed and the store works again once space returns. A commit that
// fails for any other reason (an I/O error) leaves bbolt's state in memory
// uncertain: the calls get ErrFatal, Fatal is closed and every later write
// is refused, so the process stops and a restart reopens the file. Run's
// sweeps survive their own errors (Options.Report) and skip corrupt
// records. A file that
// is not a readable store fails Open with ErrCorrupt and is never
// recreated or modified. A new file is created under a temporary name and
// renamed into place, so a crash during creation never leaves a
// half-initialised store (bbolt README, "Caveats").
//
// The trace log (Record, Trace; the Tracer interface is its contract for
// other backends) keeps the hops of each message for `smscbridge trace`:
// events wait in memory (at most 20,000) and Run writes them in one
// transaction every 250 ms (Close writes the rest), so tracing adds no
// commit per message; Run also deletes events older than TraceTTL and the
// oldest beyond TraceMax. It is best effort: the events of the last 250 ms
// before a crash may be lost (never the messages). Its buckets are created
// on first use (no format change).
//
// The package never logs; it returns errors (and hands Run's to
// Options.Report). It imports no other package
// of smscbridge, and no bbolt type crosses its API (design.md, "Beyond one
// machine"), so a PostgreSQL backend can offer the same calls.
package store
