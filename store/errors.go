package store

import (
	"errors"
	"fmt"
	"syscall"
)

// Sentinel errors. Every error the store returns wraps one of these, a
// context error, or an I/O error from the operating system.
var (
	// ErrNotFound means no queued or dead item has that id (or it belongs to
	// another lane). For Ack, Retry, Dead and Complete it usually means the
	// item was already completed by another worker after its lease expired.
	ErrNotFound = errors.New("store: item not found")

	// ErrStaleLease means the lease token passed to Ack, Retry, Dead or
	// Complete is not the item's current one: its lease ran out and another
	// worker leased it, or the store was reopened since. Nothing was
	// changed; the current holder finishes the item.
	ErrStaleLease = errors.New("store: stale lease")

	// ErrLocked means another process holds the database open; Open waited
	// Options.LockTimeout for it to let go.
	ErrLocked = errors.New("store: database is locked by another process")

	// ErrClosed means the store was closed; nothing more can be done with it.
	ErrClosed = errors.New("store: closed")

	// ErrCorrupt means the file is not a readable smscbridge store: bad meta
	// pages, a checksum mismatch, a record that does not decode, or a bbolt
	// file without our buckets. The store never recreates such a file; an
	// operator must restore it from a backup or move it aside.
	ErrCorrupt = errors.New("store: database file is corrupt or not a smscbridge store")

	// ErrNoSpace means a write failed because the disk (or the file system
	// quota) is full. The error also wraps the underlying syscall.ENOSPC or
	// EDQUOT. Nothing of the failed call was committed; the store stays
	// usable and later calls succeed once space returns. Callers should turn
	// it into a temporary failure (SMPP ESME_RX_T_APPN, HTTP 503).
	ErrNoSpace = errors.New("store: no space left on device")

	// ErrInvalid means the caller passed an unusable argument (empty lane,
	// oversized key, part number out of range...). Retrying will not help.
	ErrInvalid = errors.New("store: invalid argument")
)

// classify maps low-level failures onto the sentinels above.
func classify(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNoSpace):
		return err
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return fmt.Errorf("%w: %w", ErrNoSpace, err)
	}
	return err
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}
