package notify

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/smscbridge/smscbridge/bridge"
	"github.com/smscbridge/smscbridge/conf"
)

// Template types (conf's lower-case "type" values) and their names on the
// wire (templateType in error bodies, platforms.md D.2).
const (
	TypeText     = "text"
	TypeImage    = "image"
	TypeVideo    = "video"
	TypeDocument = "document"
)

// Defaults of the media HEAD check (platforms.md D.4: a 10 s timeout).
const (
	DefaultHeadTimeout  = 10 * time.Second
	DefaultMaxRedirects = 5
)

// Config is one `kind = "notify"` channel. cmd maps the TOML [[channel]]
// table (and its [[channel.template]] tables) onto it.
type Config struct {
	// Channel is our channel id from the config.
	Channel string
	// WebsiteID is the {websiteId} of the request path that reaches this
	// channel.
	WebsiteID string
	// APIKey is the value of the "apikey" header clients send. Never logged.
	APIKey string
	// From is the sender address of the SMS (number or alphanumeric).
	From string
	// AllowPrivateMedia lets media links reach private, loopback and other
	// non-public addresses (tests, intranets). Off, such addresses are
	// refused after DNS resolution, on every redirect hop.
	AllowPrivateMedia bool
	// Templates are the channel's templates, by their id.
	Templates []conf.Template
	// DedupWindow drops a byte-identical request repeated within this
	// window (0 = off, platforms.md §0.1).
	DedupWindow time.Duration
	// HeadTimeout bounds the HEAD request of a media link, redirects
	// included (default DefaultHeadTimeout).
	HeadTimeout time.Duration
	// MaxRedirects is how many redirects the HEAD request follows (default
	// DefaultMaxRedirects; negative = none).
	MaxRedirects int
}

// Adapter is the template-notifications dialect bound to one configured
// channel. It implements bridge.Adapter and bridge.StatusLogger.
type Adapter struct {
	cfg       Config
	acc       bridge.Accepter
	log       *slog.Logger
	keySum    [sha256.Size]byte // sha256 of APIKey, compared in constant time
	templates map[string]conf.Template
	media     *http.Client
}

var (
	_ bridge.Adapter      = (*Adapter)(nil)
	_ bridge.StatusLogger = (*Adapter)(nil)
)

// New checks cfg and returns the adapter of one channel. It does no I/O.
// acc commits the SMS; logger may be nil (logs are then discarded).
func New(cfg Config, acc bridge.Accepter, logger *slog.Logger) (*Adapter, error) {
	if cfg.HeadTimeout <= 0 {
		cfg.HeadTimeout = DefaultHeadTimeout
	}
	if cfg.MaxRedirects == 0 {
		cfg.MaxRedirects = DefaultMaxRedirects
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if acc == nil {
		return nil, errors.New("notify: nil Accepter")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	a := &Adapter{
		cfg:       cfg,
		acc:       acc,
		log:       logger.With("channel", cfg.Channel),
		keySum:    sha256.Sum256([]byte(cfg.APIKey)),
		templates: map[string]conf.Template{},
	}
	var allow func(netip.Addr) bool
	if !cfg.AllowPrivateMedia {
		allow = publicAddr
	}
	a.media = newMediaClient(allow, cfg.HeadTimeout, cfg.MaxRedirects)
	for _, t := range cfg.Templates {
		a.templates[t.ID] = t
	}
	return a, nil
}

// validate reports every problem of cfg at once.
func (c *Config) validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("notify: channel %q: "+format, append([]any{c.Channel}, args...)...))
	}
	if c.Channel == "" {
		bad("channel id: required")
	}
	if c.WebsiteID == "" {
		bad("website_id: required")
	}
	if c.APIKey == "" {
		bad("apikey: required")
	}
	if c.From == "" {
		bad("from: required")
	}
	if len(c.Templates) == 0 {
		bad("at least one template is required")
	}
	seen := map[string]bool{}
	for _, t := range c.Templates {
		if t.ID == "" || seen[t.ID] {
			bad("template %q: id empty or used twice", t.ID)
		}
		seen[t.ID] = true
		if _, ok := mediaRules[t.Type]; !ok && t.Type != TypeText {
			bad("template %q: type must be text, image, video or document, got %q", t.ID, t.Type)
		}
		if _, err := t.Placeholders(); err != nil {
			bad("template %q: text: %v", t.ID, err)
		}
	}
	if c.DedupWindow < 0 {
		bad("dedup_window: must be 0 (off) or positive, got %s", c.DedupWindow)
	}
	return errors.Join(errs...)
}

// WebsiteID is the {websiteId} that reaches this channel.
func (a *Adapter) WebsiteID() string { return a.cfg.WebsiteID }

// MO refuses inbound messages: the notifications API has no way to pass
// them on (platforms.md D). The core dead-letters the MO with this reason,
// so nothing is lost; give notify channels no numbers.
func (a *Adapter) MO(bridge.MO) ([]bridge.Request, error) {
	return nil, errors.New("notify channels take no MO (the notifications API has no inbound side)")
}

// Status builds no platform request: the API has no status callback
// (platforms.md D.3, E). As a bridge.StatusLogger the core logs every
// change of a notification's merged status instead.
func (a *Adapter) Status(bridge.Status) ([]bridge.Request, error) { return nil, nil }

// LogsStatus marks the adapter as a bridge.StatusLogger.
func (a *Adapter) LogsStatus() {}
