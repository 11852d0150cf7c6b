// Package conf loads and checks the smscbridge TOML configuration
// (design.md, "Configuration").
//
// Load reads one file over Default(), strictly: unknown keys, values of the
// wrong type, secrets given twice and every rule below are errors. It
// reports every problem at once, each on its own line of the joined error,
// as
//
//	FILE:LINE: KEY VALUE: WHAT IS ALLOWED
//	smscbridge.toml:14: smsc "agg-a": port 0: must be 1..65535
//
// BurntSushi/toml gives a position only for the first decode error and one
// position per key name (not per [[smsc]] entry), so the package decodes the
// generic TOML tree itself and keeps its own key → line index.
//
// What conf does not do: open listeners, dial SMSCs, resolve host names or
// fetch URLs. The only files it reads are the configuration, the *_file
// secrets, and (to check they are usable) tls_cert, tls_key and tls_ca.
// Channel keys are checked with the channel adapters' own checks
// (bridge/rapidpro, bridge/custom), so a file that passes Validate is one
// the daemon starts with.
// It never logs. Formatting a Config with fmt or slog masks every secret
// (String, GoString, LogValue); the fields keep the real values.
//
// # Conventions
//
// Durations are Go duration strings ("30s", "10m", "1h30m"). Sizes are
// "512KiB", "1MiB", "1GiB", "1MB" or an integer number of bytes. Relative
// file names (tls_cert, tls_key, tls_ca, store.path, *_file) are relative
// to the configuration file's directory; Load rewrites them as such. Each
// secret key may instead be given as KEY_file, whose content (one trailing
// newline dropped, must not be empty) becomes the value; giving both is an
// error. Secrets: admin.token, smsc password, channel password, api_token,
// apikey and send_authorization.
//
// # Reloading
//
// The daemon re-reads the file on SIGHUP (systemctl reload) and checks it
// as Load does; a file with a problem changes nothing. Every key can change
// on a reload except these, which refuse the reload (use a restart):
// [http] listen, [admin] listen, turning TLS on or off (tls_cert/tls_key
// set or not; new certificate files are read on each reload), every key of
// [store] and [retry], and [log] format. Config.Line gives the line of a
// key path for such messages.
//
// # Key reference
//
// [http], the platform-facing listener:
//
//	listen     host:port, default "0.0.0.0:13013" (port 0 = any, for tests)
//	tls_cert   PEM certificate file; with tls_key, both or neither; the pair must load
//	tls_key    PEM key file
//	max_body   size > 0, default "1MiB"; larger request bodies get 413
//
// [admin], status page, metrics and queue administration:
//
//	listen     host:port, default "127.0.0.1:13000"; "" = no admin listener;
//	           must differ from http.listen
//	token      Bearer token for admin actions (or token_file); "" = actions off
//
// [store], the durable queue:
//
//	backend             "bbolt" (default: one node, the embedded file) | "postgres"
//	                    (one PostgreSQL database shared by 1..n nodes; README "PostgreSQL")
//	path                bbolt file, default "/var/lib/smscbridge/bridge.db" (bbolt only)
//	dsn                 postgres: connection string, URL or key=value, e.g.
//	                    "postgres://smscbridge@db.example.org/smscbridge?sslmode=verify-full"
//	                    (or dsn_file; a secret: never logged)
//	pool_size           postgres: 1..1000, default 10: most connections per node
//	schema              postgres: schema of the tables (created if missing), default
//	                    the role's search_path (public); a plain lower-case name
//	node                postgres: this node's name, default the host name; nodes
//	                    sharing a database must have different names
//	lease_time          >= "1s"; how long a worked item stays leased before it is due
//	                    again (on another node, after a crash); default "5m" (bbolt),
//	                    "15s" (postgres)
//	receipt_ttl         > 0, default "72h": how long a message waits for its receipt
//	                    (and how long the status last reported for it is remembered)
//	reassembly_timeout  > 0, default "10m": how long MO parts wait for the rest
//	partial_mo          "deliver" (default: what arrived, flagged) | "dead"
//	trace_ttl           >= 0, default "72h": how long the hops of each message are kept
//	                    for `smscbridge trace` and the status page's search; "0s" = no trace
//	trace_max           >= 1000, default 500000: most trace events kept (a few hundred
//	                    bytes each on disk); the oldest go first
//
// [retry], durable retries with exponential backoff and jitter:
//
//	max_attempts     >= 1, default 20
//	initial_backoff  > 0, default "2s", at most max_backoff
//	max_backoff      > 0, default "10m"
//	max_age          > 0, default "48h"
//
// [log]:
//
//	level   "debug" | "info" (default) | "warn" | "error"
//	format  "text" (default) | "json"
//
// [[smsc]], one per SMSC; at least one:
//
//	id                        required, unique; letters, digits, '.', '_', '-' (1-64)
//	host                      required; IP address or host name
//	port                      1..65535, default 2775
//	system_id                 required, at most 15 characters
//	password                  at most 8 characters (or password_file)
//	system_type               at most 12 characters, default ""
//	bind                      "transceiver" (default) | "transmitter" | "receiver" | "pair"
//	sessions                  1..32, default 1
//	tls                       default false
//	tls_ca                    PEM CA bundle, at least one certificate (only with tls = true)
//	tls_insecure_skip_verify  default false (only with tls = true)
//	local_addr                local IP address to dial from ("10.8.0.2"), or IP:port ("10.8.0.2:40000",
//	                          only with sessions = 1 and no pair bind); default "" (any)
//	enquire_link              > 0, default "30s"
//	response_timeout          > 0, default "10s"
//	reconnect_delay           > 0, default "2s"; doubles up to reconnect_max
//	reconnect_max             >= reconnect_delay, default "1m"
//	window                    1..1000, default 10
//	concurrency               1..1000, default 4 × window × sessions (at most 1000):
//	                          MT of this SMSC worked on at once, one per
//	                          recipient at most (design.md invariant 6); above the
//	                          window, the next MT are ready when a window slot frees
//	throughput                >= 0 submit_sm per second, default 0 (no limit)
//	max_inbound               1..10000, default 200: deliver_sm/data_sm being committed at once per session;
//	                          beyond it the SMSC is answered ESME_RTHROTTLED
//	throttle_pause            > 0, default "1s": first pause of a bind after ESME_RTHROTTLED/ESME_RMSGQFUL
//	throttle_max              >= throttle_pause, default "30s": longest pause (doubles while pauses do not help)
//	throttle_timeout          > 0, default "2m": how long one throttled submit_sm is held and resent before
//	                          it goes back to the queue
//	default_coding            "gsm7" (default) | "latin1" | "ascii": the data_coding MT is sent
//	                          with when the text fits (0x00, 0x03 or 0x01); UCS2 otherwise
//	dc0_charset               "gsm7" (default) | "latin1" | "ascii": what the octets of
//	                          data_coding 0x00 are on this SMSC (Kannel's alt-charset), for
//	                          MO decoding and MT encoding; "latin1"/"ascii" MT is still
//	                          sized as GSM (160 / 153 characters), since the SMSC converts
//	                          it to GSM on air, and goes as UCS2 when it does not fit both
//	gsm7_packed               default false; true packs GSM septets 8 in 7 octets (MO and
//	                          MT); only with dc0_charset = "gsm7"
//	text_receipts             default false; true makes MO text shaped like a receipt
//	                          ("id:... stat:...") without receipt esm_class bits a receipt,
//	                          for SMSCs that send receipts that way
//	long_messages             "udh" (default, 8-bit reference) | "udh16" | "sar" | "payload"
//	source_ton, dest_ton      "auto" (default) or a TON 0..6 (string or integer)
//	registered_delivery       default true
//	msg_id_type               "auto" (default) | "hex" | "decimal"
//	country                   ISO 3166 alpha-2 (any case, stored upper case) or ""
//	default_channel           id of a channel that receives MO (not notify), or ""
//	max_parts                 1..255, default 255 (fits the longest text of either
//	                          platform: 7,000 custom-channel characters are at most 213
//	                          parts, a 6,400-byte RapidPro message at most 96); an MT
//	                          needing more parts is refused with 400 naming both numbers
//	failover_after            > 0, default "30s": an MT whose SMSC has had no bind this long
//	                          moves to the next SMSC of its route or channel list
//
// [[route]], optional MT routing by destination prefix:
//
//	prefix  required, unique; optional "+" and 1-15 digits
//	smsc    required, non-empty list of known SMSC ids, at least one not a "receiver"
//
// [[channel]], one per platform connection; at least one. Every kind:
//
//	id       required, unique; letters, digits, '.', '_', '-' (1-64)
//	kind     "rapidpro" | "kannel" | "custom" | "notify"
//	smsc     required list of known SMSC ids, failover order, at least one
//	         not a "receiver"
//	numbers  (not notify) E.164 ("+" and 8-15 digits), short codes (up to 8
//	         digits) or alphanumeric senders (up to 11); a number belongs to
//	         one channel, and some SMSC of the channel must receive
//	concurrency
//	         1..1000, default 64: platform requests (MO, status callbacks)
//	         of this channel in flight at once, one per contact at most; also
//	         the size of the channel's keep-alive connection pool
//	max_requests_per_second
//	         0 (default: no limit) or a positive number: calls the platform
//	         may make to this channel's endpoints on the platform listener
//	         per second (bursts up to that many); beyond it the bridge
//	         answers 503 with a Retry-After header, never 429 (older
//	         courier fails a message on 429, platforms.md B.1.5). Takes
//	         effect on reload.
//
// A key of another kind is an error (webhook_url on a rapidpro channel).
//
// kind = "rapidpro" (platforms.md B):
//
//	receive_url         required absolute http(s) URL (courier …/c/ex/{uuid}/receive);
//	                    a channel UUID in it must be lower case (courier routes no other)
//	sent_url, delivered_url, failed_url
//	                    default: the sibling paths of receive_url; required
//	                    when receive_url does not end in /receive; same rules
//	send_authorization  the exact Authorization header courier sends (or _file);
//	                    no leading or trailing white space, no line break or NUL
//
// kind = "kannel" (platforms.md C):
//
//	username   required; unique among kannel channels
//	password   required (or password_file)
//	mo_url     absolute http(s) URL; Kannel escapes (%p, %b, ...) allowed; empty:
//	           MO to the channel's numbers become dead letters ("no mo_url configured")
//	mo_method  "GET" | "POST" (default; courier's KN receive takes POST only:
//	           everything in the query string, empty body)
//
// A kannel channel is served at GET/POST /cgi-bin/sendsms, found by the
// username the client sends; package bridge/kannel documents the
// parameters and answers.
//
// kind = "custom" (platforms.md A):
//
//	channel_id    required, the platform's Channel ID, at most 50 characters
//	api_token     required (or api_token_file), Bearer token both ways
//	webhook_url   required absolute http(s) URL
//	id_type       "phone" (default) | "custom"
//	dedup_window  >= 0, default "10s"; "0s" = off
//
// kind = "notify" (platforms.md D):
//
//	website_id           required, unique among notify channels
//	apikey               required (or apikey_file)
//	from                 required sender: E.164, short code or alphanumeric
//	allow_private_media  default false: media links must lead to public addresses (checked
//	                     after DNS, on every redirect); true also allows private/loopback ones
//	dedup_window         >= 0, default "10s"; "0s" = off
//	[[channel.template]] at least one:
//	  id    required, unique in the channel
//	  type  "text" | "image" | "video" | "document" (any case, stored lower case)
//	  text  required; {{name}} placeholders (see Template.Placeholders)
//	  url   media link for media types only; absolute http(s)
package conf
