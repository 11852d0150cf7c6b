package smsc

import "github.com/smscbridge/smscbridge/smsc/pdu"

// decoder returns how the reader decodes what the SMSC sends: leniently
// (smpp.md §1.1), so that an over-long system_id, source_addr or message_id,
// or a message_id without its NUL, is taken whole instead of failing a bind,
// losing an MO or making an accepted submit an unknown outcome. The first
// such PDU of the bind is logged; later ones are not, so a SMSC that always
// does it does not flood the log. Only the read goroutine calls Tolerated.
func (c *conn) decoder() pdu.DecodeOptions {
	logged := false
	return pdu.DecodeOptions{Lenient: true, Tolerated: func(h pdu.Header, err error) {
		if logged {
			return
		}
		logged = true
		c.log.Warn("accepted a PDU that breaks SMPP 3.4 field limits (logged once per bind)",
			"command", h.ID, "seq", h.Seq, "err", err)
	}}
}
