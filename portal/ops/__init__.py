"""Operations: liveness (/healthz), readiness (/readyz), Prometheus metrics (/metrics) and the beat heartbeat."""
