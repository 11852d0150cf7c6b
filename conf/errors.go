package conf

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// Error is one problem found in a configuration. Load and Validate return
// every problem, joined with errors.Join; errors.As recovers the first
// *Error, and the joined error's Unwrap() []error lists them all.
//
// Its message has the form
//
//	FILE:LINE: KEY VALUE: WHAT IS ALLOWED
//
// e.g. `smscbridge.toml:14: smsc "agg-a": port 0: must be 1..65535`. FILE
// and LINE are left out when unknown (a Config built in code), VALUE when
// the key is missing.
type Error struct {
	File  string // path given to Load, or ""
	Line  int    // 1-based line, or 0
	Key   string // key path as a person reads it: `http.listen`, `smsc "agg-a": port`
	Value string // the offending value as written (strings quoted), or ""
	Msg   string // what is wrong or allowed
	Err   error  // underlying error (reading a *_file), or nil
}

func (e *Error) Error() string {
	s := ""
	switch {
	case e.File != "" && e.Line > 0:
		s = e.File + ":" + strconv.Itoa(e.Line) + ": "
	case e.File != "":
		s = e.File + ": "
	case e.Line > 0:
		s = "line " + strconv.Itoa(e.Line) + ": "
	}
	s += e.Key
	if e.Value != "" {
		s += " " + e.Value
	}
	if e.Key != "" || e.Value != "" {
		s += ": "
	}
	return s + e.Msg
}

// Unwrap returns the underlying error, if any.
func (e *Error) Unwrap() error { return e.Err }

// problems collects errors with their positions.
type problems struct {
	file  string
	lines *lineIndex
	list  []*Error
	skip  map[string]bool // paths whose value failed to decode: no second error for them
}

// add records a problem at index path (for the line), shown as key.
// value nil means "no value" (a missing key).
func (p *problems) add(path, key string, value any, format string, args ...any) {
	if p.skip[path] {
		return
	}
	p.list = append(p.list, &Error{
		File:  p.file,
		Line:  p.lines.line(path),
		Key:   key,
		Value: showValue(value),
		Msg:   fmt.Sprintf(format, args...),
	})
}

// err joins the problems, sorted by line (stable, so problems without a
// line keep their order at the front).
func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	slices.SortStableFunc(p.list, func(a, b *Error) int { return cmp.Compare(a.Line, b.Line) })
	errs := make([]error, len(p.list))
	for i, e := range p.list {
		errs[i] = e
	}
	return errors.Join(errs...)
}

func showValue(v any) string {
	switch v := v.(type) {
	case nil, map[string]any, []map[string]any:
		return "" // a missing key, or a whole table
	case string:
		return strconv.Quote(v)
	case []string:
		return fmt.Sprintf("%q", v)
	case Duration:
		return strconv.Quote(v.String())
	case Size:
		return strconv.Quote(v.String())
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case time.Time:
		return v.Format(time.RFC3339)
	}
	return fmt.Sprint(v)
}
