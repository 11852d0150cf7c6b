package conf

import (
	"fmt"
	"math"
	"strconv"

	"github.com/smscbridge/smscbridge/bridge/custom"
	"github.com/smscbridge/smscbridge/bridge/rapidpro"
)

func (v validator) channels() {
	if len(v.c.Channel) == 0 {
		v.add("channel", "channel", nil, "at least one [[channel]] is required")
	}
	ids := map[string]bool{}
	numbers := map[string]string{} // number → channel that claims it
	unique := map[string]string{}  // kind-specific unique keys (kannel username, notify website_id)
	for i := range v.c.Channel {
		ch, w := &v.c.Channel[i], v.c.channelWhere(i)
		v.id(w, ch.ID, ids, "channel")
		v.oneOf(w, "kind", ch.Kind, KindRapidPro, KindKannel, KindCustom, KindNotify)
		v.numbers(w, ch, numbers)
		if len(ch.SMSC) == 0 {
			v.at(w, "smsc", nil, "required: the SMSC ids this channel sends through (in failover order)")
		}
		v.smscRefs(w, ch.SMSC, true)
		v.concurrency(w, ch.Concurrency)
		if r := ch.MaxRequestsPerSecond; r < 0 || math.IsNaN(r) || math.IsInf(r, 0) {
			v.at(w, "max_requests_per_second", r, "must be 0 (no limit) or a positive number of requests per second")
		}
		v.receives(w, ch)
		switch ch.Kind {
		case KindRapidPro:
			v.rapidpro(w, ch)
		case KindKannel:
			v.kannel(w, ch, unique)
		case KindCustom:
			v.custom(w, ch)
		case KindNotify:
			v.notify(w, ch, unique)
		}
	}
}

func (v validator) numbers(w where, ch *Channel, claimed map[string]string) {
	for _, n := range ch.Numbers {
		switch other, taken := claimed[n]; {
		case !validNumber(n):
			v.at(w, "numbers", n, numberAllowed)
		case taken && other == ch.ID:
			v.at(w, "numbers", n, "is listed twice")
		case taken:
			v.at(w, "numbers", n, "is already claimed by channel %q; a number belongs to one channel", other)
		default:
			claimed[n] = ch.ID
		}
	}
}

// receives checks that a channel with numbers can get MO at all.
func (v validator) receives(w where, ch *Channel) {
	if len(ch.Numbers) == 0 || len(ch.SMSC) == 0 || !v.allKnown(ch.SMSC) {
		return
	}
	for _, id := range ch.SMSC {
		if v.c.SMSCByID(id).Bind != "transmitter" {
			return
		}
	}
	v.at(w, "numbers", ch.Numbers, `never receive MO: every SMSC of this channel binds as "transmitter"`)
}

func (v validator) required(w where, k, val, why string) bool {
	if val == "" {
		v.at(w, k, nil, "required: %s", why)
		return false
	}
	return true
}

// rapidpro checks a RapidPro channel with the adapter's own checks
// (rapidpro.CheckURL, CheckSendAuthorization), so what passes here the
// daemon takes.
func (v validator) rapidpro(w where, ch *Channel) {
	if v.required(w, "receive_url", ch.ReceiveURL, "the channel's courier receive URL (…/c/ex/{uuid}/receive)") {
		v.check(w, "receive_url", ch.ReceiveURL, rapidpro.CheckURL(ch.ReceiveURL))
	}
	if err := rapidpro.CheckSendAuthorization(ch.SendAuthorization); err != nil {
		v.at(w, "send_authorization", "***", "%v", err)
	}
	for _, u := range []struct{ k, v, action string }{
		{"sent_url", ch.SentURL, "sent"}, {"delivered_url", ch.DeliveredURL, "delivered"}, {"failed_url", ch.FailedURL, "failed"},
	} {
		switch {
		case u.v != "" && u.v == orDerived("", ch.ReceiveURL, u.action):
			// derived from receive_url, which is checked above
		case u.v != "":
			v.check(w, u.k, u.v, rapidpro.CheckURL(u.v))
		case ch.ReceiveURL != "":
			v.at(w, u.k, nil, "required because receive_url does not end in /receive, so it cannot be derived")
		}
	}
}

