#!/usr/bin/env node
// node-smsc.js: a third-party SMSC for the interop tests, built on the npm
// package `smpp` (farhadi/node-smpp 0.5.1), so our ESME is checked against
// an implementation we did not write.
//
// It listens on 127.0.0.1 only, accepts bind_transmitter/receiver/
// transceiver with fixed credentials, answers submit_sm with ids, sends a
// delivery receipt when registered_delivery asks, answers enquire_link,
// unbind and unknown commands (generic_nack), and prints one JSON object per
// line on stdout for every event:
//
//   {"ev":"listening","port":N}
//   {"ev":"bind","session":S,"mode":"transceiver","system_id":"esme","ok":true}
//   {"ev":"pdu","dir":"in"|"out","session":S,"command":"submit_sm","seq":N,
//    "status":N,"hex":"<whole PDU>","lib":{...what the smpp package decoded...},
//    "raw":{...fields parsed from the raw bytes by this script...}}
//   {"ev":"done","id":X,...} / {"ev":"error","id":X,"error":"..."}
//
// Commands arrive as JSON lines on stdin (see handleCommand): "mo" sends a
// deliver_sm (single GSM, UCS-2 split with a concatenation UDH, or the text
// in message_payload), "data_sm" sends an MO as data_sm, "drop" cuts every
// connection, "raw" sends a header-only PDU with any command_id,
// "receipt" sends a receipt, "enquire_link" and "unbind" poke the bound
// sessions, "stop" closes everything and exits.
//
// Usage: node node-smsc.js [--port 0] [--system-id esme] [--password secret]
//        [--id-format dec|hex] [--dlr-delay-ms 50] [--no-dlr]
//        [--tls-key key.pem --tls-cert cert.pem]
'use strict';

const fs = require('fs');
const readline = require('readline');
const smpp = require('smpp');

const opts = parseArgs(process.argv.slice(2));

// Keep the raw octets of every decoded PDU (non-enumerable, so the
// library's own encoder loops never see it).
const origFromBuffer = smpp.PDU.prototype.fromBuffer;
smpp.PDU.prototype.fromBuffer = function (buffer) {
  Object.defineProperty(this, '_raw', { value: Buffer.from(buffer), enumerable: false });
  return origFromBuffer.call(this, buffer);
};

const MODES = {
  bind_transmitter: 'transmitter',
  bind_receiver: 'receiver',
  bind_transceiver: 'transceiver',
};

// Receipt stat by the last four digits of the destination: lets a test ask
// for a failed receipt without a side channel.
const STATS = { '9995': ['UNDELIV', 5], '9993': ['EXPIRED', 3] };

let nextSession = 1;
let nextMsgID = 4096;
const sessions = new Set();
const pendingReceipts = []; // receipts waiting for a receiving bind of their system_id

function parseArgs(argv) {
  const o = { port: 0, systemId: 'esme', password: 'secret', idFormat: 'dec', dlrDelayMs: 50, dlr: true, tlsKey: '', tlsCert: '' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => argv[++i];
    if (a === '--port') o.port = Number(v());
    else if (a === '--system-id') o.systemId = v();
    else if (a === '--password') o.password = v();
    else if (a === '--id-format') o.idFormat = v();
    else if (a === '--dlr-delay-ms') o.dlrDelayMs = Number(v());
    else if (a === '--no-dlr') o.dlr = false;
    else if (a === '--tls-key') o.tlsKey = v();
    else if (a === '--tls-cert') o.tlsCert = v();
    else { process.stderr.write(`node-smsc: unknown flag ${a}\n`); process.exit(2); }
  }
  return o;
}

const started = Date.now();

// emit prints one event, stamped with milliseconds since start.
function emit(obj) {
  obj.ms = Date.now() - started;
  process.stdout.write(JSON.stringify(obj) + '\n');
}

