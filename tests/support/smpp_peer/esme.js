// An ESME for the gateway's tests, on node-smpp (npm `smpp`): bind, send the submits given, answer every
// deliver_sm, and print one JSON line with what came back.
//   node esme.js '{"port": 2775, "system_id": "acme", "password": "…", "mode": "transceiver", "tls": false,
//                  "submits": [{"command": "submit_sm"|"data_sm", "source_addr", "destination_addr",
//                               "short_message" | "message_payload", "data_coding"?, "registered_delivery"?,
//                               "pe_id"?, "template_id"?, "tm_id"?}],
//                  "deliveries": 0, "timeout_ms": 10000}'
// prints {"bind_status", "answers": [{"command_status", "message_id"}], "deliveries": [{"short_message",
// "receipted_message_id", "esm_class"}]} and exits 0; a connection error exits 1 with the error on stderr.
"use strict";
const smpp = require("smpp");

smpp.addTLV("pe_id", { id: 0x1400, type: smpp.types.tlv.cstring });
smpp.addTLV("template_id", { id: 0x1401, type: smpp.types.tlv.cstring });
smpp.addTLV("tm_id", { id: 0x1402, type: smpp.types.tlv.cstring });

const job = JSON.parse(process.argv[2]);
const result = { bind_status: null, answers: [], deliveries: [] };
const url = `${job.tls ? "ssmpp" : "smpp"}://127.0.0.1:${job.port}`;
const session = smpp.connect({ url, rejectUnauthorized: false, auto_enquire_link_period: 0 });
const timer = setTimeout(finish, job.timeout_ms || 10000);

function finish() {
  clearTimeout(timer);
  process.stdout.write(JSON.stringify(result) + "\n");
  session.close();
  process.exit(0);
}

function maybeDone() {
  const submits = job.submits || [];
  if (result.answers.length === submits.length && result.deliveries.length >= (job.deliveries || 0)) finish();
}

function text(value) {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value;
  if (Buffer.isBuffer(value)) return value.toString("latin1");
  if (value.message !== undefined) return String(value.message);
  return String(value);
}

session.on("error", (error) => {
  process.stderr.write(String(error) + "\n");
  process.exit(1);
});
session.on("deliver_sm", (pdu) => {
  session.send(pdu.response());
  result.deliveries.push({
    short_message: text(pdu.short_message) || text(pdu.message_payload),
    receipted_message_id: text(pdu.receipted_message_id),
    esm_class: pdu.esm_class,
  });
  maybeDone();
});
session.on("connect", () => {
  const bind = { system_id: job.system_id, password: job.password, system_type: "smpp", interface_version: 0x34 };
  session[`bind_${job.mode || "transceiver"}`](bind, (pdu) => {
    result.bind_status = pdu.command_status;
    if (pdu.command_status !== 0) return finish();
    const submits = job.submits || [];
    submits.forEach((submit, index) => {
      const { command = "submit_sm", ...fields } = submit;
      session[command](fields, (answer) => {
        result.answers[index] = { command_status: answer.command_status, message_id: answer.message_id || "" };
        result.answers.length = Math.max(result.answers.length, index + 1);
        if (result.answers.filter((a) => a).length === submits.length) maybeDone();
      });
    });
    maybeDone();
  });
});
