"""Writing: atomic output files (and the archive writers built on them).

May import every layer below it (report, check, read, model, gosem, foundation); never
testing/ or the entry points.
"""
