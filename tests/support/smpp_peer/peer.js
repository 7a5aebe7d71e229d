// An SMSC for the tests and benchmarks, on node-smpp (npm `smpp`): binds checked and recorded, submit_sm/data_sm
// answered and recorded with every field and every TLV as it came on the wire (vendor tags included), delivery
// receipts as deliver_sm on a bound receiver of the same system_id, inbound (MO) messages, and faults on demand
// through a JSON control API on a second port.
//   node peer.js --port 0 --control-port 0 [--system-id test] [--password secret] [--tls-key k --tls-cert c]
//                [--exit-with-stdin 1]  (exit when stdin closes: the peer dies with the test process that spawned it)
// prints "LISTENING <smpp port> <control port>" once both listen on 127.0.0.1, and nothing else on stdout.
// Control API (JSON): GET /pdus[?command=submit_sm] /binds /sessions /deliveries /stats /config;
// POST /reset, /config {CONFIG_KEYS below; dlr_table replaces the table: {"0000": ["UNDELIV", "001"]}},
// /mo {from, to, text | hex, data_coding?, parts?, reference?, session?}, /receipt {id, from, to?, stat?, err?},
// /close_sessions. Unknown settings and bad JSON answer 400; /mo with no bound receiver 409.
"use strict";
const fs = require("fs");
const http = require("http");
const smpp = require("smpp");
const defs = require("smpp/lib/defs");

// Keep what the client sent as it was: short_message and message_payload as raw octets (the library would decode
// them by data_coding), schedule_delivery_time and validity_period as the strings on the wire (not Dates).
// Unknown TLV tags (vendor 0x1400-0x3FFF) need no addTLV: node-smpp keeps them as raw Buffers under the tag number.
for (const params of Object.values(defs.commands).map((c) => c.params || {})) {
  for (const key of ["short_message", "schedule_delivery_time", "validity_period"]) {
    if (params[key]) params[key].filter = null;
  }
}
delete defs.tlvs.message_payload.filter;

const RECORDED = new Set(["submit_sm", "data_sm"]);
const PDU_HEAD = ["command_length", "command_id", "command_status", "sequence_number"];
// the TLV list of an inbound submit/data_sm is read from the PDU's own bytes, known tags and vendor tags alike
const fromBuffer = smpp.PDU.prototype.fromBuffer;
// A body the library cannot read (a TLV whose length does not fit, ...) is answered with generic_nack, as an SMSC
// would, instead of the library's error that leaves the session stuck.
smpp.PDU.prototype.fromBuffer = function keepRaw(buffer) {
  try {
    fromBuffer.call(this, buffer);
  } catch (error) {
    Object.defineProperty(this, "parse_error", { value: error.message, enumerable: false });
    for (const key of Object.keys(this)) if (!PDU_HEAD.includes(key)) delete this[key];
    this.command = "unknown";
    return;
  }
  if (RECORDED.has(this.command)) Object.defineProperty(this, "raw", { value: buffer, enumerable: false });
};

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, "")] = process.argv[i + 1];
const SYSTEM_ID = args["system-id"] || "test";
const PASSWORD = args.password || "secret";

const ESME = { RINVOPTPARSTREAM: 0xc0, RINVBNDSTS: 0x04, RALYBND: 0x05, RINVCMDID: 0x03, RMSGQFUL: 0x14, RINVPASWD: 0x0e, RINVSYSID: 0x0f, RTHROTTLED: 0x58 };
const DEFAULT_DLR_TABLE = { "0000": ["UNDELIV", "001"], "0013": ["UNDELIV", "013"], "0021": ["EXPIRED", "021"], "0777": ["REJECTD", "777"] };
const MESSAGE_STATE = { ENROUTE: 1, DELIVRD: 2, EXPIRED: 3, DELETED: 4, UNDELIV: 5, ACCEPTD: 6, UNKNOWN: 7, REJECTD: 8 };
const FIELDS = ["service_type", "source_addr_ton", "source_addr_npi", "source_addr", "dest_addr_ton", "dest_addr_npi",
  "destination_addr", "esm_class", "protocol_id", "priority_flag", "schedule_delivery_time", "validity_period",
  "registered_delivery", "replace_if_present_flag", "data_coding", "sm_default_msg_id"];
const CONFIG_KEYS = ["throttle_next", "queue_full_next", "reject_next", "resp_delay_ms", "dlr_before_resp", "dlr_delay_ms",
  "no_dlr", "hold_resps", "id_format", "dlr_table", "record"];

