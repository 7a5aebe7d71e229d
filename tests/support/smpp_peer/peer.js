// An SMSC for the tests and benchmarks, on node-smpp (npm `smpp`): binds, submit_sm/data_sm answered and
// recorded with every field and TLV (vendor tags included), delivery receipts as deliver_sm on any bound
// receiver of the same system_id, inbound (MO) messages, and faults on demand through a JSON control API.
//   node peer.js --port 0 --control-port 0 [--system-id test] [--password secret] [--tls-key k --tls-cert c]
// prints "LISTENING <smpp port> <control port>" once both listen on 127.0.0.1.
"use strict";
const fs = require("fs");
const http = require("http");
const smpp = require("smpp");
const defs = require("smpp/lib/defs");

// keep short_message and message_payload as the raw octets the client sent (no decoding by the library)
for (const command of ["submit_sm", "data_sm", "deliver_sm"]) {
  const params = defs.commands[command].params || {};
  if (params.short_message) params.short_message.filter = null;
}
delete defs.tlvs.message_payload.filter;

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, "")] = process.argv[i + 1];
const SYSTEM_ID = args["system-id"] || "test";
const PASSWORD = args.password || "secret";

const DEFAULT_DLR_TABLE = { "0000": ["UNDELIV", "001"], "0013": ["UNDELIV", "013"], "0021": ["EXPIRED", "021"], "0777": ["REJECTD", "777"] };
const MESSAGE_STATE = { DELIVRD: 2, EXPIRED: 3, DELETED: 4, UNDELIV: 5, ACCEPTD: 6, UNKNOWN: 7, REJECTD: 8 };

let config, state;
function reset() {
  config = {
    throttle_next: 0, queue_full_next: 0, reject_next: null, resp_delay_ms: 0, dlr_before_resp: false,
    dlr_delay_ms: 200, no_dlr: false, hold_resps: false, id_format: "hex", dlr_table: DEFAULT_DLR_TABLE, record: true,
  };
  state = { pdus: [], binds: [], counters: { submits: 0, accepted: 0, throttled: 0, queue_full: 0, rejected: 0,
    binds: 0, bind_refused: 0, enquire_links: 0, deliver_sm_sent: 0, deliver_sm_resp: 0, deliver_sm_resp_errors: 0,
    unbinds: 0, generic_nacks: 0 }, nextId: 0x5f3a9c00 };
}
reset();

const sessions = new Set();
const receivers = () => [...sessions].filter((s) => s.bound && s.mode !== "transmitter" && !s.closed);
let rr = 0;

function hex(buffer) { return Buffer.isBuffer(buffer) ? buffer.toString("hex") : null; }

function record(session, pdu, extra) {
  if (!config.record) return;
  const entry = { command: pdu.command, sequence_number: pdu.sequence_number, session: session.index };
  for (const key of ["service_type", "source_addr_ton", "source_addr_npi", "source_addr", "dest_addr_ton",
    "dest_addr_npi", "destination_addr", "esm_class", "protocol_id", "priority_flag", "validity_period",
    "schedule_delivery_time", "registered_delivery", "data_coding", "sar_msg_ref_num", "sar_total_segments",
    "sar_segment_seqnum", "destination_port", "source_port"]) {
    if (pdu[key] !== undefined) entry[key] = pdu[key];
  }
  entry.short_message = hex(pdu.short_message);
  entry.message_payload = hex(pdu.message_payload);
  entry.tlvs = Object.keys(pdu).filter((k) => /^\d+$/.test(k)).map((k) => ({ tag: Number(k), value: hex(pdu[k]) }));
  Object.assign(entry, extra);
  state.pdus.push(entry);
}

function newId() {
  state.nextId += 1;
  return config.id_format === "dec" ? String(state.nextId) : state.nextId.toString(16);
}

function smppDate(date) {
  const p = (n) => String(n).padStart(2, "0");
  return p(date.getUTCFullYear() % 100) + p(date.getUTCMonth() + 1) + p(date.getUTCDate()) + p(date.getUTCHours()) + p(date.getUTCMinutes());
}

