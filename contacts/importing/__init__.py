"""The import engine: readers, safety, column mapping, the engine and its targets (see engine.py)."""
