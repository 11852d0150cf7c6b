package conf

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// defaultDedupWindow is dedup_window when a custom or notify channel does
// not set it (platforms.md §0.1).
var defaultDedupWindow = Duration{10 * time.Second}

// Load reads the TOML file at path over Default(), strictly: an unknown
// key, a value of the wrong type, a secret given both inline and as a
// *_file, an unreadable *_file and everything Validate rejects are errors.
// The error joins every problem found (see Error), sorted by line. On
// success the Config has its *_file secrets read, derived values filled
// in (Complete) and File set to path.
func Load(path string) (*Config, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{File: path, Msg: "cannot read the configuration: " + errText(err), Err: err}
	}
	return parse(path, src)
}

// parse is Load on source text already read.
func parse(path string, src []byte) (*Config, error) {
	var tree map[string]any
	if _, err := toml.Decode(string(src), &tree); err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, &Error{File: path, Line: pe.Position.Line, Msg: "invalid TOML: " + pe.Message, Err: err}
		}
		return nil, &Error{File: path, Msg: "invalid TOML: " + err.Error(), Err: err}
	}
	cfg := Default()
	cfg.File = path
	cfg.lines = indexLines(src)
	p := &problems{file: path, lines: cfg.lines, skip: map[string]bool{}}
	d := decoder{p}
	d.table(tree, reflect.ValueOf(&cfg).Elem(), where{})
	cfg.readSecrets(p)
	cfg.Complete()
	cfg.validate(p)
	if err := p.err(); err != nil {
		return nil, err
	}
	cfg.resolvePaths()
	return &cfg, nil
}

// resolve makes a relative file name relative to the configuration file's
// directory (not to the daemon's working directory).
func (c *Config) resolve(name string) string {
	if name == "" || filepath.IsAbs(name) || c.File == "" {
		return name
	}
	return filepath.Join(filepath.Dir(c.File), name)
}

// resolvePaths rewrites every relative file name of a loaded Config as
// resolve does, so the daemon opens the files Load checked.
func (c *Config) resolvePaths() {
	for _, p := range []*string{&c.HTTP.TLSCert, &c.HTTP.TLSKey, &c.Store.Path, &c.Store.DSNFile, &c.Admin.TokenFile} {
		*p = c.resolve(*p)
	}
	for i := range c.SMSC {
		c.SMSC[i].TLSCA = c.resolve(c.SMSC[i].TLSCA)
		c.SMSC[i].PasswordFile = c.resolve(c.SMSC[i].PasswordFile)
	}
	for i := range c.Channel {
		ch := &c.Channel[i]
		for _, p := range []*string{&ch.PasswordFile, &ch.APITokenFile, &ch.APIKeyFile, &ch.SendAuthorizationFile} {
			*p = c.resolve(*p)
		}
	}
}

// secret is one inline-or-file secret of the configuration.
type secret struct {
	path, key   string // index path and message label of the inline key
	value, file *string
}

func (c *Config) secrets() []secret {
	s := []secret{{"admin.token", "admin.token", &c.Admin.Token, &c.Admin.TokenFile},
		{"store.dsn", "store.dsn", &c.Store.DSN, &c.Store.DSNFile}}
	for i := range c.SMSC {
		w := c.smscWhere(i)
		s = append(s, secret{w.path + ".password", w.label + "password", &c.SMSC[i].Password, &c.SMSC[i].PasswordFile})
	}
	for i := range c.Channel {
		ch, w := &c.Channel[i], c.channelWhere(i)
		s = append(s,
			secret{w.path + ".password", w.label + "password", &ch.Password, &ch.PasswordFile},
			secret{w.path + ".api_token", w.label + "api_token", &ch.APIToken, &ch.APITokenFile},
			secret{w.path + ".apikey", w.label + "apikey", &ch.APIKey, &ch.APIKeyFile},
			secret{w.path + ".send_authorization", w.label + "send_authorization", &ch.SendAuthorization, &ch.SendAuthorizationFile},
		)
	}
	return s
}

// readSecrets replaces every x_file by the file's content in x. A relative
// file name is relative to the configuration file's directory; one trailing
// newline (LF or CRLF) is dropped.
func (c *Config) readSecrets(p *problems) {
	for _, s := range c.secrets() {
		if *s.file == "" {
			continue
		}
		fpath, fkey := s.path+"_file", s.key+"_file"
		if *s.value != "" {
			p.add(fpath, fkey, *s.file, "give either %s or %s, not both", lastKey(s.key), lastKey(fkey))
			continue
		}
		b, err := os.ReadFile(c.resolve(*s.file))
		if err != nil {
			p.add(fpath, fkey, *s.file, "cannot read the secret: %s", errText(err))
			continue
		}
		v := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
		if v == "" {
			p.add(fpath, fkey, *s.file, "the file is empty")
			continue
		}
		*s.value = v
	}
}

func lastKey(label string) string {
	if i := strings.LastIndexAny(label, " ."); i >= 0 {
		return label[i+1:]
	}
	return label
}

// errText is err's message without the path os errors repeat.
func errText(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// Complete fills in derived values: RapidPro status URLs from receive_url,
// per-kind defaults (mo_method "POST", id_type "phone") and canonical
// spellings (country upper case, mo_method upper case, template type lower
// case). Load calls it; call it on a Config built in code before Validate.
// A dedup_window left at 0 in code means "off"; a concurrency left at 0
// means its default (an SMSC's DefaultSMSCConcurrency, a channel's
// DefaultChannelConcurrency).
func (c *Config) Complete() {
	for i := range c.SMSC {
		s := &c.SMSC[i]
		s.Country = strings.ToUpper(s.Country)
		if s.Concurrency <= 0 {
			s.Concurrency = DefaultSMSCConcurrency(s.Window, s.Sessions)
		}
	}
	for i := range c.Channel {
		ch := &c.Channel[i]
		if ch.Concurrency <= 0 {
			ch.Concurrency = DefaultChannelConcurrency
		}
		switch ch.Kind {
		case KindRapidPro:
			ch.SentURL = orDerived(ch.SentURL, ch.ReceiveURL, "sent")
			ch.DeliveredURL = orDerived(ch.DeliveredURL, ch.ReceiveURL, "delivered")
			ch.FailedURL = orDerived(ch.FailedURL, ch.ReceiveURL, "failed")
		case KindKannel:
			ch.MOMethod = strings.ToUpper(ch.MOMethod)
			if ch.MOMethod == "" {
				ch.MOMethod = "POST"
			}
		case KindCustom:
			if ch.IDType == "" {
				ch.IDType = "phone"
			}
		case KindNotify:
			for j := range ch.Template {
				ch.Template[j].Type = strings.ToLower(ch.Template[j].Type)
			}
		}
	}
}

// orDerived returns v, or receive's sibling path action when receive ends
// in "/receive" (courier's /c/ex/{uuid}/receive → /c/ex/{uuid}/sent).
func orDerived(v, receive, action string) string {
	if v != "" {
		return v
	}
	base, query, _ := strings.Cut(receive, "?")
	trail := strings.HasSuffix(base, "/")
	base = strings.TrimSuffix(base, "/")
	if !strings.HasSuffix(base, "/receive") {
		return ""
	}
	out := strings.TrimSuffix(base, "receive") + action
	if trail {
		out += "/"
	}
	if query != "" {
		out += "?" + query
	}
	return out
}
