#!/usr/bin/env node
// node-esme.js: a third-party ESME for the interop tests, built on the npm
// package `smpp` 0.5.1, used to drive our SMSC simulator (cmd/smscsim) with
// a client we did not write. It binds as a transceiver with the library's
// defaults (interface_version 0x50 unless --v34, smpp.md pitfall 3), submits
// each text with registered_delivery 1, acknowledges every deliver_sm,
// waits until it has a receipt for every submit and --mo deliver_sm more,
// then unbinds. It prints one JSON object per line on stdout:
//
//   {"ev":"bind","status":N,"system_id":"..."}
//   {"ev":"submit","text":"...","status":N,"message_id":"..."}
//   {"ev":"deliver","esm_class":N,"data_coding":N,"text":"...","udh":[..],
//    "receipted_message_id":"...","message_state":N,"hex":"..."}
//   {"ev":"unbind","status":N} and finally {"ev":"end","ok":true|false,"why":"..."}
//
// Usage: node node-esme.js --port P [--system-id esme] [--password secret]
//        [--v34] [--mo N] [--timeout-ms 20000] TEXT...
'use strict';

const smpp = require('smpp');

const o = { port: 0, systemId: 'esme', password: 'secret', v34: false, mo: 0, timeoutMs: 20000, texts: [] };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--port') o.port = Number(argv[++i]);
  else if (a === '--system-id') o.systemId = argv[++i];
  else if (a === '--password') o.password = argv[++i];
  else if (a === '--v34') o.v34 = true;
  else if (a === '--mo') o.mo = Number(argv[++i]);
  else if (a === '--timeout-ms') o.timeoutMs = Number(argv[++i]);
  else o.texts.push(a);
}

function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

let finished = false;
function end(ok, why) {
  if (finished) return;
  finished = true;
  emit({ ev: 'end', ok: ok, why: why });
  session.close();
  setTimeout(() => process.exit(ok ? 0 : 1), 100);
}

const ids = new Set(); // message ids still waiting for a receipt
let submitsDone = 0;
let moSeen = 0;

function maybeDone() {
  if (submitsDone === o.texts.length && ids.size === 0 && moSeen >= o.mo) {
    session.unbind((pdu) => {
      emit({ ev: 'unbind', status: pdu.command_status });
      end(true, 'all receipts and MO received');
    });
  }
}

const session = smpp.connect({ host: '127.0.0.1', port: o.port });
session.on('error', (e) => end(false, 'session error: ' + e.message));
session.on('close', () => end(false, 'connection closed early'));

session.on('deliver_sm', (pdu) => {
  const sm = pdu.short_message || {};
  const ev = {
    ev: 'deliver', esm_class: pdu.esm_class, data_coding: pdu.data_coding,
    text: typeof sm.message === 'string' ? sm.message : '',
    udh: (sm.udh || []).map((u) => u.toString('hex')),
    receipted_message_id: pdu.receipted_message_id, message_state: pdu.message_state,
  };
  emit(ev);
  session.send(pdu.response());
  if ((pdu.esm_class & 0x3c) === 0x04) {
    // The simulator quotes ids as the submit_sm_resp had them; the TLV wins.
    ids.delete(pdu.receipted_message_id);
  } else {
    moSeen++;
  }
  maybeDone();
});

session.on('enquire_link', (pdu) => session.send(pdu.response()));

session.on('connect', () => {
  const bind = { system_id: o.systemId, password: o.password };
  if (o.v34) bind.interface_version = 0x34;
  session.bind_transceiver(bind, (pdu) => {
    emit({ ev: 'bind', status: pdu.command_status, system_id: pdu.system_id });
    if (pdu.command_status !== 0) return end(false, 'bind refused');
    for (const text of o.texts) {
      // No data_coding: the library picks one itself (smpp.md §9.1).
      session.submit_sm({ source_addr: '12345', destination_addr: '15550007777', registered_delivery: 1, short_message: text }, (resp) => {
        emit({ ev: 'submit', text: text, status: resp.command_status, message_id: resp.message_id });
        if (resp.command_status === 0) ids.add(resp.message_id);
        submitsDone++;
        maybeDone();
      });
    }
    maybeDone();
  });
});

setTimeout(() => end(false, `timeout: ${ids.size} receipts and ${Math.max(0, o.mo - moSeen)} MO missing`), o.timeoutMs).unref();