let config, state;
function reset() {
  config = { throttle_next: 0, queue_full_next: 0, reject_next: null, resp_delay_ms: 0, dlr_before_resp: false,
    dlr_delay_ms: 200, no_dlr: false, hold_resps: false, id_format: "hex", dlr_table: { ...DEFAULT_DLR_TABLE }, record: true };
  state = {
    pdus: [], binds: [], deliveries: [], pendingReceipts: [], nextId: 0x5f3a9c00,
    counters: { submits: 0, accepted: 0, throttled: 0, queue_full: 0, rejected: 0, held: 0, not_bound: 0, binds: 0,
      bind_refused: 0, enquire_links: 0, unbinds: 0, generic_nacks_sent: 0, generic_nacks_received: 0, deliver_sm_sent: 0,
      receipts_sent: 0, mo_sent: 0, deliver_sm_resp: 0, deliver_sm_resp_errors: 0, deliver_sm_resp_statuses: {} },
  };
}
reset();

const sessions = new Set();
let sessionIndex = 0;
let roundRobin = 0;
const live = (s) => s.bound && !s.closed;
const receivers = (systemId) => [...sessions].filter((s) => live(s) && s.mode !== "transmitter" && (!systemId || s.systemId === systemId));

function hex(value) { return Buffer.isBuffer(value) ? value.toString("hex") : null; }

function tlvsOnTheWire(pdu) {
  const params = defs.commands[pdu.command].params || {};
  let offset = 16;
  for (const key of Object.keys(params)) {
    if (pdu[key] === undefined) return [];  // a PDU cut short: the library read no TLVs either
    offset += params[key].type.size(pdu[key]);
  }
  const tlvs = [];
  while (offset + 4 <= pdu.raw.length) {
    const tag = pdu.raw.readUInt16BE(offset);
    const length = pdu.raw.readUInt16BE(offset + 2);
    tlvs.push({ tag, name: defs.tlvsById[tag] ? defs.tlvsById[tag].tag : null, value: pdu.raw.slice(offset + 4, offset + 4 + length).toString("hex") });
    offset += 4 + length;
  }
  return tlvs;
}

function record(session, pdu, extra) {
  const entry = { command: pdu.command, sequence_number: pdu.sequence_number, session: session.index, received_at: Date.now() / 1000 };
  for (const key of FIELDS) if (pdu[key] !== undefined) entry[key] = pdu[key];
  entry.short_message = hex(pdu.short_message);
  entry.sm_length = Buffer.isBuffer(pdu.short_message) ? pdu.short_message.length : null;
  entry.message_payload = hex(pdu.message_payload);
  entry.tlvs = pdu.raw ? tlvsOnTheWire(pdu) : [];
  if (pdu.dest_port !== undefined) entry.destination_port = pdu.dest_port;  // node-smpp's name for destination_port
  for (const key of Object.keys(pdu)) {  // every known TLV under its name too, decoded (sar_*, destination_port, ...)
    if (defs.tlvs[key] && key !== "message_payload" && !(key in entry)) entry[key] = Buffer.isBuffer(pdu[key]) ? hex(pdu[key]) : pdu[key];
  }
  entry.vendor_tlvs = entry.tlvs.filter((t) => t.tag >= 0x1400 && t.tag <= 0x3fff);
  Object.assign(entry, extra);
  state.pdus.push(entry);
  return entry;
}

function newId() {
  state.nextId += 1;
  return config.id_format === "dec" ? String(state.nextId) : state.nextId.toString(16);
}

function smppDate(date) {
  const p = (n) => String(n).padStart(2, "0");
  return p(date.getUTCFullYear() % 100) + p(date.getUTCMonth() + 1) + p(date.getUTCDate()) + p(date.getUTCHours()) + p(date.getUTCMinutes());
}

function countResp(resp) {
  const c = state.counters;
  c.deliver_sm_resp += 1;
  if (resp.command_status) c.deliver_sm_resp_errors += 1;
  c.deliver_sm_resp_statuses[resp.command_status] = (c.deliver_sm_resp_statuses[resp.command_status] || 0) + 1;
}

function deliver(target, kind, fields, messageId) {
  const entry = { kind, session: target.index, message_id: messageId || null, sent_at: Date.now() / 1000, resp_status: null };
  state.counters.deliver_sm_sent += 1;
  target.deliver_sm(fields, (resp) => { countResp(resp); entry.resp_status = resp.command_status; });
  if (config.record) state.deliveries.push(entry);
}

