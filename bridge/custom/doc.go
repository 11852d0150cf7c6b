// Package custom is the `kind = "custom"` channel: the respond.io-style
// Custom Channel (and its white-labels), platforms.md section A, with the
// status mapping of section E and the conventions of §0.1.
//
// # Platform → bridge: POST /custom/{channel}/message (A.4)
//
// The core mounts an [Adapter] there (the platform's "API Base URL" is
// https://{bridge}/custom/{channel}). The handler
//
//   - checks "Authorization: Bearer {api_token}" (scheme in any case,
//     whitespace trimmed, constant-time comparison); otherwise 401
//     {"error":{"message":"unauthorized"}};
//   - decodes the JSON body {"channelId","contactId","message"}; channelId
//     must equal channel_id, contactId must be an E.164 number with "+"
//     (id_type "phone") or up to 50 of [A-Za-z0-9_=+/@] (id_type "custom");
//   - validates the message against the limits of A.4.2: text (≤ 7,000
//     characters), attachment (type image|video|audio|file, url ≤ 2,000,
//     fileName and description ≤ 256), location (latitude −90…90,
//     longitude −180…180, address ≤ 256), quick_reply (title ≤ 256, 1 to 10
//     replies of ≤ 256). Characters are Unicode code points;
//   - renders it as SMS text (A.4.4): attachment = description + "\n" + url;
//     location = address + "\n" + https://maps.google.com/?q=lat,lon;
//     quick_reply = title + "\n1) first\n2) second…" (a missing description
//     or address drops its line);
//   - commits the MT with bridge.Accepter.Accept and only then answers 200
//     {"mId":"<bridge id>"}.
//
// Every rejection is {"error":{"message":"<field>: <reason>"}} naming the
// JSON path, e.g. "message.text: longer than 7000 characters" (400). A body
// over the core's limit is 413, an Accept error wrapping bridge.ErrInvalid
// or bridge.ErrNoRoute is 400, any other Accept error 503 (nothing was
// committed: the platform should retry).
//
// When dedup_window is positive the MT carries DedupKey = hex SHA-256 of the
// raw body, so a byte-identical /message repeated within the window is
// answered with the first mId and sends no second SMS (§0.1; the requests
// carry no message id of their own).
//
// Status events name the recipient (bridge.Status.To) as contactId.
//
// # Bridge → platform: POST {webhook_url} (A.3)
//
// [Adapter.MO] and [Adapter.Status] build the requests; the core queues,
// sends and retries them. Each request carries one event, the headers
// "Authorization: Bearer {api_token}" and "Content-Type: application/json",
// and the envelope {"channelId","contactId","events":[…]}.
//
// MO: a "message" event with mId = bridge.MO.ID, timestamp = the commit time
// in Unix epoch milliseconds, message {"type":"text","text":…}, contactId =
// the sender, and contact {"phone","countryCode"} when the sender is an
// E.164 number (countryCode from its prefix, omitted when unknown). A text
// over 7,000 characters becomes several events with mIds "{id}-1",
// "{id}-2", … and timestamps one millisecond apart.
//
// Status (E): a "message_status" event with mId = the mId /message
// returned (bridge.Status.MTID) and status {"value": …}:
//
//	bridge.StateSent      → "sent"       (submit_sm_resp OK)
//	bridge.StateDelivered → "delivered"  (receipt DELIVRD)
//	bridge.StateFailed    → "failed", "message": reason ≤ 256 characters
//	                        (Description, plus ErrorCode when not in it)
//
// "read" is never sent. The status layout and value spelling are unverified
// (platforms.md F.1) and live in statusFor alone.
//
// # Configuration
//
// [Config] mirrors the [[channel]] keys: id (Channel), channel_id
// (ChannelID), api_token (APIToken), webhook_url (WebhookURL), id_type
// ("phone" default, or "custom"), dedup_window (DedupWindow, 0 = off).
//
// # What it does not do
//
// It does not send HTTP, retry, rate-limit (A.1: 20 req/s) or order
// statuses (a status never moving backwards is the core's job); it does not
// log tokens; it does not produce message_echo events or read receipts.
package custom