func (v validator) kannel(w where, ch *Channel, unique map[string]string) {
	if v.required(w, "username", ch.Username, "the sendsms username the Kannel client sends") {
		key := "kannel username " + ch.Username
		if other, ok := unique[key]; ok {
			v.at(w, "username", ch.Username, "is already used by kannel channel %q; sendsms tells channels apart by username", other)
		}
		unique[key] = ch.ID
	}
	v.required(w, "password", ch.Password, "the sendsms password (or password_file)")
	if ch.MOURL != "" {
		v.httpURL(w, "mo_url", ch.MOURL, true)
	}
	v.oneOf(w, "mo_method", ch.MOMethod, "GET", "POST")
}

// custom checks a custom channel with the adapter's own checks
// (custom.CheckChannelID, CheckWebhookURL), so what passes here the daemon
// takes.
func (v validator) custom(w where, ch *Channel) {
	if ch.ChannelID == "" {
		v.at(w, "channel_id", nil, "%v", custom.CheckChannelID(""))
	} else {
		v.check(w, "channel_id", ch.ChannelID, custom.CheckChannelID(ch.ChannelID))
	}
	v.required(w, "api_token", ch.APIToken, "the platform's API Token (or api_token_file)")
	if v.required(w, "webhook_url", ch.WebhookURL, "the Webhook URL the platform shows") {
		v.check(w, "webhook_url", ch.WebhookURL, custom.CheckWebhookURL(ch.WebhookURL))
	}
	v.oneOf(w, "id_type", ch.IDType, "phone", "custom")
	v.dedup(w, ch)
}

func (v validator) dedup(w where, ch *Channel) {
	if ch.DedupWindow.Duration < 0 {
		v.at(w, "dedup_window", ch.DedupWindow, `must be "0s" (off) or a positive duration like "10s"`)
	}
}

func (v validator) notify(w where, ch *Channel, unique map[string]string) {
	if v.required(w, "website_id", ch.WebsiteID, "the websiteId of the request path") {
		key := "notify website_id " + ch.WebsiteID
		if other, ok := unique[key]; ok {
			v.at(w, "website_id", ch.WebsiteID, "is already used by notify channel %q", other)
		}
		unique[key] = ch.ID
	}
	v.required(w, "apikey", ch.APIKey, "the apikey header value clients send (or apikey_file)")
	if v.required(w, "from", ch.From, "the sender address of the notifications") && !validNumber(ch.From) {
		v.at(w, "from", ch.From, numberAllowed)
	}
	v.dedup(w, ch)
	if len(ch.Template) == 0 {
		v.at(w, "template", nil, "at least one [[channel.template]] is required")
	}
	seen := map[string]bool{}
	for j, t := range ch.Template {
		tw := where{w.path + ".template." + strconv.Itoa(j), fmt.Sprintf("%stemplate %q: ", w.label, t.ID)}
		v.template(tw, t, seen)
	}
}

func (v validator) template(w where, t Template, seen map[string]bool) {
	switch {
	case t.ID == "":
		v.at(w, "id", nil, "required: the templateId clients send")
	case seen[t.ID]:
		v.at(w, "id", t.ID, "is used by another template of this channel")
	}
	seen[t.ID] = true
	v.oneOf(w, "type", t.Type, "text", "image", "video", "document")
	if v.required(w, "text", t.Text, "the SMS text, with {{name}} placeholders") {
		if _, err := t.Placeholders(); err != nil {
			v.at(w, "text", t.Text, "%v", err)
		}
	}
	switch {
	case t.URL == "":
	case t.Type == "text":
		v.at(w, "url", t.URL, `only used by media templates (type "image", "video" or "document")`)
	default:
		v.httpURL(w, "url", t.URL, false)
	}
}
