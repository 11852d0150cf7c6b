// Package rapidpro is the RapidPro "External API" channel dialect (courier
// handler EX) of the bridge: one Adapter per configured channel of
// kind = "rapidpro". It follows platforms.md section B (B.1 send call, B.2
// MO, B.3 status callbacks), section E (status mapping) and the conventions
// of §0.1 (numbers, RFC 3339 dates, idempotency, secrets).
//
// # Send call: courier → bridge
//
// The core mounts the Adapter at POST /rapidpro/{channel}/send; GET and PUT
// are parsed the same way (courier's method setting). The body is JSON or
// form-urlencoded according to Content-Type (sniffed when absent); an empty
// body is allowed and any key the body lacks is read from the query string.
// Keys (B.1.1, B.1.3):
//
//	uuid, id            at least one; uuid wins. id may be a JSON integer
//	                    (older courier) or a string; uuid must be a UUID, id
//	                    an integer or a UUID; if both are given they must be
//	                    equal. Kept exactly as received for status callbacks.
//	text                required; empty only if quick replies follow.
//	to | to_no_plus     required (to wins), passed to the core as given.
//	from | from_no_plus optional sender override (from wins).
//	quick_replies       JSON array of strings; in forms, repeated quick_reply.
//	channel, session_status and any other key: ignored.
//
// Quick replies (sent by courier with the last chunk only) are appended to
// the text, one per line, so the person sees the choices and types one back.
//
// The MT is committed through bridge.Accepter before anything is answered.
// Every chunk of a message split by courier carries the same id (B.1.4), so
// the dedup key is channel + id + SHA-256 of the text, kept 24 h: a courier
// retry of the same chunk is answered with the first bridge id and queues
// nothing. Answers, all JSON:
//
//	200 {"status":"accepted","id":"<bridge id>"}   (mt_response_check "accepted" passes)
//	400 {"status":"error","error":"...","field":"to"}  bad body, unroutable or invalid message
//	401 wrong or missing Authorization             (when send_authorization is set)
//	405 other methods; 413 body too large; 415 XML or other content types
//	503 the commit failed: courier retries 5xx. Never 429 (older courier fails it).
//
// courier treats every 4xx as a permanent failure of the message.
//
// # MO and status callbacks: bridge → courier
//
// MO builds one form POST to receive_url: from, text and date (RFC 3339 UTC
// with milliseconds). Status builds one form POST per state change:
//
//	bridge.StateSent      → {receive_url sibling}/sent       (submit_sm_resp OK)
//	bridge.StateDelivered → …/delivered                      (receipt DELIVRD)
//	bridge.StateFailed    → …/failed                         (submit error, UNDELIV/EXPIRED/…)
//
// with body id=<id as received>, plus uuid=<same> when it is a UUID: older
// courier reads an integer id, current courier a UUID in uuid or id.
// courier writes whatever status it gets, so the core must never report a
// state older than one already reported, and must merge the chunks of one
// id (B.1.4: failed if any failed, else the least advanced); the adapter is
// stateless and builds requests only.
//
// # Configuration
//
// Config maps the channel's TOML keys: id (Channel), receive_url,
// sent_url / delivered_url / failed_url (derived from receive_url when
// empty: its last path segment "receive" becomes "sent", "delivered",
// "failed") and send_authorization (the exact Authorization value set in
// RapidPro, e.g. "Bearer s3cret"; compared in constant time, never logged).
//
// # Not here
//
// Sending the requests, retries and dead letters, de-duplication storage,
// number normalisation, routing, text length limits and segmentation
// belong to the bridge core. Opt-out (B.4 /stopped) is not implemented.
package rapidpro
