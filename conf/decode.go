package conf

import (
	"encoding"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// decoder copies a generic TOML tree (map[string]any from toml.Decode)
// into the typed Config. Doing this by hand instead of decoding straight
// into Config lets Load report every unknown key and every badly typed
// value, each at its own line, instead of stopping at the first.
type decoder struct {
	*problems
}

// where locates a table: its index path ("smsc.0") and the prefix that
// names its keys in messages (`smsc "agg-a": `, `http.`).
type where struct{ path, label string }

func (w where) key(k string) (path, label string) { return join(w.path, k), w.label + k }

func (w where) child(k, label string) where { return where{join(w.path, k), label} }

// tonKeys may be written as a string ("auto", "1") or a bare integer.
var tonKeys = map[string]bool{"source_ton": true, "dest_ton": true}

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

// table fills the struct rv from m; unknown keys are problems.
func (d *decoder) table(m map[string]any, rv reflect.Value, w where) {
	fields := fieldsOf(rv.Type())
	for _, k := range sortedKeys(m) {
		path, label := w.key(k)
		i, ok := fields[k]
		if !ok {
			d.add(path, label, nil, "unknown key%s", suggest(k, fields))
			continue
		}
		d.value(m[k], rv.Field(i), w, k)
	}
}

// value decodes one value v into the field f named k of table w.
func (d *decoder) value(v any, f reflect.Value, w where, k string) {
	path, label := w.key(k)
	bad := func(want string) {
		d.add(path, label, v, "must be %s", want)
		d.skip[path] = true
	}
	if reflect.PointerTo(f.Type()).Implements(textUnmarshaler) {
		text(v, f, bad)
		return
	}
	switch f.Kind() {
	case reflect.String, reflect.Int, reflect.Float64, reflect.Bool:
		scalar(v, f, k, bad)
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			bad("a table [" + k + "]")
			return
		}
		d.table(m, f, w.child(k, label+"."))
	case reflect.Slice:
		d.slice(v, f, w, k, bad)
	default:
		panic("conf: no decoder for field " + k) // a programming error in Config
	}
}

// scalar decodes a string, int, float64 or bool field named k.
func scalar(v any, f reflect.Value, k string, bad func(string)) {
	switch f.Kind() {
	case reflect.String:
		switch v := v.(type) {
		case string:
			f.SetString(v)
		case int64:
			if !tonKeys[k] {
				bad("a string")
				return
			}
			f.SetString(strconv.FormatInt(v, 10))
		default:
			if tonKeys[k] {
				bad(`"auto" or a TON number 0..6`)
				return
			}
			bad("a string")
		}
	case reflect.Int:
		n, ok := v.(int64)
		switch {
		case !ok:
			bad("an integer")
		case n < math.MinInt32 || n > math.MaxInt32:
			bad("an integer from -2147483648 to 2147483647")
		default:
			f.SetInt(n)
		}
	case reflect.Float64:
		switch v := v.(type) {
		case int64:
			f.SetFloat(float64(v))
		case float64:
			f.SetFloat(v)
		default:
			bad("a number")
		}
	case reflect.Bool:
		b, ok := v.(bool)
		if !ok {
			bad("true or false")
			return
		}
		f.SetBool(b)
	}
}

// text decodes a Duration or Size.
func text(v any, f reflect.Value, bad func(string)) {
	u := f.Addr().Interface().(encoding.TextUnmarshaler)
	if _, isSize := u.(*Size); isSize {
		if n, ok := v.(int64); ok && n >= 0 {
			f.SetInt(n)
			return
		}
	}
	s, ok := v.(string)
	if !ok {
		if _, isSize := u.(*Size); isSize {
			bad(`a size like "1MiB", "512KiB" or a number of bytes`)
		} else {
			bad(`a duration string like "30s" or "10m"`)
		}
		return
	}
	if err := u.UnmarshalText([]byte(s)); err != nil {
		bad(strings.TrimPrefix(err.Error(), "conf: not "))
	}
}

// slice decodes []string and arrays of tables.
func (d *decoder) slice(v any, f reflect.Value, w where, k string, bad func(string)) {
	elem := f.Type().Elem()
	items, ok := asList(v)
	if !ok {
		if elem.Kind() == reflect.String {
			bad(`a list of strings like ["a", "b"]`)
		} else {
			bad("a list of tables [[" + k + "]]")
		}
		return
	}
	out := reflect.MakeSlice(f.Type(), len(items), len(items))
	for i, it := range items {
		if elem.Kind() == reflect.String {
			s, ok := it.(string)
			if !ok {
				bad(`a list of strings like ["a", "b"]`)
				return
			}
			out.Index(i).SetString(s)
			continue
		}
		m, ok := it.(map[string]any)
		if !ok {
			bad("a list of tables [[" + k + "]]")
			return
		}
		e := out.Index(i)
		e.Set(reflect.ValueOf(defaultEntry(elem)))
		ew := where{join(w.path, k) + "." + strconv.Itoa(i), entryLabel(w.label, k, i, m)}
		d.table(m, e, ew)
		d.entryDone(m, e, ew)
	}
	f.Set(out)
}

