// Self-check of node-smsc.js with the smpp package's own client, so a
// failure in the Go interop test can be told apart from a broken peer.
// Run: node --test test/interop/node-smsc.test.js
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const { spawn } = require('node:child_process');
const readline = require('node:readline');
const path = require('node:path');
const smpp = require('smpp');

// startSMSC runs node-smsc.js and returns helpers to wait for its events.
function startSMSC(t, args) {
  const child = spawn(process.execPath, [path.join(__dirname, 'node-smsc.js'), ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(() => child.kill());
  const events = [];
  const waiters = [];
  readline.createInterface({ input: child.stdout }).on('line', (line) => {
    const ev = JSON.parse(line);
    events.push(ev);
    for (const w of waiters.slice()) if (w.match(ev)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(ev); }
  });
  const wait = (match, ms = 5000) => {
    const found = events.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timeout waiting for event')), ms);
      waiters.push({ match, resolve: (ev) => { clearTimeout(timer); resolve(ev); } });
    });
  };
  const command = (c) => child.stdin.write(JSON.stringify(c) + '\n');
  return { wait, command, events };
}

function call(session, method, fields) {
  return new Promise((resolve) => session[method](fields, resolve));
}

test('node smpp client against node-smsc', async (t) => {
  const sim = startSMSC(t, ['--id-format', 'hex']);
  const { port } = await sim.wait((e) => e.ev === 'listening');
  const session = smpp.connect({ host: '127.0.0.1', port });
  t.after(() => session.destroy());
  const delivered = [];
  session.on('deliver_sm', (pdu) => { delivered.push(pdu); session.send(pdu.response()); });

  const bad = await call(session, 'bind_transceiver', { system_id: 'esme', password: 'wrong', interface_version: 0x34 });
  assert.strictEqual(bad.command_status, smpp.ESME_RINVPASWD);
  const ok = await call(session, 'bind_transceiver', { system_id: 'esme', password: 'secret', interface_version: 0x34 });
  assert.strictEqual(ok.command_status, 0);

  const resp = await call(session, 'submit_sm', {
    source_addr: '12345', destination_addr: '15550002222', registered_delivery: 1, data_coding: 0,
    short_message: 'Hi @ {x}',
  });
  assert.strictEqual(resp.command_status, 0);
  assert.match(resp.message_id, /^[0-9A-F]{8}$/);
  const seen = await sim.wait((e) => e.ev === 'pdu' && e.dir === 'in' && e.command === 'submit_sm');
  assert.strictEqual(seen.raw.short_message, '48692000201b28781b29');
  assert.strictEqual(seen.lib.text, 'Hi @ {x}');

  const refused = await call(session, 'submit_sm', { destination_addr: '15550009999', short_message: 'x' });
  assert.strictEqual(refused.command_status, smpp.ESME_RINVDSTADR);

  await sim.wait((e) => e.ev === 'pdu' && e.dir === 'in' && e.command === 'deliver_sm_resp');
  const dlr = delivered[0];
  assert.strictEqual(dlr.esm_class, 0x04);
  assert.strictEqual(dlr.receipted_message_id, String(parseInt(resp.message_id, 16)));
  assert.match(dlr.short_message.message, /stat:DELIVRD/);

  const text = 'Ünïcødé 😀 '.repeat(8);
  sim.command({ id: 1, cmd: 'mo', coding: 'ucs2', split: true, text, order: [1, 0] });
  const done = await sim.wait((e) => e.ev === 'done' && e.id === 1);
  assert.strictEqual(done.parts, 2);
  await sim.wait((e) => e.ev === 'pdu' && e.dir === 'in' && e.command === 'deliver_sm_resp' && e.seq === done.seqs[1]);
  const parts = delivered.slice(1);
  assert.strictEqual(parts.length, 2);
  const bySeq = parts.map((p) => ({ seq: p.short_message.udh[0][4], text: p.short_message.message })).sort((a, b) => a.seq - b.seq);
  assert.strictEqual(bySeq.map((p) => p.text).join(''), text);

  await call(session, 'unbind', {});
});
