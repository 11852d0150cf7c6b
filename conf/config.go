package conf

import (
	"time"
)

// Config is the whole daemon configuration, as decoded from one TOML file
// over Default(). The daemon maps it onto each component's own options.
type Config struct {
	HTTP    HTTP      `toml:"http"`
	Admin   Admin     `toml:"admin"`
	Store   Store     `toml:"store"`
	Retry   Retry     `toml:"retry"`
	Log     Log       `toml:"log"`
	SMSC    []SMSC    `toml:"smsc"`
	Route   []Route   `toml:"route"`
	Channel []Channel `toml:"channel"`

	// File is the path the configuration was loaded from ("" when built in
	// code). Relative *_file paths are resolved against its directory.
	File string `toml:"-"`

	lines *lineIndex // key path → line, set by Load; nil for a Config built in code
}

// HTTP is the platform-facing listener ([http]).
type HTTP struct {
	Listen  string `toml:"listen"`   // host:port, default "0.0.0.0:13013"
	TLSCert string `toml:"tls_cert"` // PEM certificate file; needs TLSKey
	TLSKey  string `toml:"tls_key"`  // PEM key file; needs TLSCert
	MaxBody Size   `toml:"max_body"` // request bodies above this get 413; default 1MiB
}

// Admin is the status/metrics/queue-admin listener ([admin]).
type Admin struct {
	Listen    string `toml:"listen"`     // host:port, default "127.0.0.1:13000"; "" = no admin listener
	Token     string `toml:"token"`      // Bearer token for admin actions; "" disables them
	TokenFile string `toml:"token_file"` // where Token was read from, if it was
}

// Store is the durable queue ([store]).
type Store struct {
	Backend           string   `toml:"backend"`            // "bbolt" (default: one node, embedded) | "postgres" (shared by 1..n nodes)
	Path              string   `toml:"path"`               // bbolt file, default "/var/lib/smscbridge/bridge.db"
	DSN               string   `toml:"dsn"`                // postgres: connection string (a secret: never logged)
	DSNFile           string   `toml:"dsn_file"`           // where DSN was read from, if it was
	PoolSize          int      `toml:"pool_size"`          // postgres: most connections, default 10
	Schema            string   `toml:"schema"`             // postgres: schema of the tables, default the role's search_path
	Node              string   `toml:"node"`               // postgres: this node's name among those sharing the database, default the host name
	LeaseTime         Duration `toml:"lease_time"`         // how long a worked item stays leased; default 5m (bbolt), 15s (postgres)
	ReceiptTTL        Duration `toml:"receipt_ttl"`        // how long a submit_sm_resp id waits for its receipt, default 72h
	ReassemblyTimeout Duration `toml:"reassembly_timeout"` // how long parts of a long MO wait for the rest, default 10m
	PartialMO         string   `toml:"partial_mo"`         // what happens on timeout: "deliver" (what arrived, flagged) or "dead"
	TraceTTL          Duration `toml:"trace_ttl"`          // how long message trace events are kept, default 72h; "0s" = no trace
	TraceMax          int      `toml:"trace_max"`          // most trace events kept (the oldest go first), default 500000
}

// Retry bounds the durable retries of queued work ([retry]).
type Retry struct {
	MaxAttempts    int      `toml:"max_attempts"`    // default 20
	InitialBackoff Duration `toml:"initial_backoff"` // default 2s, doubles (with jitter) up to MaxBackoff
	MaxBackoff     Duration `toml:"max_backoff"`     // default 10m
	MaxAge         Duration `toml:"max_age"`         // items older than this are dead-lettered, default 48h
}

// Log configures the daemon's slog handler ([log]).
type Log struct {
	Level  string `toml:"level"`  // "debug" | "info" | "warn" | "error", default "info"
	Format string `toml:"format"` // "text" | "json", default "text"
}