// rawFields parses the mandatory part of submit_sm / deliver_sm / data_sm
// and the TLVs straight from the octets (SMPP 3.4 §4.4.1, §4.6.1, §4.7.1),
// independently of the library, so the record shows exactly what was sent.
function rawFields(pdu) {
  const b = pdu._raw;
  if (!b || b.length < 16) return null;
  const id = b.readUInt32BE(4);
  const isSM = id === 0x04 || id === 0x05;
  if (!isSM && id !== 0x103) return null;
  let off = 16;
  const f = {};
  const cstr = () => { const s = off; while (off < b.length && b[off] !== 0) off++; const v = b.toString('latin1', s, off); off++; return v; };
  const u8 = () => b[off++];
  f.service_type = cstr();
  f.source_addr_ton = u8(); f.source_addr_npi = u8(); f.source_addr = cstr();
  f.dest_addr_ton = u8(); f.dest_addr_npi = u8(); f.destination_addr = cstr();
  f.esm_class = u8();
  if (isSM) {
    f.protocol_id = u8(); f.priority_flag = u8();
    f.schedule_delivery_time = cstr(); f.validity_period = cstr();
  }
  f.registered_delivery = u8();
  if (isSM) f.replace_if_present_flag = u8();
  f.data_coding = u8();
  if (isSM) {
    f.sm_default_msg_id = u8();
    f.sm_length = u8();
    f.short_message = b.slice(off, off + f.sm_length).toString('hex');
    off += f.sm_length;
  }
  f.tlvs = [];
  while (off + 4 <= b.length) {
    const tag = b.readUInt16BE(off); const len = b.readUInt16BE(off + 2);
    f.tlvs.push({ tag: tag, hex: b.slice(off + 4, off + 4 + len).toString('hex') });
    off += 4 + len;
  }
  if (off !== b.length) f.trailing = b.length - off;
  return f;
}

// libView is what the smpp package itself made of the PDU: its text decoding
// (GSM 03.38 for 0x00, UTF-16BE for 0x08) and its UDH split.
function libView(pdu) {
  const v = {};
  for (const k of ['system_id', 'system_type', 'interface_version', 'message_id', 'receipted_message_id', 'message_state']) {
    if (pdu[k] !== undefined) v[k] = pdu[k];
  }
  for (const k of ['sar_msg_ref_num', 'sar_total_segments', 'sar_segment_seqnum']) {
    if (pdu[k] !== undefined) v[k] = pdu[k];
  }
  const sm = pdu.short_message;
  if (sm && typeof sm === 'object' && !Buffer.isBuffer(sm)) {
    v.text = typeof sm.message === 'string' ? sm.message : Buffer.from(sm.message).toString('hex');
    if (sm.udh) v.udh = sm.udh.map((u) => u.toString('hex'));
  }
  const mp = pdu.message_payload;
  if (mp && typeof mp === 'object' && !Buffer.isBuffer(mp) && typeof mp.message === 'string') {
    v.payload_text = mp.message;
  }
  return v;
}

function record(dir, s, pdu) {
  const ev = { ev: 'pdu', dir: dir, session: s.id, command: pdu.command, seq: pdu.sequence_number, status: pdu.command_status };
  if (dir === 'in') {
    ev.hex = pdu._raw ? pdu._raw.toString('hex') : undefined;
    ev.lib = libView(pdu);
    const raw = rawFields(pdu);
    if (raw) ev.raw = raw;
  } else {
    if (pdu.message_id !== undefined) ev.message_id = pdu.message_id;
    if (pdu._sent) ev.hex = pdu._sent.toString('hex');
  }
  emit(ev);
}

// send writes a PDU and records the exact octets the library produced
// (encoding again after send is stable: the first pass turned the text into
// a Buffer, and send assigned the sequence number).
function send(s, pdu) {
  s.session.send(pdu);
  Object.defineProperty(pdu, '_sent', { value: pdu.toBuffer(), enumerable: false });
  record('out', s, pdu);
}

function makeID(n) {
  return opts.idFormat === 'hex' ? n.toString(16).toUpperCase().padStart(8, '0') : String(n);
}

