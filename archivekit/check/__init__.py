"""Checking: every rule the server applies to an archive, in the server's order.

The engine takes the reader's lines, dispatches them to the per-type rules (``rules/``), keeps
the cross-line state (references, duplicates, files) and turns what it sees into issues and
facts; ``limits`` compares the facts with the target server's configuration. Nothing here
prints or writes files.
"""