// SMSC is one aggregator's SMSC and how to bind to it ([[smsc]]).
type SMSC struct {
	ID                    string   `toml:"id"`
	Host                  string   `toml:"host"`
	Port                  int      `toml:"port"` // default 2775
	SystemID              string   `toml:"system_id"`
	Password              string   `toml:"password"`
	PasswordFile          string   `toml:"password_file"` // where Password was read from, if it was
	SystemType            string   `toml:"system_type"`
	Bind                  string   `toml:"bind"`     // "transceiver" (default) | "transmitter" | "receiver" | "pair"
	Sessions              int      `toml:"sessions"` // parallel binds of that kind, default 1
	TLS                   bool     `toml:"tls"`
	TLSInsecureSkipVerify bool     `toml:"tls_insecure_skip_verify"`
	TLSCA                 string   `toml:"tls_ca"`              // PEM CA bundle file to verify the SMSC with
	LocalAddr             string   `toml:"local_addr"`          // local IP ("10.8.0.2") or IP:port to dial from, "" = any
	EnquireLink           Duration `toml:"enquire_link"`        // default 30s
	ResponseTimeout       Duration `toml:"response_timeout"`    // default 10s
	ReconnectDelay        Duration `toml:"reconnect_delay"`     // first backoff step, default 2s
	ReconnectMax          Duration `toml:"reconnect_max"`       // backoff cap, default 1m
	Window                int      `toml:"window"`              // outstanding submit_sm per session, default 10
	Concurrency           int      `toml:"concurrency"`         // MT worked on at once, default 4 × window × sessions
	Throughput            float64  `toml:"throughput"`          // submit_sm per second for this SMSC, 0 = no limit
	MaxInbound            int      `toml:"max_inbound"`         // deliver_sm/data_sm being committed at once per session, default 200
	ThrottlePause         Duration `toml:"throttle_pause"`      // first pause after ESME_RTHROTTLED/ESME_RMSGQFUL, default 1s
	ThrottleMax           Duration `toml:"throttle_max"`        // longest throttling pause, default 30s
	ThrottleTimeout       Duration `toml:"throttle_timeout"`    // how long one submit_sm is held and resent while throttled, default 2m
	DefaultCoding         string   `toml:"default_coding"`      // "gsm7" (default) | "latin1" | "ascii"
	DC0Charset            string   `toml:"dc0_charset"`         // what data_coding 0 carries: "gsm7" (default) | "latin1" | "ascii"
	GSM7Packed            bool     `toml:"gsm7_packed"`         // GSM septets packed 8 in 7 octets (dc0_charset "gsm7" only)
	TextReceipts          bool     `toml:"text_receipts"`       // receipt-shaped MO text without receipt flags is a receipt
	LongMessages          string   `toml:"long_messages"`       // "udh" (default) | "udh16" | "sar" | "payload"
	SourceTON             string   `toml:"source_ton"`          // "auto" (default) or "0".."6"
	DestTON               string   `toml:"dest_ton"`            // "auto" (default) or "0".."6"
	RegisteredDelivery    bool     `toml:"registered_delivery"` // ask for receipts, default true
	MsgIDType             string   `toml:"msg_id_type"`         // "auto" (default) | "hex" | "decimal"
	Country               string   `toml:"country"`             // ISO 3166 alpha-2 (upper case) or ""
	DefaultChannel        string   `toml:"default_channel"`     // channel id for MO no channel claims
	MaxParts              int      `toml:"max_parts"`           // most SMS parts per message, default 255
	FailoverAfter         Duration `toml:"failover_after"`      // MT waiting this long with no bind move to the next SMSC of their list, default 30s
}

// Route sends MT whose destination starts with Prefix through SMSC, in
// order ([[route]]). Routes are consulted before a channel's smsc list.
type Route struct {
	Prefix string   `toml:"prefix"`
	SMSC   []string `toml:"smsc"`
}

// Channel is one platform connection ([[channel]]). Which fields apply
// depends on Kind; Load rejects keys of another kind.
type Channel struct {
	ID      string   `toml:"id"`
	Kind    string   `toml:"kind"`    // "rapidpro" | "kannel" | "custom" | "notify"
	Numbers []string `toml:"numbers"` // MO to these destination numbers belongs here
	SMSC    []string `toml:"smsc"`    // MT goes out through these, failing over in order
	// Concurrency is how many platform requests (callbacks) of this
	// channel are in flight at once, one per contact at most; default 16.
	Concurrency int `toml:"concurrency"`
	// MaxRequestsPerSecond caps the platform's calls to this channel's
	// endpoints on the platform listener (0 = no limit); over it the
	// bridge answers 503 with Retry-After, never 429 (platforms.md B.1.5).
	MaxRequestsPerSecond float64 `toml:"max_requests_per_second"`

	// rapidpro: RapidPro External (EX) channel.
	ReceiveURL            string `toml:"receive_url"`
	SentURL               string `toml:"sent_url"`      // default: sibling "sent" of ReceiveURL
	DeliveredURL          string `toml:"delivered_url"` // default: sibling "delivered" of ReceiveURL
	FailedURL             string `toml:"failed_url"`    // default: sibling "failed" of ReceiveURL
	SendAuthorization     string `toml:"send_authorization"`
	SendAuthorizationFile string `toml:"send_authorization_file"`

	// kannel: Kannel-compatible sendsms and MO URL.
	Username     string `toml:"username"`
	Password     string `toml:"password"`
	PasswordFile string `toml:"password_file"`
	MOURL        string `toml:"mo_url"`
	MOMethod     string `toml:"mo_method"` // "GET" | "POST" (default)

	// custom: respond.io-style custom channel.
	ChannelID    string   `toml:"channel_id"`
	APIToken     string   `toml:"api_token"`
	APITokenFile string   `toml:"api_token_file"`
	WebhookURL   string   `toml:"webhook_url"`
	IDType       string   `toml:"id_type"`      // "phone" (default) | "custom"
	DedupWindow  Duration `toml:"dedup_window"` // custom and notify; default 10s when loaded, 0 = off

	// notify: Cliengo-style template notifications.
	WebsiteID         string     `toml:"website_id"`
	APIKey            string     `toml:"apikey"`
	APIKeyFile        string     `toml:"apikey_file"`
	From              string     `toml:"from"`
	AllowPrivateMedia bool       `toml:"allow_private_media"`
	Template          []Template `toml:"template"`
}

