// Package kannel is the Kannel-compatible channel dialect of the bridge
// (kind = "kannel"): RapidPro's Kannel channel (courier handler KN) and any
// program written for Kannel's sendsms interface send through the bridge
// unchanged, as if it were Kannel's smsbox. It follows platforms.md section
// C (C.1 sendsms, C.2 and C.4 dlr-url reports, C.3 MO), section E (status
// mapping) and §0.1 (idempotency, secrets). Debian's Kannel is the
// reference: make interop sends the same requests to both and compares.
//
// # sendsms: client → bridge
//
// The core serves GET and POST /cgi-bin/sendsms (Path) for every kannel
// channel (HEAD as GET, other methods 400 with no body, as Kannel) and
// hands each call to the Adapter whose username it names
// (username or user; X-Kannel-Username). Parameters come from the query
// string and, for a POST with a form body, from the form; a POST with any
// other body carries the text as its body and the parameters in
// X-Kannel-* headers. They are read as Kannel reads them: numbers as C
// atoi ("x" is 0), aliases user, pass, dlrmask, dlrurl. Checks, in Kannel's
// order, with Kannel's exact answers (text/html, Pragma and Cache-Control
// no-cache):
//
//	403 Authorization failed for sendsms          wrong password (constant-time compare), unknown user
//	400 Missing receiver number, rejected         no to
//	400 Empty receiver number not allowed, rejected
//	400 UDH field misformed, rejected             first udh octet is not its length - 1
//	400 UDH field is too long, rejected           udh over 140 octets
//	400 <Field> field misformed, rejected         MClass > 3, MWI > 7, Coding > 2, Compress, Alt-DCS > 1,
//	                                              RPI > 2, PID > 255, Priority > 3, or any of them,
//	                                              DLR-Mask, Validity or Deferred below -1
//	400 Charset or body misformed, rejected       text not valid in its charset
//	400 Number(s) has/have been denied by white- and/or black-lists.
//	                                              no receiver the bridge can send to
//	403 Not routable. Do not try again.           no SMSC serves the number
//	503 Temporal failure, try again later.        the commit failed (courier retries 5xx; never 429)
//	202 0: Accepted for delivery                  every receiver committed
//	404 Unknown request.                          another /cgi-bin/ path (the core)
//
// Text: a charset (utf8, utf-8, UTF-16BE, ISO-8859-1, ASCII, any case)
// decodes it; else coding=2 means raw UTF-16BE (courier v26.1.45 and
// later); else UTF-8. The bridge then picks GSM 03.38 or UCS-2 itself. An
// empty text is one empty SMS, as with Kannel. to may hold several numbers
// separated by spaces: one MT each. A missing from is the channel's first
// number (Kannel's global-sender). priority, validity and deferred
// (minutes) and binfo become submit_sm's priority_flag, validity_period,
// schedule_delivery_time (relative) and service_type
// (bridge.SubmitParams); smsc is the preferred SMSC (bridge.MT.SMSC).
// coding=1 (and a udh without coding) sends the text's octets as 8-bit data;
// udh goes before the user data with esm_class UDHI; mclass, alt-dcs and
// mwi set data_coding, pid protocol_id and rpi esm_class's reply path, all
// as Kannel's SMPP driver writes them (bridge.SubmitParams). compress and
// account are checked and ignored.
//
// # Reports: bridge → dlr-url
//
// An MT with a dlr-url and a dlr-mask above 0 carries both, with what the
// escape codes need, as its bridge.MT.ExternalID (the compact form of
// report.go; the JSON form of older versions still decodes). When the dlr-url names
// its message, as courier's does (no escape code but %d), its dedup key is
// the dlr-url, the receiver and a hash of the text, kept 24 h while the
// message is pending or went out; a dlr-url template with other codes
// (%F, %I, ...) is shared by many messages and de-duplicates nothing. Status turns each state change into a GET of the dlr-url with
// Kannel's escape codes (C.4.2) filled in, when the mask selects its type:
//
//	bridge.StateSent                      8   %A "ACK/"
//	bridge.StateBuffered                  4   %A the receipt text (ENROUTE, ACCEPTD, BUFFRED, ...)
//	bridge.StateDelivered                 1   %A the receipt text
//	bridge.StateFailed, from a receipt    2   %A the receipt text
//	bridge.StateFailed, otherwise         16  %A "NACK/0x<status, 8 hex>/<Kannel's name>" (or "NACK/")
//
// courier marks 2 and 16 errored and sends the message again with the same
// dlr-url: once the core has reported one of them the dedup key is dropped
// (store DropDedup), so that resend is sent. Reports never go backwards:
// no 8 or 4 after 1, 2 or 16 (the core merges them, platforms.md E).
//
// # MO: bridge → mo_url
//
// MO fills the channel's mo_url template with the escape codes (%p sender
// in E.164, %P the channel's number, %b and %a the text in UTF-8, %T Unix
// seconds, %I the MO's bridge id, stable across retries, %i the SMSC id,
// %c 0, %C UTF-8) and requests it with mo_method: GET, or POST with
// everything in the query string and an empty body, as courier's KN
// receive needs.
package kannel
