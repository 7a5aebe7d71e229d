"""Verify: one-time codes sent to a number, checked by the client; safe against guessing and SMS pumping.

- `codes`: generate, hash (keyed HMAC), seal and compare codes;
- `limits`: who may be sent a code now (countries, per-number and per-account rates, paused prefixes);
- `service`: start, check, cancel and advance a verification (failover between channels, expiry);
- `events`: the `verify:status` webhook event.
"""