func asList(v any) ([]any, bool) {
	switch v := v.(type) {
	case []any:
		return v, true
	case []map[string]any:
		l := make([]any, len(v))
		for i := range v {
			l[i] = v[i]
		}
		return l, true
	}
	return nil, false
}

// defaultEntry is what a new array-of-tables entry starts from.
func defaultEntry(t reflect.Type) any {
	if t == reflect.TypeFor[SMSC]() {
		return DefaultSMSC()
	}
	return reflect.Zero(t).Interface()
}

// entryLabel names an entry by its id when it has one: `smsc "agg-a": `,
// else by position: `smsc #2: `.
func entryLabel(parent, k string, i int, m map[string]any) string {
	if id, ok := m["id"].(string); ok && id != "" {
		return fmt.Sprintf("%s%s %q: ", parent, k, id)
	}
	return fmt.Sprintf("%s%s #%d: ", parent, k, i+1)
}

// entryDone applies per-kind defaults and rejects keys of another channel
// kind, using which keys the file really wrote.
func (d *decoder) entryDone(m map[string]any, e reflect.Value, w where) {
	if n, set := m["concurrency"].(int64); set && n < 1 {
		// Left out it has a default (Complete); written, it must be usable.
		path, label := w.key("concurrency")
		d.add(path, label, n, "must be 1..%d", MaxConcurrency)
		d.skip[path] = true
	}
	if s, ok := e.Addr().Interface().(*SMSC); ok {
		if _, set := m["concurrency"]; !set {
			s.Concurrency = 0 // Complete derives it from window and sessions
		}
		return
	}
	ch, ok := e.Addr().Interface().(*Channel)
	if !ok {
		return
	}
	if _, set := m["dedup_window"]; !set && (ch.Kind == KindCustom || ch.Kind == KindNotify) {
		ch.DedupWindow = defaultDedupWindow
	}
	own, known := kindKeys[ch.Kind]
	if !known {
		return
	}
	for _, k := range sortedKeys(m) {
		if commonChannelKeys[k] || slices.Contains(own, k) {
			continue
		}
		if kinds := kindsOf(k); kinds != "" {
			path, label := w.key(k)
			d.add(path, label, nil, "not used by kind %q (only by %s)", ch.Kind, kinds)
		}
	}
}

var commonChannelKeys = map[string]bool{"id": true, "kind": true, "smsc": true, "concurrency": true, "max_requests_per_second": true}

// kindKeys lists the channel keys each kind uses besides id, kind and smsc.
var kindKeys = map[string][]string{
	KindRapidPro: {"numbers", "receive_url", "sent_url", "delivered_url", "failed_url", "send_authorization", "send_authorization_file"},
	KindKannel:   {"numbers", "username", "password", "password_file", "mo_url", "mo_method"},
	KindCustom:   {"numbers", "channel_id", "api_token", "api_token_file", "webhook_url", "id_type", "dedup_window"},
	KindNotify:   {"website_id", "apikey", "apikey_file", "from", "allow_private_media", "template", "dedup_window"},
}

func kindsOf(key string) string {
	var ks []string
	for _, kind := range []string{KindRapidPro, KindKannel, KindCustom, KindNotify} {
		if slices.Contains(kindKeys[kind], key) {
			ks = append(ks, strconv.Quote(kind))
		}
	}
	return strings.Join(ks, ", ")
}

// fieldsOf maps TOML keys to field indexes of a struct type.
func fieldsOf(t reflect.Type) map[string]int {
	m := map[string]int{}
	for i := range t.NumField() {
		f := t.Field(i)
		if tag := f.Tag.Get("toml"); f.IsExported() && tag != "" && tag != "-" {
			m[tag] = i
		}
	}
	return m
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// suggest proposes the closest known key for a typo.
func suggest(k string, fields map[string]int) string {
	best, bestD := "", 3
	for f := range fields {
		if d := editDistance(k, f); d < bestD || d == bestD && f < best {
			best, bestD = f, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := prev[j-1]
			if a[i-1] != b[j-1] {
				c++
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
