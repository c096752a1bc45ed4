"""Reports: what validation and inspection found, as data, and its renderings (text, JSON,
JSONL)."""
