"""The SMPP gateway for customers: the platform's own SMPP 3.4 server that an account's applications (ESMEs) bind
to, and what surrounds it.

- `credentials`: system_id/password pairs (password shown once, stored hashed), IP allow-list, bind limit,
  throughput and window; every change audited.
- `receipts`: the one producer of `SmppReceipt` rows (delivery receipts when a message submitted over SMPP reaches
  a final state, inbound messages for the account) and the one home of the receipt text format.
- `sweeps` / `tasks`: expiry of receipts nobody collected, stale sessions of dead server processes, old bind
  failures.
- the server process itself (binds, submits, the deliver_sm loop) lives beside these modules.
"""