// A receipt waits for a bound receiver/transceiver of its system_id (as an SMSC keeps it), round-robin over them.
function sendReceipt(receipt) {
  const targets = receivers(receipt.systemId);
  if (!targets.length) { state.pendingReceipts.push(receipt); return false; }
  const target = targets[roundRobin++ % targets.length];
  const done = new Date();
  const text = `id:${receipt.id} sub:001 dlvrd:${receipt.stat === "DELIVRD" ? "001" : "000"} submit date:${smppDate(receipt.submitted)} ` +
    `done date:${smppDate(done)} stat:${receipt.stat} err:${receipt.err} text:${receipt.text || ""}`;
  state.counters.receipts_sent += 1;
  deliver(target, "receipt", {
    source_addr_ton: receipt.handsetTon, source_addr_npi: receipt.handsetNpi, source_addr: receipt.handset,
    dest_addr_ton: receipt.senderTon, dest_addr_npi: receipt.senderNpi, destination_addr: receipt.sender,
    esm_class: 0x04, data_coding: 0, short_message: Buffer.from(text, "latin1"),
    receipted_message_id: receipt.id, message_state: MESSAGE_STATE[receipt.stat] || MESSAGE_STATE.UNKNOWN,
  }, receipt.id);
  return true;
}

function flushReceipts() {
  const waiting = state.pendingReceipts;
  state.pendingReceipts = [];
  for (const receipt of waiting) sendReceipt(receipt);
}

function receiptText(pdu) {  // the receipt's text: the message's first 20 characters, for 7/8-bit single-byte codings
  if (![0, 1, 3].includes(pdu.data_coding || 0)) return "";
  let body = Buffer.isBuffer(pdu.short_message) && pdu.short_message.length ? pdu.short_message : pdu.message_payload;
  if (!Buffer.isBuffer(body)) return "";
  if (pdu.esm_class & 0x40 && body.length) body = body.slice(body[0] + 1);
  return body.slice(0, 20).toString("latin1").replace(/[^\x20-\x7e]/g, ".");
}

function outcome(destination) {
  const found = config.dlr_table[String(destination).slice(-4)];
  if (!found) return ["DELIVRD", "000"];
  return Array.isArray(found) ? found : [found.stat, found.err];
}

const wantsReceipt = (pdu) => !config.no_dlr && (pdu.registered_delivery & 0x03) !== 0;

function receiptFor(session, pdu, id, submitted) {
  if (!wantsReceipt(pdu)) return;
  const [stat, err] = outcome(pdu.destination_addr);
  if ((pdu.registered_delivery & 0x03) === 2 && stat === "DELIVRD") return;  // receipts asked for failures only
  sendReceipt({ id, stat, err, submitted, systemId: session.systemId, text: receiptText(pdu),
    handset: pdu.destination_addr, handsetTon: pdu.dest_addr_ton, handsetNpi: pdu.dest_addr_npi,
    sender: pdu.source_addr, senderTon: pdu.source_addr_ton, senderNpi: pdu.source_addr_npi });
}

function submitStatus() {
  if (config.throttle_next > 0) { config.throttle_next -= 1; state.counters.throttled += 1; return ESME.RTHROTTLED; }
  if (config.queue_full_next > 0) { config.queue_full_next -= 1; state.counters.queue_full += 1; return ESME.RMSGQFUL; }
  if (config.reject_next && config.reject_next.count > 0) {
    config.reject_next.count -= 1; state.counters.rejected += 1; return config.reject_next.status;
  }
  return 0;
}

function answerSubmit(session, pdu) {
  if (!live(session) || session.mode === "receiver") {
    state.counters.not_bound += 1;
    session.send(pdu.response({ command_status: ESME.RINVBNDSTS }));
    return;
  }
  state.counters.submits += 1;
  const status = submitStatus();
  const id = status ? "" : newId();
  const extra = { status, message_id: id, held: Boolean(config.hold_resps) };
  if (config.record) record(session, pdu, extra);
  if (config.hold_resps) { state.counters.held += 1; return; }
  const respond = () => { if (!session.closed) session.send(pdu.response({ command_status: status, message_id: id })); };
  if (status) { respond(); return; }
  state.counters.accepted += 1;
  const submitted = new Date();
  if (config.dlr_before_resp) {
    receiptFor(session, pdu, id, submitted);
    setTimeout(respond, config.resp_delay_ms);
    return;
  }
  if (config.resp_delay_ms) setTimeout(respond, config.resp_delay_ms); else respond();
  if (wantsReceipt(pdu)) setTimeout(() => receiptFor(session, pdu, id, submitted), config.dlr_delay_ms);
}

