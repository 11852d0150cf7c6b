// Package notify is the `kind = "notify"` channel: Cliengo-style template
// notifications (seed 003, platforms.md D), served by the bridge so that
// applications written for that API send templated SMS.
//
// # App → bridge: POST /website/{websiteId}/hsm/notifications (D.1)
//
// The core finds the channel by websiteId (an unknown one is 401
// UNAUTHORIZED) and mounts an [Adapter] there. The handler checks, in
// D.2's order, and answers the first failure with D.3's body
// {"code","statusCode","description","result"}:
//
//  1. the body schema: templateId (string or number, compared as a
//     string), destination (digits only, 6 to 15, no "+"), params (an
//     object), optional media {link (absolute http(s) URL), filename}:
//     400 INVALID_BODY with one Joi-style item per problem;
//  2. the apikey header, compared in constant time: 401 UNAUTHORIZED;
//  3. the template: 404 NOT_FOUND;
//  4. the params: every {{name}} of the template must be there (strings,
//     numbers, booleans; extra params ignored): 400 INVALID_BODY naming
//     each missing "params.<name>";
//  5. for a media template with a media.link: a HEAD request (bounded
//     timeout and redirects; unless allow_private_media, every resolved
//     address, on every hop, must be public, checked in the dialer's
//     Control hook): 400 HEAD_METHOD_NOT_ALLOWED when it fails, 400
//     INVALID_CONTENT_LENGTH without content-length, 400
//     INVALID_CONTENT_TYPE for a type outside the template type's list,
//     409 FILE_SIZE_EXCEEDED when the length is not strictly below the
//     maximum.
//
// The rendered text (plus "\n" and the media link for media templates,
// else the template's url) is committed as an MT to "+{destination}" from
// the channel's from; only then is 200 SUCCESS answered, with the bridge
// id in the X-Smscbridge-Id header.
//
// # Statuses
//
// The API has no callback: Status builds no request, and as a
// bridge.StatusLogger the adapter has the core log each change of a
// notification's merged status ("notification status", msg_id, status)
// and keep the last one (bridge.LoggedStatus).
package notify
