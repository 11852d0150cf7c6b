package main

import (
	"fmt"
	"html/template"
	"time"
)

// statusPage is the HTML of GET /status, for people: binds, throughput,
// queues, dead letters, and the trace search. It refreshes itself every
// 10 s unless it shows a trace or a dead-letter list.
var statusPage = template.Must(template.New("status").Funcs(template.FuncMap{
	"ago": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return time.Since(t).Round(time.Second).String() + " ago"
	},
	"stamp": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04:05.000Z")
	},
	"age": func(s float64) string {
		if s <= 0 {
			return "—"
		}
		return (time.Duration(s * float64(time.Second))).Round(time.Second).String()
	},
	"rate": func(f float64) string { return fmt.Sprintf("%.2f/s", f) },
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>smscbridge status</title>
{{if not (or .TraceQuery .DeadQuery)}}<meta http-equiv="refresh" content="10">{{end}}
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.4em;margin:0 0 .2em}h2{font-size:1.1em;margin:1.4em 0 .4em}
table{border-collapse:collapse;margin:.3em 0}th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#f3f3f3}.num{text-align:right}.bound{color:#080;font-weight:bold}.down{color:#b00;font-weight:bold}
.muted{color:#777}form{margin:.6em 0}input[type=text]{width:22em;padding:.2em}
</style></head><body>
<h1>smscbridge</h1>
<div class="muted">version <b id="version">{{.Version}}</b> · up {{.Uptime}} (since {{stamp .StartedAt}}) ·
config <code>{{or .Config.File "(built in)"}}</code> loaded {{stamp .Config.LoadedAt}}</div>

<form id="trace-form" method="get" action="/status">
<label>Where is my message? <input type="text" name="trace" value="{{.TraceQuery}}" placeholder="message id, platform id or phone number"></label>
<button type="submit">Trace</button></form>

{{if .TraceQuery}}<h2 id="trace">Trace of {{.TraceQuery}}</h2>
{{if .Trace}}<table><tr><th>time (UTC)</th><th>message</th><th>hop</th><th>attempt</th><th>smsc</th><th>channel</th><th>detail</th></tr>
{{range .Trace}}<tr><td>{{stamp .At}}</td><td><code>{{.ID}}</code>{{if .Ref}}<br><span class="muted">{{.Ref}}</span>{{end}}</td><td>{{.Hop}}</td><td class="num">{{if .Attempt}}{{.Attempt}}{{end}}</td><td>{{.SMSC}}</td><td>{{.Channel}}</td><td>{{.Detail}}</td></tr>
{{end}}</table>{{else}}<p>No trace events for {{.TraceQuery}} (kept for store.trace_ttl).</p>{{end}}{{end}}

<h2>Binds</h2>
<table id="binds"><tr><th>smsc</th><th>control</th><th>session</th><th>state</th><th>since</th><th>submitted</th><th>ok</th><th>failed</th><th>throttled</th><th>MO/receipts in</th><th>in flight</th><th>last error</th></tr>
{{range $s := .SMSC}}{{range $i, $b := .Sessions}}<tr class="bind"><td>{{$s.ID}}</td>
<td>{{if $s.BindsStopped}}<span class="down">binds stopped</span>{{end}} {{if $s.MTSuspended}}<span class="down">MT suspended</span>{{end}}</td>
<td>{{$i}} {{$b.Bind}}</td><td class="{{if eq $b.State "bound"}}bound{{else}}down{{end}} state">{{$b.State}}</td><td>{{ago $b.Since}}</td>
<td class="num">{{$b.Submitted}}</td><td class="num">{{$b.SubmitOK}}</td><td class="num">{{$b.SubmitFailed}}</td><td class="num">{{$b.Throttled}}</td>
<td class="num">{{$b.Delivered}}</td><td class="num">{{$b.Inflight}}</td><td>{{$b.LastError}}</td></tr>
{{end}}{{end}}</table>

<h2>Throughput, last {{printf "%.0f" .Throughput.WindowSeconds}} s</h2>
<table id="throughput"><tr><th>MO</th><th>MT accepted</th><th>submit_sm</th><th>receipts</th></tr>
<tr><td class="num">{{rate .Throughput.MO}}</td><td class="num">{{rate .Throughput.MT}}</td><td class="num">{{rate .Throughput.SubmitSM}}</td><td class="num">{{rate .Throughput.Receipts}}</td></tr></table>

<h2>Queues</h2>
{{if .Queues}}<table id="queues"><tr><th>lane</th><th>queued</th><th>in progress</th><th>dead</th><th>oldest queued</th></tr>
{{range .Queues}}<tr class="lane"><td><code>{{.Lane}}</code></td><td class="num depth">{{.Queued}}</td><td class="num">{{.Leased}}</td><td class="num">{{.Dead}}</td><td class="num">{{age .OldestAgeSeconds}}</td></tr>
{{end}}</table>{{else}}<p>All queues are empty.</p>{{end}}
{{if .Orphaned}}<p class="down">Lanes of SMSCs or channels no longer configured: {{range $l, $c := .Orphaned}}<code>{{$l}}</code> ({{$c.Queued}} queued, {{$c.Dead}} dead) {{end}}</p>{{end}}

<h2 id="dead">Dead letters</h2>
{{if .DeadLetters}}<table><tr><th>reason</th><th>lane</th><th>count</th></tr>
{{range .DeadLetters}}<tr><td><a href="/status?dead={{.Reason}}#dead">{{.Reason}}</a></td><td><code>{{.Lane}}</code></td><td class="num">{{.Count}}</td></tr>
{{end}}</table>{{else}}<p>None.</p>{{end}}
{{if .DeadQuery}}<h3>Dead letters: {{.DeadQuery}}</h3>
<table><tr><th>id</th><th>lane</th><th>dead since (UTC)</th><th>attempts</th><th>reason</th></tr>
{{range .DeadList}}<tr><td><a href="/status?trace={{.ID}}#trace"><code>{{.ID}}</code></a></td><td><code>{{.Lane}}</code></td><td>{{stamp .DeadAt}}</td><td class="num">{{.Attempts}}</td><td>{{.Reason}}</td></tr>
{{end}}</table>
<p class="muted">Requeue or drop with the admin token: <code>POST /queue/dead/{id}/requeue</code>, <code>DELETE /queue/dead/{id}</code>.</p>{{end}}

<p class="muted">JSON: this page with <code>Accept: application/json</code>. Metrics: <a href="/metrics">/metrics</a>.</p>
</body></html>
`))
