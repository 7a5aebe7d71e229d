"""The sending core: from an audience to messages, to the connector and back. One home per concern:

- `planning`: one recipient → a `Draft` (text, encoding, parts, price) or a `Rejection`; a whole campaign's
  counts (quote, review, preview) from `contacts.recipients`, the one door into contacts;
- `preparation`: the one draft writer (campaigns and API sends) and a campaign's preparation;
- `direct`: API sends (single, bulk, template, quotes);
- `outbox`: claims with leases, the re-check of opt-outs at release, handing messages to connectors, results;
- `billing`: the only code that moves a balance (debits, refunds, credits);
- `reports`: delivery-report ingestion, the one entry point for every connector;
- `events`: the `sms:message:status` payload, for live events and the customized-webhook test alike;
- `lifecycle`: schedule, start, pause, resume, cancel, completion;
- `timing`: batches, the India promotional window, retry backoff;
- `stats`: a campaign's figures;
- `errors`: why a send or a recipient is refused, worded once.
"""