// Template is one notification template of a notify channel
// ([[channel.template]]). Text holds {{name}} placeholders.
type Template struct {
	ID   string `toml:"id"`
	Type string `toml:"type"` // "text" | "image" | "video" | "document"
	Text string `toml:"text"`
	URL  string `toml:"url"` // media link used when a request has none (media types only)
}

// Channel kinds.
const (
	KindRapidPro = "rapidpro"
	KindKannel   = "kannel"
	KindCustom   = "custom"
	KindNotify   = "notify"
)

// DefaultChannelConcurrency is a channel's concurrency when the file (or
// code) leaves it out. Every callback in flight waits for its own store
// commit, so this also sizes the group commits of the callback lane: at
// 16, a channel carrying 1,000 MO/s and the statuses of 1,000 MT/s fell
// behind by seconds (make compare); at 64 it keeps up.
const DefaultChannelConcurrency = 64

// MaxConcurrency bounds the concurrency keys.
const MaxConcurrency = 1000

// SMSCConcurrencyPerWindow is how many MT an SMSC's lane works on at once
// per window slot when its concurrency key is not set: with 4, a lane keeps
// the next MT committed and waiting while the window is full, so submit_sm
// go out back to back (the benchmark: window × sessions took MT p50 to
// 670 ms, 4 × took it to 10 ms).
const SMSCConcurrencyPerWindow = 4

// DefaultSMSCConcurrency is an SMSC's concurrency when the file does not
// set it: SMSCConcurrencyPerWindow × window × sessions, 1..MaxConcurrency.
func DefaultSMSCConcurrency(window, sessions int) int {
	return min(max(SMSCConcurrencyPerWindow*window*sessions, 1), MaxConcurrency)
}

// Default returns the configuration used for every key a file leaves out.
// It has no SMSC and no channel; DefaultSMSC gives the per-SMSC defaults.
func Default() Config {
	return Config{
		HTTP:  HTTP{Listen: "0.0.0.0:13013", MaxBody: 1 << 20},
		Admin: Admin{Listen: "127.0.0.1:13000"},
		Store: Store{
			Backend:           "bbolt",
			Path:              "/var/lib/smscbridge/bridge.db",
			PoolSize:          10,
			ReceiptTTL:        Duration{72 * time.Hour},
			ReassemblyTimeout: Duration{10 * time.Minute},
			PartialMO:         "deliver",
			TraceTTL:          Duration{72 * time.Hour},
			TraceMax:          500000,
		},
		Retry: Retry{
			MaxAttempts:    20,
			InitialBackoff: Duration{2 * time.Second},
			MaxBackoff:     Duration{10 * time.Minute},
			MaxAge:         Duration{48 * time.Hour},
		},
		Log: Log{Level: "info", Format: "text"},
	}
}

// DefaultSMSC returns the defaults every [[smsc]] entry starts from.
func DefaultSMSC() SMSC {
	return SMSC{
		Port:               2775,
		Bind:               "transceiver",
		Sessions:           1,
		EnquireLink:        Duration{30 * time.Second},
		ResponseTimeout:    Duration{10 * time.Second},
		ReconnectDelay:     Duration{2 * time.Second},
		ReconnectMax:       Duration{time.Minute},
		Window:             10,
		MaxInbound:         200,
		ThrottlePause:      Duration{time.Second},
		ThrottleMax:        Duration{30 * time.Second},
		ThrottleTimeout:    Duration{2 * time.Minute},
		Concurrency:        DefaultSMSCConcurrency(10, 1),
		DefaultCoding:      "gsm7",
		DC0Charset:         "gsm7",
		LongMessages:       "udh",
		SourceTON:          "auto",
		DestTON:            "auto",
		RegisteredDelivery: true,
		MsgIDType:          "auto",
		MaxParts:           255,
		FailoverAfter:      Duration{30 * time.Second},
	}
}

// SMSCByID returns the [[smsc]] entry with that id, or nil.
func (c *Config) SMSCByID(id string) *SMSC {
	for i := range c.SMSC {
		if c.SMSC[i].ID == id {
			return &c.SMSC[i]
		}
	}
	return nil
}

// ChannelByID returns the [[channel]] entry with that id, or nil.
func (c *Config) ChannelByID(id string) *Channel {
	for i := range c.Channel {
		if c.Channel[i].ID == id {
			return &c.Channel[i]
		}
	}
	return nil
}

// Line returns the line of a key path ("http.listen", "smsc.0.port") in the
// file the configuration was loaded from, or of its nearest table; 0 when
// unknown (a Config built in code).
func (c *Config) Line(path string) int { return c.lines.line(path) }