function onBind(session, mode, pdu) {
  const entry = { session: session.index, mode, system_id: pdu.system_id, system_type: pdu.system_type,
    interface_version: pdu.interface_version, address_range: pdu.address_range, at: Date.now() / 1000 };
  let status = 0;
  if (session.bound) status = ESME.RALYBND;
  else if (pdu.system_id !== SYSTEM_ID) status = ESME.RINVSYSID;
  else if (pdu.password !== PASSWORD) status = ESME.RINVPASWD;
  Object.assign(entry, { accepted: status === 0, status });
  state.binds.push(entry);
  if (status) { state.counters.bind_refused += 1; session.send(pdu.response({ command_status: status })); return; }
  state.counters.binds += 1;
  Object.assign(session, { bound: true, mode, systemId: pdu.system_id });
  session.send(pdu.response({ system_id: "PEER", sc_interface_version: 0x34 }));
  if (mode !== "transmitter") flushReceipts();
}

const HANDLED = new Set(["bind_transceiver", "bind_transmitter", "bind_receiver", "submit_sm", "data_sm", "enquire_link", "unbind"]);

function onSession(session) {
  Object.assign(session, { index: sessionIndex++, bound: false, closed: false });
  sessions.add(session);
  for (const mode of ["transceiver", "transmitter", "receiver"]) session.on(`bind_${mode}`, (pdu) => onBind(session, mode, pdu));
  session.on("submit_sm", (pdu) => answerSubmit(session, pdu));
  session.on("data_sm", (pdu) => answerSubmit(session, pdu));
  session.on("enquire_link", (pdu) => { state.counters.enquire_links += 1; session.send(pdu.response()); });
  session.on("unbind", (pdu) => {
    state.counters.unbinds += 1;
    session.bound = false;
    session.send(pdu.response());
    session.close();
  });
  session.on("generic_nack", () => { state.counters.generic_nacks_received += 1; });
  session.on("pdu", (pdu) => {  // any other request (an unknown command_id, or one this SMSC does not offer)
    if (pdu.isResponse() || HANDLED.has(pdu.command)) return;
    state.counters.generic_nacks_sent += 1;
    const status = pdu.parse_error ? ESME.RINVOPTPARSTREAM : ESME.RINVCMDID;
    if (config.record) {
      state.pdus.push({ command: pdu.parse_error ? "malformed" : pdu.command, command_id: pdu.command_id, sequence_number: pdu.sequence_number,
        session: session.index, status, error: pdu.parse_error || null });
    }
    session.send(new smpp.PDU("generic_nack", { command_status: status, sequence_number: pdu.sequence_number }));
  });
  const gone = () => { session.closed = true; session.bound = false; sessions.delete(session); };
  session.on("close", gone);
  session.on("error", () => { gone(); session.socket.destroy(); });
}

const server = args["tls-key"]
  ? smpp.createServer({ key: fs.readFileSync(args["tls-key"]), cert: fs.readFileSync(args["tls-cert"]) }, onSession)
  : smpp.createServer(onSession);

function encodeText(text, dataCoding) {
  if (dataCoding === 8) return Buffer.from(text, "utf16le").swap16();
  return Buffer.from(text, "latin1");
}

function splitUnits(buffer, parts, unit) {  // `parts` chunks of whole characters (2 octets each in UCS-2)
  const units = buffer.length / unit;
  const size = Math.ceil(units / parts) * unit;
  return Array.from({ length: parts }, (_, i) => buffer.slice(i * size, (i + 1) * size));
}

