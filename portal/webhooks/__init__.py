"""Webhooks: signing, the SSRF guard, HTTP transport, the event registry and the delivery engine."""