function sendReceipt(id, handset, sender, stat, err) {
  const targets = receivers().filter((s) => s.systemId === SYSTEM_ID);
  if (!targets.length) return false;
  const target = targets[rr++ % targets.length];
  const now = smppDate(new Date());
  const text = `id:${id} sub:001 dlvrd:${stat === "DELIVRD" ? "001" : "000"} submit date:${now} done date:${now} stat:${stat} err:${err} text:`;
  state.counters.deliver_sm_sent += 1;
  target.deliver_sm({
    source_addr_ton: 1, source_addr_npi: 1, source_addr: handset, dest_addr_ton: 5, dest_addr_npi: 0,
    destination_addr: sender, esm_class: 0x04, data_coding: 0, short_message: Buffer.from(text, "ascii"),
    receipted_message_id: id, message_state: MESSAGE_STATE[stat] || 7,
  }, (resp) => {
    state.counters.deliver_sm_resp += 1;
    if (resp.command_status) state.counters.deliver_sm_resp_errors += 1;
  });
  return true;
}

function receiptFor(pdu, id) {
  if (config.no_dlr || !(pdu.registered_delivery & 0x03)) return;
  const suffix = String(pdu.destination_addr).slice(-4);
  const [stat, err] = config.dlr_table[suffix] || ["DELIVRD", "000"];
  sendReceipt(id, pdu.destination_addr, pdu.source_addr, stat, err);
}

function answerSubmit(session, pdu) {
  state.counters.submits += 1;
  let status = 0;
  if (config.throttle_next > 0) { config.throttle_next -= 1; status = 0x58; state.counters.throttled += 1; }
  else if (config.queue_full_next > 0) { config.queue_full_next -= 1; status = 0x14; state.counters.queue_full += 1; }
  else if (config.reject_next && config.reject_next.count > 0) {
    config.reject_next.count -= 1; status = config.reject_next.status; state.counters.rejected += 1;
  }
  const id = status ? "" : newId();
  record(session, pdu, { status, message_id: id });
  if (config.hold_resps) return;
  if (!status) state.counters.accepted += 1;
  const respond = () => { if (!session.closed) session.send(pdu.response({ command_status: status, message_id: id })); };
  if (status) { respond(); return; }
  if (config.dlr_before_resp) {
    receiptFor(pdu, id);
    setTimeout(respond, config.resp_delay_ms);
  } else {
    if (config.resp_delay_ms) setTimeout(respond, config.resp_delay_ms); else respond();
    setTimeout(() => receiptFor(pdu, id), config.dlr_delay_ms);
  }
}

let sessionIndex = 0;
function onSession(session) {
  session.index = sessionIndex++;
  session.bound = false;
  sessions.add(session);
  const bind = (mode) => (pdu) => {
    const entry = { session: session.index, mode, system_id: pdu.system_id, system_type: pdu.system_type,
      interface_version: pdu.interface_version, address_range: pdu.address_range, accepted: false };
    let status = 0;
    if (pdu.system_id !== SYSTEM_ID) status = 0x0F;
    else if (pdu.password !== PASSWORD) status = 0x0E;
    entry.accepted = status === 0;
    entry.status = status;
    state.binds.push(entry);
    if (status) { state.counters.bind_refused += 1; session.send(pdu.response({ command_status: status })); return; }
    state.counters.binds += 1;
    session.bound = true; session.mode = mode; session.systemId = pdu.system_id;
    session.send(pdu.response({ system_id: "PEER" }));
  };
  session.on("bind_transceiver", bind("transceiver"));
  session.on("bind_transmitter", bind("transmitter"));
  session.on("bind_receiver", bind("receiver"));
  session.on("submit_sm", (pdu) => answerSubmit(session, pdu));
  session.on("data_sm", (pdu) => answerSubmit(session, pdu));
  session.on("enquire_link", (pdu) => { state.counters.enquire_links += 1; session.send(pdu.response()); });
  session.on("unbind", (pdu) => { state.counters.unbinds += 1; session.send(pdu.response()); session.bound = false; session.close(); });
  session.on("generic_nack", () => { state.counters.generic_nacks += 1; });
  session.on("unknown", (pdu) => session.send(pdu.response()));
  session.on("close", () => { session.closed = true; sessions.delete(session); });
  session.on("error", () => { session.closed = true; sessions.delete(session); });
}

