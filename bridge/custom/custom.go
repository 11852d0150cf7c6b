package custom

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"
	"unicode/utf8"

	"github.com/smscbridge/smscbridge/bridge"
)

// ID types a channel can be created with in the platform (platforms.md A.1).
const (
	IDTypePhone  = "phone"  // contactId is an E.164 number with "+"
	IDTypeCustom = "custom" // contactId is up to 50 of [A-Za-z0-9_=+/@]
)

// Config is one `kind = "custom"` channel. cmd maps the TOML [[channel]]
// table onto it.
type Config struct {
	// Channel is our channel id (the {channel} of /custom/{channel}/message).
	Channel string
	// ChannelID is the platform's Channel ID (A.1). Requests must carry it
	// as channelId (a mismatch is a 400) and every webhook event carries it.
	ChannelID string
	// APIToken is the Bearer token of both directions (A.2). Never logged.
	APIToken string
	// WebhookURL is where MO and status events are POSTed (A.3).
	WebhookURL string
	// IDType is "phone" (the default when empty) or "custom".
	IDType string
	// DedupWindow drops a byte-identical /message body repeated within this
	// window (0 = off, §0.1 idempotency).
	DedupWindow time.Duration
	// Now is the clock for event timestamps that have no time of their
	// own; nil means time.Now.
	Now func() time.Time
}

// Adapter is the custom-channel dialect bound to one configured channel. It
// implements bridge.Adapter.
type Adapter struct {
	cfg      Config
	acc      bridge.Accepter
	log      *slog.Logger
	tokenSum [sha256.Size]byte // sha256 of APIToken, compared in constant time
}

var _ bridge.Adapter = (*Adapter)(nil)

// New checks cfg and returns the adapter of one channel. It does no I/O.
// acc commits the MTs the platform sends; logger may be nil (logs are then
// discarded).
func New(cfg Config, acc bridge.Accepter, logger *slog.Logger) (*Adapter, error) {
	if cfg.IDType == "" {
		cfg.IDType = IDTypePhone
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if acc == nil {
		return nil, errors.New("custom: nil Accepter")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Adapter{
		cfg:      cfg,
		acc:      acc,
		log:      logger.With("channel", cfg.Channel),
		tokenSum: sha256.Sum256([]byte(cfg.APIToken)),
	}, nil
}

// validate reports every problem of cfg at once.
func (c *Config) validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("custom: channel %q: "+format, append([]any{c.Channel}, args...)...))
	}
	if c.Channel == "" {
		bad("channel id: required")
	}
	if err := CheckChannelID(c.ChannelID); err != nil {
		bad("channel_id: %v", err)
	}
	if c.APIToken == "" {
		bad("api_token: required (the API Token the platform generated)")
	}
	if err := CheckWebhookURL(c.WebhookURL); err != nil {
		bad("webhook_url: %v", err)
	}
	if c.IDType != IDTypePhone && c.IDType != IDTypeCustom {
		bad("id_type: must be %q or %q, got %q", IDTypePhone, IDTypeCustom, c.IDType)
	}
	if c.DedupWindow < 0 {
		bad("dedup_window: must be 0 (off) or positive, got %s", c.DedupWindow)
	}
	return errors.Join(errs...)
}

// CheckChannelID checks the platform's Channel ID (channel_id): required,
// and at most 50 characters, the limit of the ids the platform exchanges
// (platforms.md A.1, A.4.3). check-config applies it too.
func CheckChannelID(id string) error {
	switch {
	case id == "":
		return errors.New("required: the Channel ID the platform generated")
	case utf8.RuneCountInString(id) > maxID:
		return fmt.Errorf("must be at most %d characters, got %d", maxID, utf8.RuneCountInString(id))
	}
	return nil
}

// CheckWebhookURL checks the platform's Webhook URL (webhook_url): an
// absolute http:// or https:// URL. check-config applies it too.
func CheckWebhookURL(s string) error {
	if s == "" {
		return errors.New("required: the Webhook URL the platform shows")
	}
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("not a valid URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("must be an http or https URL, got scheme %q", u.Scheme)
	}
	if u.Host == "" {
		return errors.New("has no host")
	}
	return nil
}