function canReceive(s) {
  return s.mode === 'receiver' || s.mode === 'transceiver';
}

function receiverFor(systemId, prefer) {
  if (prefer && canReceive(prefer) && sessions.has(prefer)) return prefer;
  for (const s of sessions) if (s.systemId === systemId && canReceive(s)) return s;
  return null;
}

function onBind(s, pdu) {
  const mode = MODES[pdu.command];
  let status = 0;
  if (s.mode) status = smpp.ESME_RALYBND;
  else if (pdu.system_id !== opts.systemId) status = smpp.ESME_RINVSYSID;
  else if (pdu.password !== opts.password) status = smpp.ESME_RINVPASWD;
  if (status) {
    send(s, pdu.response({ command_status: status }));
    emit({ ev: 'bind', session: s.id, mode: mode, system_id: pdu.system_id, ok: false, status: status });
    return;
  }
  s.mode = mode;
  s.systemId = pdu.system_id;
  send(s, pdu.response({ system_id: 'NODESMSC', sc_interface_version: 0x34 }));
  emit({ ev: 'bind', session: s.id, mode: mode, system_id: s.systemId, ok: true, interface_version: pdu.interface_version });
  flushReceipts();
}

function onSubmit(s, pdu) {
  if (s.mode !== 'transmitter' && s.mode !== 'transceiver') {
    send(s, pdu.response({ command_status: smpp.ESME_RINVBNDSTS }));
    return;
  }
  const raw = rawFields(pdu);
  // A destination ending in 9999 is refused with a header-only error
  // response, as this library always encodes them (pitfall 1); one ending
  // in 9988 is throttled, one ending in 9977 never answered.
  if (raw.destination_addr.endsWith('9999')) {
    send(s, pdu.response({ command_status: smpp.ESME_RINVDSTADR }));
    return;
  }
  if (raw.destination_addr.endsWith('9988')) { // ESME_RTHROTTLED, header-only
    send(s, pdu.response({ command_status: smpp.ESME_RTHROTTLED }));
    return;
  }
  if (raw.destination_addr.endsWith('9977')) { // never answered
    emit({ ev: 'withheld', session: s.id, seq: pdu.sequence_number });
    return;
  }
  const n = nextMsgID++;
  send(s, pdu.response({ message_id: makeID(n) }));
  if (opts.dlr && (raw.registered_delivery & 0x03) === 0x01) {
    const st = STATS[raw.destination_addr.slice(-4)] || ['DELIVRD', 2];
    const r = { systemId: s.systemId, prefer: s, n: n, src: raw.destination_addr, dst: raw.source_addr, stat: st[0], state: st[1] };
    setTimeout(() => { pendingReceipts.push(r); flushReceipts(); }, opts.dlrDelayMs);
  }
}

function stamp(d) {
  const p = (x) => String(x).padStart(2, '0');
  return p(d.getUTCFullYear() % 100) + p(d.getUTCMonth() + 1) + p(d.getUTCDate()) + p(d.getUTCHours()) + p(d.getUTCMinutes());
}

// sendReceipt sends the receipt in both forms: the Appendix B text and the
// receipted_message_id / message_state TLVs. The id in the receipt is always
// decimal, so --id-format hex reproduces pitfall 15.
function sendReceipt(s, r) {
  const now = stamp(new Date());
  const text = `id:${r.n} sub:001 dlvrd:${r.state === 2 ? '001' : '000'} submit date:${now} done date:${now} stat:${r.stat} err:${r.state === 2 ? '000' : '001'} text:`;
  const pdu = new smpp.PDU('deliver_sm', {
    source_addr_ton: 1, source_addr_npi: 1, source_addr: r.src,
    dest_addr_ton: 0, dest_addr_npi: 0, destination_addr: r.dst,
    esm_class: 0x04, data_coding: 0,
    short_message: Buffer.from(text, 'latin1'),
    receipted_message_id: String(r.n), message_state: r.state,
  });
  send(s, pdu);
}

