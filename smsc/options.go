package smsc

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/smscbridge/smscbridge/smsc/pdu"
)

// BindMode is the kind of bind a Client keeps up.
type BindMode int

// Bind modes. Pair keeps one transmitter and one receiver bind per session,
// for SMSCs that deliver MO and receipts only on a separate receiver bind.
const (
	Transceiver BindMode = iota // bind_transceiver: submit and receive on one link
	Transmitter                 // bind_transmitter: submit only
	Receiver                    // bind_receiver: receive only
	Pair                        // one bind_transmitter plus one bind_receiver
)

// ParseBindMode parses "transceiver", "transmitter", "receiver" or "pair"
// (case-insensitive; "trx", "tx" and "rx" are accepted too).
func ParseBindMode(s string) (BindMode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "transceiver", "trx":
		return Transceiver, nil
	case "transmitter", "tx":
		return Transmitter, nil
	case "receiver", "rx":
		return Receiver, nil
	case "pair":
		return Pair, nil
	}
	return 0, fmt.Errorf("smsc: bind mode %q: want transceiver, transmitter, receiver or pair", s)
}

// String returns the lowercase name used in configuration and status pages.
func (m BindMode) String() string {
	switch m {
	case Transceiver:
		return "transceiver"
	case Transmitter:
		return "transmitter"
	case Receiver:
		return "receiver"
	case Pair:
		return "pair"
	}
	return fmt.Sprintf("BindMode(%d)", int(m))
}

