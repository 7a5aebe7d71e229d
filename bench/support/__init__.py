"""Shared pieces of the benchmarks that run the production process set (bench/scale.py): CPU accounting from /proc,
wrk runs with their figures read back as JSON, and server processes started and stopped around a measurement."""
