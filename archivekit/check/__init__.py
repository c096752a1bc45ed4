"""Checking: every rule the server applies to an archive, in the server's order.

``archive`` judges the archive as a whole (which JSONL, which members the server can read,
member names); the ``engine`` takes the reader's lines, opens each line's ``envelope``,
dispatches it to the per-type rules (``rules/``) and the checks of its files (``files``), keeps
the cross-line state (``references``; inside posts: ``post_refs``) and hands over what it finds
as plain data (``facts.Findings``: issues, facts, counts, post identities); ``parallel`` runs
engines in worker processes and yields their findings in order; ``limits`` simulates what the
archive needs from the target server (from the facts) and judges it against ``target``;
``files``, ``duplicates`` and ``verify`` check attachments and posts across the archive.
Nothing here prints or writes files. Imports the foundation, gosem, model and read — never
report/, write/, testing/ or the entry points.
"""
