package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

const compactTxSize = 64 << 20 // bytes copied per transaction

// Compact copies the store at src into a new, compacted file dst (which
// must not exist), leaving src untouched. It is an offline operation: it
// fails with ErrLocked if a daemon has src open. bbolt never shrinks a file
// by itself; it reuses freed pages, so a store only needs this after a
// backlog much larger than its steady state has drained.
func Compact(src, dst string) error {
	if _, err := os.Stat(dst); err == nil {
		return fmt.Errorf("store: compact: %s already exists", dst)
	}
	if _, err := os.Stat(src); err != nil {
		return fmt.Errorf("store: compact: %w", err)
	}
	in, err := openBolt(src, 5*time.Second, true)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := in.View(checkFormat); err != nil {
		return err
	}
	return compactInto(in, dst)
}

func compactInto(in *bolt.DB, dst string) error {
	out, err := bolt.Open(dst, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return fmt.Errorf("store: compact: %w", classify(err))
	}
	err = bolt.Compact(out, in, compactTxSize)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(dst)
		return fmt.Errorf("store: compact: %w", classify(err))
	}
	return nil
}

// CompactInPlace compacts the store at path and replaces it with the
// compacted copy, holding the file's lock throughout so no daemon can
// write to it meanwhile (Open notices a file replaced under it and opens
// the new one). It returns the sizes before and after. Offline, like
// Compact: ErrLocked if the file is in use.
func CompactInPlace(path string) (before, after int64, err error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, 0, fmt.Errorf("store: compact: %w", err)
	}
	in, err := openBolt(path, 5*time.Second, false) // exclusive lock
	if err != nil {
		return 0, 0, err
	}
	defer in.Close()
	if err := in.View(checkFormat); err != nil {
		return 0, 0, err
	}
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".compact-*")
	if err != nil {
		return 0, 0, fmt.Errorf("store: compact: %w", classify(err))
	}
	tmp := f.Name()
	f.Close()
	os.Remove(tmp) // compactInto creates it
	if err := compactInto(in, tmp); err != nil {
		return 0, 0, err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return 0, 0, fmt.Errorf("store: compact: %w", err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return 0, 0, fmt.Errorf("store: compact: %w", err)
	}
	fa, err := os.Stat(path)
	if err != nil {
		return 0, 0, fmt.Errorf("store: compact: %w", err)
	}
	return fi.Size(), fa.Size(), nil
}

// sameFile reports whether path still names the file f (it may have been
// replaced, e.g. by CompactInPlace, while we waited for its lock).
func sameFile(path string, f *os.File) bool {
	a, err := os.Stat(path)
	if err != nil {
		return false
	}
	b, err := f.Stat()
	return err == nil && os.SameFile(a, b)
}

var errReplaced = errors.New("store: file replaced while opening")