const server = args["tls-key"]
  ? smpp.createServer({ key: fs.readFileSync(args["tls-key"]), cert: fs.readFileSync(args["tls-cert"]) }, onSession)
  : smpp.createServer(onSession);

function sendMo(body) {
  const targets = receivers();
  if (!targets.length) return false;
  const target = targets[rr++ % targets.length];
  const dc = body.data_coding || 0;
  const encoded = dc === 8 ? Buffer.from(body.text, "utf16le").swap16() : Buffer.from(body.text, "latin1");
  const parts = Math.max(1, body.parts || 1);
  const size = Math.ceil(encoded.length / parts);
  const reference = Math.floor(Math.random() * 255);
  for (let i = 0; i < parts; i += 1) {
    let chunk = encoded.slice(i * size, (i + 1) * size);
    if (parts > 1) chunk = Buffer.concat([Buffer.from([5, 0, 3, reference, parts, i + 1]), chunk]);
    state.counters.deliver_sm_sent += 1;
    target.deliver_sm({
      source_addr_ton: 1, source_addr_npi: 1, source_addr: body.from, dest_addr_ton: 5, dest_addr_npi: 0,
      destination_addr: body.to, esm_class: parts > 1 ? 0x40 : 0, data_coding: dc, short_message: chunk,
    }, (resp) => { state.counters.deliver_sm_resp += 1; if (resp.command_status) state.counters.deliver_sm_resp_errors += 1; });
  }
  return true;
}

function reply(res, code, payload) {
  res.writeHead(code, { "Content-Type": "application/json" });
  res.end(JSON.stringify(payload));
}

const control = http.createServer((req, res) => {
  let body = "";
  req.on("data", (chunk) => { body += chunk; });
  req.on("end", () => {
    const url = new URL(req.url, "http://127.0.0.1");
    const data = body ? JSON.parse(body) : {};
    if (req.method === "GET" && url.pathname === "/pdus") {
      const command = url.searchParams.get("command");
      return reply(res, 200, command ? state.pdus.filter((p) => p.command === command) : state.pdus);
    }
    if (req.method === "GET" && url.pathname === "/binds") return reply(res, 200, state.binds);
    if (req.method === "GET" && url.pathname === "/stats") {
      return reply(res, 200, { ...state.counters, sessions: [...sessions].filter((s) => s.bound).length });
    }
    if (req.method === "POST" && url.pathname === "/reset") { reset(); return reply(res, 200, { ok: true }); }
    if (req.method === "POST" && url.pathname === "/config") { Object.assign(config, data); return reply(res, 200, config); }
    if (req.method === "POST" && url.pathname === "/mo") return reply(res, sendMo(data) ? 200 : 409, {});
    if (req.method === "POST" && url.pathname === "/receipt") {
      const ok = sendReceipt(data.id, data.from, data.to || "", data.stat || "DELIVRD", data.err || "000");
      return reply(res, ok ? 200 : 409, {});
    }
    if (req.method === "POST" && url.pathname === "/close_sessions") {
      for (const s of sessions) s.socket.destroy();
      return reply(res, 200, {});
    }
    return reply(res, 404, { error: "unknown" });
  });
});

server.listen(Number(args.port || 0), "127.0.0.1", () => {
  control.listen(Number(args["control-port"] || 0), "127.0.0.1", () => {
    process.stdout.write(`LISTENING ${server.address().port} ${control.address().port}\n`);
  });
});
