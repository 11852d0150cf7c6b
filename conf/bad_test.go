package conf

import (
	"errors"
	"strings"
	"testing"
)

// TestLoadBadConfigs loads one file per rejected mistake and compares every
// reported problem, line included. Each want line is appended to the file
// name ("testdata/bad-NAME.toml").
func TestLoadBadConfigs(t *testing.T) {
	tests := []struct {
		name string
		want []string
	}{
		{"bind", []string{
			`:6: smsc "agg-a": bind "both": must be one of "transceiver", "transmitter", "receiver", "pair"`,
		}},
		{"channel-unknown-smsc", []string{
			`:11: channel "rp": smsc "agg-b": must be the id of an [[smsc]] (known: "agg-a")`,
		}},
		{"channel-id-too-long", []string{
			`:11: channel "cc": channel_id "gfd8g7fd89dgfd-gfd8g7fd89dgfd-gfd8g7fd89dgfd-gfd8g7fd89dgfd": must be at most 50 characters, got 59`,
		}},
		{"concurrency-range", []string{
			`:6: smsc "agg-a": concurrency 0: must be 1..1000`,
			`:13: smsc "agg-b": concurrency 1001: must be 1..1000`,
			`:21: channel "rp": concurrency -1: must be 1..1000`,
			`:31: channel "cc": concurrency "16": must be an integer`,
		}},
		{"coding", []string{
			`:6: smsc "agg-a": default_coding "utf8": must be one of "gsm7", "latin1", "ascii"`,
		}},
		{"dc0-charset", []string{
			`:6: smsc "agg-a": dc0_charset "utf8": must be one of "gsm7", "latin1", "ascii"`,
		}},
		{"country", []string{
			`:6: smsc "agg-a": country "XX": must be an ISO 3166 alpha-2 country code like "MY" or "BR", or ""`,
		}},
		{"custom-missing-keys", []string{
			`:7: channel "cc": channel_id: required: the Channel ID the platform generated`,
			`:7: channel "cc": api_token: required: the platform's API Token (or api_token_file)`,
			`:7: channel "cc": webhook_url: required: the Webhook URL the platform shows`,
		}},
		{"max-requests-negative", []string{
			`:15: channel "cc": max_requests_per_second -1: must be 0 (no limit) or a positive number of requests per second`,
		}},
		{"dedup-negative", []string{
			`:14: channel "cc": dedup_window "-5s": must be "0s" (off) or a positive duration like "10s"`,
		}},
		{"default-channel-notify", []string{
			`:6: smsc "agg-a": default_channel "nt": must be a channel that receives MO (kind "notify" does not)`,
		}},
		{"default-channel-unknown", []string{
			`:6: smsc "agg-a": default_channel "rapidpro": must be the id of a [[channel]] (known: "rp")`,
		}},
		{"duplicate-channel", []string{
			`:15: channel "rp": id "rp": is used by another [[channel]]; ids must be unique`,
		}},
		{"duplicate-smsc", []string{
			`:8: smsc "agg-a": id "agg-a": is used by another [[smsc]]; ids must be unique`,
		}},
		{"duration", []string{
			`:6: smsc "agg-a": enquire_link "30": must be a duration like "30s" or "10m"`,
		}},
		{"empty", []string{
			`: smsc: at least one [[smsc]] is required`,
			`: channel: at least one [[channel]] is required`,
		}},
		{"gsm7-packed", []string{
			`:7: smsc "agg-a": gsm7_packed true: only with dc0_charset = "gsm7" (packing is for GSM septets, not "latin1")`,
		}},
		{"id-type", []string{
			`:14: channel "cc": id_type "email": must be one of "phone", "custom"`,
		}},
		{"kannel-duplicate-username", []string{
			`:18: channel "kn2": username "rapidpro": is already used by kannel channel "kn1"; sendsms tells channels apart by username`,
		}},
		{"kannel-missing-keys", []string{
			`:7: channel "kn": username: required: the sendsms username the Kannel client sends`,
			`:7: channel "kn": password: required: the sendsms password (or password_file)`,
		}},
		{"key-of-other-kind", []string{
			`:13: channel "rp": webhook_url: not used by kind "rapidpro" (only by "custom")`,
		}},
		{"kind", []string{
			`:9: channel "rp": kind "twilio": must be one of "rapidpro", "kannel", "custom", "notify"`,
		}},
		{"listen-clash", []string{
			`:5: admin.listen "0.0.0.0:13013": must differ from http.listen`,
		}},
		{"listen", []string{
			`:2: http.listen "13013": must be host:port like "127.0.0.1:13000" or ":13013" (port 0..65535)`,
			`:6: smsc "agg-a": host "10.8.0.1:2775": must be an IP address or a host name (no port, no scheme)`,
		}},
		{"local-addr", []string{
			`:6: smsc "agg-a": local_addr "vpn.example.org": must be an IP address of this host, optionally with a port: "10.8.0.2" or "10.8.0.2:40000"`,
			`:19: smsc "agg-b": local_addr "10.8.0.2:99999": port must be 1..65535`,
		}},
		{"local-addr-fixed-port", []string{
			`:7: smsc "agg-a": local_addr "10.8.0.2:40000": a fixed port serves one connection only, but sessions = 2, bind = "transceiver" opens 2; leave the port out`,
			`:21: smsc "agg-b": local_addr "10.8.0.2:40001": a fixed port serves one connection only, but sessions = 1, bind = "pair" opens 2; leave the port out`,
		}},
		{"log", []string{
			`:2: log.level "verbose": must be one of "debug", "info", "warn", "error"`,
			`:3: log.format "xml": must be one of "text", "json"`,
		}},
		{"long-messages", []string{
			`:6: smsc "agg-a": long_messages "split": must be one of "udh", "udh16", "sar", "payload"`,
		}},
		{"many", []string{
			`:14: smsc "agg-b": window 5000: must be 1..1000`,
			`:15: smsc "agg-b": port 70000: must be 1..65535`,
			`:21: smsc "agg-c": bind "tx": must be one of "transceiver", "transmitter", "receiver", "pair"`,
			`:27: channel "rp": numbers "12345678901234567890": must be E.164 ("+" and 8-15 digits), a short code (up to 8 digits) or an alphanumeric sender (up to 11 letters, digits or spaces)`,
			`:28: channel "rp": smsc "agg-d": must be the id of an [[smsc]] (known: "agg-a", "agg-b", "agg-c")`,
		}},
		{"failover-after", []string{
			`:6: smsc "agg-a": failover_after "0s": must be a duration above 0 like "30s"`,
		}},
		{"max-parts-range", []string{
			`:6: smsc "agg-a": max_parts 256: must be 1..255`,
		}},
		{"missing-channel-id", []string{
			`:7: channel #1: id: required: 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`,
		}},
		{"missing-host", []string{
			`:1: smsc "agg-a": host: required: the SMSC's IP address or host name`,
		}},
		{"missing-smsc-id", []string{
			`:1: smsc #1: id: required: 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`,
			`:10: channel "rp": smsc: required: the SMSC ids this channel sends through (in failover order)`,
		}},
		{"missing-system-id", []string{
			`:1: smsc "agg-a": system_id: required: the account name the aggregator gave you`,
		}},
		{"mo-method", []string{
			`:13: channel "kn": mo_method "PUT": must be one of "GET", "POST"`,
		}},
		{"msg-id-type", []string{
			`:6: smsc "agg-a": msg_id_type "uuid": must be one of "auto", "hex", "decimal"`,
		}},
		{"notify-missing-keys", []string{
			`:7: channel "nt": website_id: required: the websiteId of the request path`,
			`:7: channel "nt": apikey: required: the apikey header value clients send (or apikey_file)`,
			`:7: channel "nt": from: required: the sender address of the notifications`,
			`:7: channel "nt": template: at least one [[channel.template]] is required`,
		}},
		{"notify-numbers", []string{
			`:14: channel "nt": numbers: not used by kind "notify" (only by "rapidpro", "kannel", "custom")`,
		}},
		{"number-claimed-twice", []string{
			`:17: channel "rp2": numbers "+5582999489287": is already claimed by channel "rp"; a number belongs to one channel`,
		}},
		{"number", []string{
			`:10: channel "rp": numbers "082999489287": must be E.164 ("+" and 8-15 digits), a short code (up to 8 digits) or an alphanumeric sender (up to 11 letters, digits or spaces)`,
		}},
		{"numbers-never-receive", []string{
			`:11: channel "rp": numbers ["+5582999489287"]: never receive MO: every SMSC of this channel binds as "transmitter"`,
		}},
		{"trace", []string{
			`:2: store.trace_ttl "-1h0m0s": must not be negative ("0s" turns the trace off)`,
			`:3: store.trace_max 10: must be at least 1000`,
		}},
		{"partial-mo", []string{
			`:2: store.partial_mo "drop": must be one of "deliver", "dead"`,
		}},
		{"store-backend", []string{
			`:2: store.backend "sqlite": must be one of "bbolt", "postgres"`,
		}},
		{"store-postgres", []string{
			`:1: store.dsn: required with backend "postgres": a connection string like "postgres://smscbridge@db.example.org/smscbridge" (or dsn_file)`,
			`:3: store.pool_size 0: must be 1..1000`,
			`:4: store.node "node one": must be 1..64 letters, digits, '_', '.' or '-', starting with a letter or digit`,
			`:5: store.schema "Bridge": must be a plain PostgreSQL name: 1..63 lower-case letters, digits or '_', not starting with a digit`,
			`:6: store.lease_time "500ms": must be at least "1s" (or left out for the backend's default)`,
		}},
		{"store-dsn", []string{
			`:3: store.dsn "***": is not a PostgreSQL connection string (URL or key=value)`,
		}},
		{"password-and-file", []string{
			`:6: smsc "agg-a": password_file "secret.txt": give either password or password_file, not both`,
		}},
		{"password-file-missing", []string{
			`:5: smsc "agg-a": password_file "no-such-secret.txt": cannot read the secret: no such file or directory`,
		}},
		{"password-too-long", []string{
			`:5: smsc "agg-a": password "***": must be at most 8 characters (SMPP 3.4 bind), got 13`,
		}},
		{"port-zero", []string{
			`:6: smsc "agg-a": port 0: must be 1..65535`,
		}},
		{"rapidpro-no-receive-url", []string{
			`:7: channel "rp": receive_url: required: the channel's courier receive URL (…/c/ex/{uuid}/receive)`,
		}},
		{"receive-url-not-derivable", []string{
			`:7: channel "rp": sent_url: required because receive_url does not end in /receive, so it cannot be derived`,
			`:7: channel "rp": delivered_url: required because receive_url does not end in /receive, so it cannot be derived`,
			`:7: channel "rp": failed_url: required because receive_url does not end in /receive, so it cannot be derived`,
		}},
		{"receive-url-upper-uuid", []string{
			`:12: channel "rp": receive_url "https://rapidpro.example.org/c/ex/A86F686F-9168-4DD9-A03E-77F11B265B56/receive": must have the channel UUID in lower case (a86f686f-9168-4dd9-a03e-77f11b265b56): courier only matches a lowercase channel UUID`,
			`:13: channel "rp": failed_url "https://courier2.example.org/c/ex/A86F686F-9168-4DD9-A03E-77F11B265B56/failed": must have the channel UUID in lower case (a86f686f-9168-4dd9-a03e-77f11b265b56): courier only matches a lowercase channel UUID`,
		}},
		{"retry", []string{
			`:2: retry.max_attempts 0: must be at least 1`,
			`:3: retry.initial_backoff "20m0s": must not exceed max_backoff "10m0s"`,
			`:5: retry.max_age "0s": must be a duration above 0 like "30s"`,
		}},
		{"route-duplicate-prefix", []string{
			`:19: route "+55": prefix "+55": is routed twice; merge the two [[route]] entries`,
		}},
		{"route-prefix", []string{
			`:15: route "55x": prefix "55x": must be "+" and/or up to 15 digits, like "+55"`,
		}},
		{"route-receiver-only", []string{
			`:23: route "+60": smsc ["rx-only"]: must include an SMSC that can send (these all bind as "receiver")`,
		}},
		{"route-to-nowhere", []string{
			`:16: route "+55": smsc: required: at least one SMSC id (an empty list routes to nowhere)`,
		}},
		{"route-unknown-smsc", []string{
			`:16: route "+55": smsc "agg-z": must be the id of an [[smsc]] (known: "agg-a")`,
		}},
		{"same-smsc-twice", []string{
			`:11: channel "rp": smsc "agg-a": is listed twice`,
		}},
		{"send-authorization-space", []string{
			`:13: channel "rp": send_authorization "***": has leading or trailing white space, which HTTP drops: no request could match it`,
		}},
		{"send-authorization-file-unreadable", []string{
			`:13: channel "rp": send_authorization_file "/nonexistent/dir/auth.txt": cannot read the secret: no such file or directory`,
		}},
		{"sessions-range", []string{
			`:6: smsc "agg-a": sessions 33: must be 1..32`,
		}},
		{"throttle", []string{
			`:6: smsc "agg-a": max_inbound 0: must be 1..10000`,
			`:8: smsc "agg-a": throttle_max "2s": must be at least throttle_pause "5s"`,
			`:9: smsc "agg-a": throttle_timeout "0s": must be a duration above 0 like "30s"`,
		}},
		{"size", []string{
			`:2: http.max_body "1 lightyear": must be a size like "1MiB", "512KiB" or a number of bytes`,
		}},
		{"smsc-not-a-list", []string{
			`:11: channel "rp": smsc "agg-a": must be a list of strings like ["a", "b"]`,
		}},
		{"smsc-table-not-array", []string{
			`:1: smsc: must be a list of tables [[smsc]]`,
			`:11: channel "rp": smsc "agg-a": must be the id of an [[smsc]]`,
		}},
		{"syntax", []string{
			`:6: invalid TOML: expected value but found '=' instead`,
		}},
		{"template-problems", []string{
			`:21: channel "nt": template "7": id "7": is used by another template of this channel`,
			`:22: channel "nt": template "7": type "audio": must be one of "text", "image", "video", "document"`,
			`:29: channel "nt": template "9": text: required: the SMS text, with {{name}} placeholders`,
			`:30: channel "nt": template "9": url "https://x.example/a.pdf": only used by media templates (type "image", "video" or "document")`,
		}},
		{"template-syntax", []string{
			`:18: channel "nt": template "7": text "Hola {{name}, tu pedido {{order}} está listo.": "{{" at character 6 is never closed with "}}"`,
		}},
		{"throughput-negative", []string{
			`:6: smsc "agg-a": throughput -1.5: must be 0 (no limit) or a positive number of submit_sm per second`,
		}},
		{"tls-ca-without-tls", []string{
			`:6: smsc "agg-a": tls_ca "secret.txt": only used with tls = true`,
		}},
		{"tls-ca-not-pem", []string{
			`:7: smsc "agg-a": tls_ca "secret.txt": no PEM certificate in it`,
		}},
		{"tls-cert-invalid", []string{
			`:2: http.tls_cert "secret.txt": with tls_key "secret.txt" is not a usable certificate and key: tls: failed to find any PEM data in certificate input`,
		}},
		{"tls-cert-without-key", []string{
			`:1: http.tls_key: required when tls_cert is set`,
		}},
		{"token-file-empty", []string{
			`:2: admin.token_file "empty-secret.txt": the file is empty`,
		}},
		{"ton", []string{
			`:6: smsc "agg-a": source_ton "7": must be "auto" or a TON number 0..6`,
			`:7: smsc "agg-a": dest_ton "international": must be "auto" or a TON number 0..6`,
		}},
		{"unknown-key", []string{
			`:6: smsc "agg-a": prot: unknown key (did you mean "port"?)`,
		}},
		{"unknown-section", []string{
			`:1: htttp: unknown key (did you mean "http"?)`,
		}},
		{"url", []string{
			`:12: channel "rp": receive_url "ftp://rapidpro.example.org/c/ex/a86f686f-9168-4dd9-a03e-77f11b265b56/receive": must be an absolute http:// or https:// URL`,
		}},
		{"webhook-url", []string{
			`:13: channel "cc": webhook_url "ftp://app.example/custom/webhook": must be an http or https URL, got scheme "ftp"`,
		}},
		{"website-id-duplicate", []string{
			`:24: channel "nt2": website_id "64652663e65219005dc61bd6": is already used by notify channel "nt"`,
		}},
		{"window-range", []string{
			`:6: smsc "agg-a": window 0: must be 1..1000`,
		}},
		{"wrong-type", []string{
			`:6: smsc "agg-a": port "2775": must be an integer`,
		}},
		{"zero-duration", []string{
			`:6: smsc "agg-a": enquire_link "0s": must be a duration above 0 like "30s"`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := "testdata/bad-" + tt.name + ".toml"
			cfg, err := Load(path)
			if err == nil {
				t.Fatalf("Load(%s) = %+v, nil; want errors", path, cfg)
			}
			if cfg != nil {
				t.Errorf("Load(%s) returned a Config along with errors", path)
			}
			got := problemLines(err)
			want := make([]string, len(tt.want))
			for i, w := range tt.want {
				want[i] = path + w
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("Load(%s) errors:\n%s\nwant:\n%s", path, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			var e *Error
			if !errors.As(err, &e) || e.File != path {
				t.Errorf("Load(%s): errors.As(*Error) = %v, file %q", path, e, e.File)
			}
		})
	}
}

// problemLines splits a joined error into its messages.
func problemLines(err error) []string {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []string
		for _, e := range j.Unwrap() {
			out = append(out, e.Error())
		}
		return out
	}
	return []string{err.Error()}
}