function flushReceipts() {
  for (let i = 0; i < pendingReceipts.length;) {
    const r = pendingReceipts[i];
    const s = receiverFor(r.systemId, r.prefer);
    if (!s) { i++; continue; }
    pendingReceipts.splice(i, 1);
    sendReceipt(s, r);
  }
}

// splitUCS2 cuts a JS string (UTF-16 code units) into parts of at most max
// units, never between the halves of a surrogate pair (smpp.md §6.4).
function splitUCS2(text, max) {
  const parts = [];
  let i = 0;
  while (i < text.length) {
    let end = Math.min(i + max, text.length);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end--;
    parts.push(text.slice(i, end));
    i = end;
  }
  return parts;
}

// raw sends a header-only PDU with any command_id (for generic_nack tests).
function raw(c) {
  const ids = [];
  for (const s of sessions) {
    if (!s.mode) continue;
    const seq = ++s.session.sequence;
    const buf = Buffer.alloc(16);
    buf.writeUInt32BE(16, 0);
    buf.writeUInt32BE(c.command_id >>> 0, 4);
    buf.writeUInt32BE(seq, 12);
    s.session.socket.write(buf);
    emit({ ev: 'pdu', dir: 'out', session: s.id, command: 'raw', seq: seq, status: 0, hex: buf.toString('hex') });
    ids.push(s.id);
  }
  return { sessions: ids };
}

// mo sends one MO message to a receiving session of system id c.system_id
// (default: the configured one). c.coding "gsm" sends one deliver_sm with
// data_coding 0 encoded by the library; "ucs2" sends data_coding 8, split
// into 67-unit parts with an 8-bit reference UDH when c.split is set, in
// c.order (0-based part indexes) if given. c.payload puts the text in
// message_payload instead.
function mo(c) {
  const s = receiverFor(c.system_id || opts.systemId, null);
  if (!s) throw new Error('no receiving session bound');
  const base = {
    source_addr_ton: 1, source_addr_npi: 1, source_addr: c.from || '15550001111',
    dest_addr_ton: 0, dest_addr_npi: 0, destination_addr: c.to || '12345',
    esm_class: 0,
  };
  const coding = c.coding || 'gsm';
  let bodies;
  if (c.payload && c.split) {
    // UCS-2 parts, each with its UDH inside message_payload (sm_length 0,
    // esm_class 0x40): linxGnu/gosmpp#55, smpp.md §6.6.
    const parts = splitUCS2(c.text, 67);
    const ref = (c.ref || 0x2b) & 0xff;
    bodies = parts.map((p, i) => ({ data_coding: 8, esm_class: 0x40, message_payload: { udh: Buffer.from([5, 0, 3, ref, parts.length, i + 1]), message: p } }));
  } else if (c.payload) {
    // The whole text in message_payload, sm_length 0 (smpp.md §6.6).
    bodies = [{ data_coding: coding === 'gsm' ? 0 : 8, message_payload: { message: c.text } }];
  } else if (coding === 'gsm') {
    bodies = [{ data_coding: 0, short_message: c.text }];
  } else if (coding === 'ucs2') {
    const parts = c.split ? splitUCS2(c.text, 67) : [c.text];
    const ref = (c.ref || 0x2a) & 0xff;
    bodies = parts.map((p, i) => parts.length === 1 ? { data_coding: 8, short_message: { message: p } }
      : { data_coding: 8, short_message: { udh: Buffer.from([5, 0, 3, ref, parts.length, i + 1]), message: p } });
  } else {
    throw new Error(`unknown coding ${coding}`);
  }
  const order = c.order || bodies.map((_, i) => i);
  const seqs = [];
  for (const i of order) {
    const pdu = new smpp.PDU('deliver_sm', Object.assign({}, base, bodies[i]));
    send(s, pdu);
    seqs.push(pdu.sequence_number);
  }
  return { session: s.id, seqs: seqs, parts: bodies.length };
}

