package conf

import (
	"fmt"
	"log/slog"
	"slices"
)

// Secrets (passwords, tokens, API keys, Authorization values) are masked
// whenever a Config or one of its sections is printed with fmt (%v, %+v,
// %s, %#v) or logged with slog, so a stray debug line cannot leak them.
// The fields themselves keep the real values for the daemon to use.

const masked = "***"

func mask(s string) string {
	if s == "" {
		return ""
	}
	return masked
}

// Types without methods, so formatting a masked copy does not recurse.
type (
	plainConfig  Config
	plainAdmin   Admin
	plainStore   Store
	plainSMSC    SMSC
	plainChannel Channel
)

// Redacted returns a deep copy of c with every secret replaced by "***".
func (c Config) Redacted() Config {
	c.Admin = c.Admin.redacted()
	c.Store.DSN = mask(c.Store.DSN)
	c.SMSC = slices.Clone(c.SMSC)
	for i := range c.SMSC {
		c.SMSC[i] = c.SMSC[i].redacted()
	}
	c.Channel = slices.Clone(c.Channel)
	for i := range c.Channel {
		c.Channel[i] = c.Channel[i].redacted()
	}
	c.lines = nil
	return c
}

func (a Admin) redacted() Admin { a.Token = mask(a.Token); return a }

func (s SMSC) redacted() SMSC { s.Password = mask(s.Password); return s }

func (ch Channel) redacted() Channel {
	ch.SendAuthorization = mask(ch.SendAuthorization)
	ch.Password = mask(ch.Password)
	ch.APIToken = mask(ch.APIToken)
	ch.APIKey = mask(ch.APIKey)
	ch.Numbers = slices.Clone(ch.Numbers)
	ch.SMSC = slices.Clone(ch.SMSC)
	ch.Template = slices.Clone(ch.Template)
	return ch
}

// String formats the configuration with secrets masked.
func (c Config) String() string { return fmt.Sprintf("%+v", plainConfig(c.Redacted())) }

// GoString is %#v with secrets masked.
func (c Config) GoString() string { return fmt.Sprintf("%#v", plainConfig(c.Redacted())) }

// LogValue makes slog log the configuration with secrets masked.
func (c Config) LogValue() slog.Value { return slog.AnyValue(plainConfig(c.Redacted())) }

// String formats the section with the token masked.
func (a Admin) String() string { return fmt.Sprintf("%+v", plainAdmin(a.redacted())) }

// GoString is %#v with the token masked.
func (a Admin) GoString() string { return fmt.Sprintf("%#v", plainAdmin(a.redacted())) }

// LogValue makes slog log the section with the token masked.
func (a Admin) LogValue() slog.Value { return slog.AnyValue(plainAdmin(a.redacted())) }

// String formats the SMSC with its password masked.
func (s SMSC) String() string { return fmt.Sprintf("%+v", plainSMSC(s.redacted())) }

// GoString is %#v with the password masked.
func (s SMSC) GoString() string { return fmt.Sprintf("%#v", plainSMSC(s.redacted())) }

// LogValue makes slog log the SMSC with its password masked.
func (s SMSC) LogValue() slog.Value { return slog.AnyValue(plainSMSC(s.redacted())) }

// String formats the channel with its secrets masked.
func (ch Channel) String() string { return fmt.Sprintf("%+v", plainChannel(ch.redacted())) }

// GoString is %#v with the secrets masked.
func (ch Channel) GoString() string { return fmt.Sprintf("%#v", plainChannel(ch.redacted())) }

// LogValue makes slog log the channel with its secrets masked.
func (ch Channel) LogValue() slog.Value { return slog.AnyValue(plainChannel(ch.redacted())) }

// String formats the section with the DSN masked.
func (s Store) String() string { s.DSN = mask(s.DSN); return fmt.Sprintf("%+v", plainStore(s)) }

// GoString is %#v with the DSN masked.
func (s Store) GoString() string { s.DSN = mask(s.DSN); return fmt.Sprintf("%#v", plainStore(s)) }

// LogValue makes slog log the section with the DSN masked.
func (s Store) LogValue() slog.Value { s.DSN = mask(s.DSN); return slog.AnyValue(plainStore(s)) }