// An inbound message (esm_class 0), split in `parts` deliver_sm with an 8-bit concatenation UDH (esm_class 0x40).
function sendMo(body) {
  const targets = receivers(body.system_id).filter((s) => body.session === undefined || s.index === body.session);
  if (!targets.length) return null;
  const target = targets[roundRobin++ % targets.length];
  const dataCoding = body.data_coding || 0;
  const encoded = body.hex !== undefined ? Buffer.from(body.hex, "hex") : encodeText(body.text || "", dataCoding);
  const parts = Math.max(1, body.parts || 1);
  const reference = body.reference !== undefined ? body.reference : Math.floor(Math.random() * 256);
  const alpha = /[^0-9+]/.test(body.to || "");
  splitUnits(encoded, parts, dataCoding === 8 ? 2 : 1).forEach((chunk, i) => {
    const udh = parts > 1 ? Buffer.from([5, 0, 3, reference, parts, i + 1]) : Buffer.alloc(0);
    state.counters.mo_sent += 1;
    deliver(target, "mo", {
      source_addr_ton: 1, source_addr_npi: 1, source_addr: body.from, dest_addr_ton: alpha ? 5 : 1,
      dest_addr_npi: alpha ? 0 : 1, destination_addr: body.to, esm_class: parts > 1 ? 0x40 : 0,
      data_coding: dataCoding, short_message: Buffer.concat([udh, chunk]),
    });
  });
  return { session: target.index, parts };
}

function configure(data) {
  const unknown = Object.keys(data).filter((k) => !CONFIG_KEYS.includes(k));
  if (unknown.length) throw new Error(`unknown settings ${unknown.join(", ")}; known: ${CONFIG_KEYS.join(", ")}`);
  if (data.id_format && !["hex", "dec"].includes(data.id_format)) throw new Error("id_format is hex or dec");
  Object.assign(config, data);
  if (data.reject_next) config.reject_next = { count: data.reject_next.count || 1, status: data.reject_next.status };
  return config;
}

function sessionsView() {
  return [...sessions].map((s) => ({ session: s.index, bound: s.bound, mode: s.mode || null, system_id: s.systemId || null }));
}

const ROUTES = {
  "GET /pdus": (data, url) => {
    const command = url.searchParams.get("command");
    return [200, command ? state.pdus.filter((p) => p.command === command) : state.pdus];
  },
  "GET /binds": () => [200, state.binds],
  "GET /deliveries": () => [200, state.deliveries],
  "GET /sessions": () => [200, sessionsView()],
  "GET /config": () => [200, config],
  "GET /stats": () => [200, { ...state.counters, sessions: sessionsView().filter((s) => s.bound).length,
    receipts_pending: state.pendingReceipts.length, pdus_recorded: state.pdus.length }],
  "POST /reset": () => { reset(); return [200, { ok: true }]; },
  "POST /config": (data) => [200, configure(data)],
  "POST /mo": (data) => { const sent = sendMo(data); return sent ? [200, sent] : [409, { error: "no bound receiver" }]; },
  "POST /receipt": (data) => {  // a receipt for an id this peer may never have issued (e.g. before a restart)
    const sent = sendReceipt({ id: data.id, stat: data.stat || "DELIVRD", err: data.err || "000", submitted: new Date(),
      systemId: SYSTEM_ID, text: data.text || "", handset: data.from, handsetTon: 1, handsetNpi: 1, sender: data.to || "",
      senderTon: 5, senderNpi: 0 });
    return [200, { sent }];
  },
  "POST /close_sessions": () => {
    const count = sessions.size;
    for (const s of sessions) s.socket.destroy();
    return [200, { closed: count }];
  },
};

const control = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", () => {
    const url = new URL(req.url, "http://127.0.0.1");
    const route = ROUTES[`${req.method} ${url.pathname}`];
    let code = 404, payload = { error: `no route ${req.method} ${url.pathname}` };
    if (route) {
      try {
        const text = Buffer.concat(chunks).toString();
        [code, payload] = route(text ? JSON.parse(text) : {}, url);
      } catch (error) {
        [code, payload] = [400, { error: error.message }];
      }
    }
    res.writeHead(code, { "Content-Type": "application/json" });
    res.end(JSON.stringify(payload));
  });
});

if (args["exit-with-stdin"]) {
  process.stdin.on("end", () => process.exit(0));
  process.stdin.resume();
}
server.on("error", (error) => { process.stderr.write(`SMPP listen failed: ${error.message}\n`); process.exit(2); });
control.on("error", (error) => { process.stderr.write(`control listen failed: ${error.message}\n`); process.exit(2); });
server.listen(Number(args.port || 0), "127.0.0.1", () => {
  control.listen(Number(args["control-port"] || 0), "127.0.0.1", () => {
    process.stdout.write(`LISTENING ${server.address().port} ${control.address().port}\n`);
  });
});