function handleCommand(c) {
  switch (c.cmd) {
    case 'mo':
      return mo(c);
    case 'receipt': {
      const s = receiverFor(c.system_id || opts.systemId, null);
      if (!s) throw new Error('no receiving session bound');
      const st = c.stat ? [c.stat, c.state || 2] : ['DELIVRD', 2];
      sendReceipt(s, { n: c.msg_id, src: c.from || '15550002222', dst: c.to || '12345', stat: st[0], state: st[1] });
      return { session: s.id };
    }
    case 'enquire_link':
    case 'unbind': {
      const ids = [];
      for (const s of sessions) {
        if (!s.mode) continue;
        send(s, new smpp.PDU(c.cmd));
        ids.push(s.id);
      }
      return { sessions: ids };
    }
    case 'raw':
      return raw(c);
    case 'drop': { // cut every connection without unbind
      const ids = [];
      for (const s of sessions) { s.session.destroy(); ids.push(s.id); }
      return { sessions: ids };
    }
    case 'data_sm': { // MO as data_sm, text in message_payload (SMPP 3.4 §4.7)
      const s = receiverFor(c.system_id || opts.systemId, null);
      if (!s) throw new Error('no receiving session bound');
      const pdu = new smpp.PDU('data_sm', {
        source_addr_ton: 1, source_addr_npi: 1, source_addr: c.from || '15550001111',
        destination_addr: c.to || '12345', data_coding: c.coding === 'ucs2' ? 8 : 0,
        message_payload: { message: c.text },
      });
      send(s, pdu);
      return { session: s.id, seqs: [pdu.sequence_number] };
    }
    case 'stop':
      stop(0);
      return {};
    default:
      throw new Error(`unknown command ${c.cmd}`);
  }
}

function onPDU(s, pdu) {
  record('in', s, pdu);
  if (pdu.isResponse()) return;
  switch (pdu.command) {
    case 'bind_transmitter':
    case 'bind_receiver':
    case 'bind_transceiver':
      return onBind(s, pdu);
    case 'submit_sm':
      return onSubmit(s, pdu);
    case 'enquire_link':
      return send(s, pdu.response());
    case 'unbind':
      send(s, pdu.response());
      s.mode = null;
      return;
    case 'unknown':
      return send(s, pdu.response()); // generic_nack ESME_RINVCMDID
    default:
      if (!s.mode) return send(s, pdu.response({ command_status: smpp.ESME_RINVBNDSTS }));
      return send(s, pdu.response({ command_status: smpp.ESME_RINVCMDID }));
  }
}

// With --tls-key and --tls-cert the library serves SMPP over TLS.
const serverOpts = opts.tlsKey ? { key: fs.readFileSync(opts.tlsKey), cert: fs.readFileSync(opts.tlsCert) } : {};
const server = smpp.createServer(serverOpts, (session) => {
  const s = { id: nextSession++, session: session, mode: null, systemId: null };
  sessions.add(s);
  emit({ ev: 'connect', session: s.id });
  session.on('pdu', (pdu) => onPDU(s, pdu));
  session.on('error', (e) => emit({ ev: 'session_error', session: s.id, error: String(e && e.message) }));
  session.on('close', () => { sessions.delete(s); emit({ ev: 'close', session: s.id }); });
});

function stop(code) {
  for (const s of sessions) s.session.destroy();
  server.close();
  setTimeout(() => process.exit(code), 50).unref();
}

server.listen(opts.port, '127.0.0.1', () => emit({ ev: 'listening', port: server.address().port }));

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  if (!line.trim()) return;
  let c;
  try {
    c = JSON.parse(line);
    emit(Object.assign({ ev: 'done', id: c.id, cmd: c.cmd }, handleCommand(c)));
  } catch (e) {
    emit({ ev: 'error', id: c && c.id, error: String(e.message) });
  }
}).on('close', () => stop(0));

process.on('SIGTERM', () => stop(0));
// Never outlive a forgotten test run.
setTimeout(() => { process.stderr.write('node-smsc: lifetime limit reached\n'); stop(3); }, 10 * 60 * 1000).unref();