// MarshalText implements encoding.TextMarshaler.
func (m BindMode) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler, so configuration
// decoders report a bad value with its position.
func (m *BindMode) UnmarshalText(b []byte) error {
	v, err := ParseBindMode(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}

func (m BindMode) canSubmit() bool  { return m == Transceiver || m == Transmitter }
func (m BindMode) canReceive() bool { return m == Transceiver || m == Receiver }

func (m BindMode) command() pdu.CommandID {
	switch m {
	case Transmitter:
		return pdu.BindTransmitter
	case Receiver:
		return pdu.BindReceiver
	}
	return pdu.BindTransceiver
}

// Handler receives inbound deliver_sm and data_sm PDUs. The returned status
// is written in the deliver_sm_resp/data_sm_resp: return pdu.StatusOK only
// after the message is durably committed, ESME_RX_T_APPN when it cannot be
// taken now (the SMSC redelivers later) and ESME_RX_R_APPN for messages that
// will never be accepted. HandleDeliver runs in its own goroutine, at most
// Options.MaxInbound at a time per session (the SMSC gets ESME_RTHROTTLED
// beyond that, and the session keeps reading meanwhile); each response goes
// out as soon as its call returns, possibly out of order. ctx ends when the
// link is lost.
type Handler interface {
	HandleDeliver(ctx context.Context, p *pdu.PDU) pdu.Status
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, p *pdu.PDU) pdu.Status

// HandleDeliver calls f(ctx, p).
func (f HandlerFunc) HandleDeliver(ctx context.Context, p *pdu.PDU) pdu.Status { return f(ctx, p) }

// Options configure a Client. Zero durations and sizes take the defaults
// documented on each field.
type Options struct {
	ID   string      // SMSC id used in logs and Stats
	Addr string      // host:port of the SMSC
	TLS  *tls.Config // nil = plain TCP; else SMPP over TLS (ServerName defaults to the host)

	// LocalAddr is the local IP address ("10.8.0.2") or address and port
	// ("10.8.0.2:40000") every session dials from, for SMSCs that allow only
	// a whitelisted source; "" lets the system choose. A fixed port allows
	// one connection only: it needs Sessions 1 and no Pair. Not used with
	// Dial.
	LocalAddr string

	SystemID     string // bind system_id (≤ 15 characters)
	Password     string // bind password (≤ 8 characters); never logged
	SystemType   string // bind system_type, usually empty
	AddrTON      uint8  // bind addr_ton
	AddrNPI      uint8  // bind addr_npi
	AddressRange string // bind address_range, usually empty

	Bind     BindMode // kind of bind; default Transceiver
	Sessions int      // parallel binds of that kind (a Pair counts once); default 1

	EnquireLink     time.Duration // idle time before sending enquire_link; default 30s
	ResponseTimeout time.Duration // wait for any response (and for connect and bind); default 10s
	ReconnectDelay  time.Duration // first reconnect backoff step, doubled on every failure; default 2s
	ReconnectMax    time.Duration // backoff cap, also the wait after a bind refusal; default 1m
	UnbindTimeout   time.Duration // bounded waits of a graceful stop (drain, then unbind_resp); default 5s
	ThrottlePause   time.Duration // first pause of a bind after ESME_RTHROTTLED/ESME_RMSGQFUL; default 1s
	ThrottleMax     time.Duration // longest pause: it doubles while pauses do not help; default 30s
	ThrottleTimeout time.Duration // how long Submit holds a throttled submit_sm, resending it after each pause, before returning the throttling status; default 2m

	Window     int     // outstanding submit_sm per session; default 10
	MaxInbound int     // Handler calls running at once per session; beyond it deliver_sm/data_sm get ESME_RTHROTTLED; default 200
	Throughput float64 // submit_sm per second for the whole SMSC, each segment counts; 0 = unlimited

	Handler Handler // inbound deliver_sm/data_sm; required for Receiver and Pair

	// LateResponse, if set, is called when the submit_sm_resp (or
	// generic_nack) of a submit that failed with a response timeout arrives
	// later on the same link, within 10 minutes: ref is the
	// UnknownOutcomeError.Ref Submit returned. It runs on the read
	// goroutine and must not block.
	LateResponse func(ref uint64, messageID string, status pdu.Status)

	Logger *slog.Logger // nil = discard

	// Meter, if set, receives PDU counts and submit_sm latencies.
	Meter Meter

	// Dial opens the transport connection; nil uses a net.Dialer. Tests use
	// it to run sessions over net.Pipe inside testing/synctest.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Defaults of Options.
const (
	DefaultEnquireLink     = 30 * time.Second
	DefaultResponseTimeout = 10 * time.Second
	DefaultReconnectDelay  = 2 * time.Second
	DefaultReconnectMax    = time.Minute
	DefaultUnbindTimeout   = 5 * time.Second
	DefaultThrottlePause   = time.Second
	DefaultThrottleMax     = 30 * time.Second
	DefaultThrottleTimeout = 2 * time.Minute
	DefaultWindow          = 10
	DefaultMaxInbound      = 200
)

// withDefaults fills zero values and checks the rest.
func (o Options) withDefaults() (Options, error) {
	setDur(&o.EnquireLink, DefaultEnquireLink)
	setDur(&o.ResponseTimeout, DefaultResponseTimeout)
	setDur(&o.ReconnectDelay, DefaultReconnectDelay)
	setDur(&o.ReconnectMax, DefaultReconnectMax)
	setDur(&o.UnbindTimeout, DefaultUnbindTimeout)
	setDur(&o.ThrottlePause, DefaultThrottlePause)
	setDur(&o.ThrottleMax, DefaultThrottleMax)
	setDur(&o.ThrottleTimeout, DefaultThrottleTimeout)
	if o.Window == 0 {
		o.Window = DefaultWindow
	}
	if o.MaxInbound == 0 {
		o.MaxInbound = DefaultMaxInbound
	}
	if o.Sessions == 0 {
		o.Sessions = 1
	}
	if o.ReconnectMax < o.ReconnectDelay {
		o.ReconnectMax = o.ReconnectDelay
	}
	if o.ThrottleMax < o.ThrottlePause {
		o.ThrottleMax = o.ThrottlePause
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, o.check()
}

func setDur(d *time.Duration, def time.Duration) {
	if *d == 0 {
		*d = def
	}
}

func (o Options) check() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("smsc %q: "+format, append([]any{o.ID}, args...)...))
	}
	if _, _, err := net.SplitHostPort(o.Addr); err != nil {
		bad("addr %q: want host:port", o.Addr)
	}
	if len(o.SystemID) > 15 {
		bad("system_id %q longer than 15 characters", o.SystemID)
	}
	if len(o.Password) > 8 {
		bad("password longer than 8 characters")
	}
	if len(o.SystemType) > 12 {
		bad("system_type %q longer than 12 characters", o.SystemType)
	}
	if len(o.AddressRange) > 40 {
		bad("address_range longer than 40 characters")
	}
	if o.Bind < Transceiver || o.Bind > Pair {
		bad("bind mode %d unknown", int(o.Bind))
	}
	if o.Sessions < 1 || o.Sessions > 64 {
		bad("sessions must be 1..64, got %d", o.Sessions)
	}
	if o.Window < 1 || o.Window > 1000 {
		bad("window must be 1..1000, got %d", o.Window)
	}
	if o.MaxInbound < 1 || o.MaxInbound > 10000 {
		bad("max_inbound must be 1..10000, got %d", o.MaxInbound)
	}
	if o.Throughput < 0 {
		bad("throughput must be >= 0, got %g", o.Throughput)
	}
	for name, d := range map[string]time.Duration{
		"enquire_link": o.EnquireLink, "response_timeout": o.ResponseTimeout,
		"reconnect_delay": o.ReconnectDelay, "unbind_timeout": o.UnbindTimeout,
		"throttle_pause": o.ThrottlePause, "throttle_max": o.ThrottleMax, "throttle_timeout": o.ThrottleTimeout,
	} {
		if d < 0 {
			bad("%s must be positive, got %s", name, d)
		}
	}
	if o.LocalAddr != "" {
		la, err := ParseLocalAddr(o.LocalAddr)
		switch {
		case err != nil:
			bad("%v", err)
		case la.Port != 0 && (o.Sessions > 1 || o.Bind == Pair):
			bad("local_addr %q has a fixed port, which only one connection can use: leave the port out, or use sessions = 1 and no pair bind", o.LocalAddr)
		}
	}
	if o.Handler == nil && (o.Bind == Receiver || o.Bind == Pair) {
		bad("a %s bind needs a Handler", o.Bind)
	}
	return errors.Join(errs...)
}

// ParseLocalAddr parses a local bind address: an IP address ("10.8.0.2",
// "fd00::2") or an IP address and port ("10.8.0.2:40000",
// "[fd00::2]:40000"). Host names are refused: the address must be one of
// this host's.
func ParseLocalAddr(s string) (*net.TCPAddr, error) {
	if ip := net.ParseIP(s); ip != nil {
		return &net.TCPAddr{IP: ip}, nil
	}
	host, port, err := net.SplitHostPort(s)
	ip := net.ParseIP(host)
	if err != nil || ip == nil {
		return nil, fmt.Errorf("local_addr %q: want an IP address of this host, optionally with :port", s)
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil || n == 0 {
		return nil, fmt.Errorf("local_addr %q: port must be 1..65535", s)
	}
	return &net.TCPAddr{IP: ip, Port: int(n)}, nil
}
