// Package store is smscbridge's durable state: a work queue with named
// lanes, the receipt correlation map and the MO reassembly buffer, in one
// bbolt file (go.etcd.io/bbolt). Everything the bridge acknowledges to an
// SMSC or a platform passes through it first (design.md, "Invariants" 1
// and 2).
//
// # Queue
//
// Items live in lanes (arbitrary strings such as "mt:agg-a" or
// "http:rp-main"); one slow lane never holds up another. Every item keeps
// one id for its whole life: a UUIDv7 (RFC 9562), globally unique and
// ordered by creation time. A worker leases due items (Lease, LeaseWait),
// then acks them (Ack, or Complete to also queue follow-ups and receipt
// mappings in the same transaction), retries them (Retry: exponential
// backoff with jitter, or the caller's delay) or dead-letters them (Dead).
// Items past RetryPolicy.MaxAttempts or MaxAge go to the dead letters,
// where List/ListDead/Get/Requeue/Drop reach them.
//
// Due items are found through a time index (lane, due time, id), never by
// scanning; LeaseWait sleeps until a commit makes an item of its lane due or
// the lane's earliest due time (or lease expiry) comes, without polling.
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
//   - Complete: the ack or dead-lettering, every follow-up item and every
//     receipt mapping are on disk together; after a crash either all of
//     them happened or none did.
//   - AddPart: the part is on disk, so the deliver_sm carrying it may be
//     acknowledged; when it completes the set, the assembled item is on disk
//     in the same transaction.
//   - PutReceipt, Requeue, RequeueLane, Drop, DropLane: their change is on
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
// source, destination, reference (8- or 16-bit) and part count. Repeated
// parts are ignored. The last part enqueues one item whose payload is
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
// The package never logs; it returns errors (and hands Run's to
// Options.Report). It imports no other package
// of smscbridge, and no bbolt type crosses its API (design.md, "Beyond one
// machine"), so a PostgreSQL backend can offer the same calls.
package store
