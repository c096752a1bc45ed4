"""Writing: atomic output files (and the archive writers built on them)."""
