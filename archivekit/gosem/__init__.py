"""Go semantics the server's behaviour depends on, one module per Go package it mirrors.

``decode`` (``encoding/json`` into the import structs, walking the plain-data ``decode_spec``
that ``spec`` links), ``marshal`` (the length of ``json.Marshal`` output), ``strings``
(``strings.ToLower``, ``strings.Fields``, JSON key folding, byte and rune lengths),
``gotime`` (``time.Parse`` RFC 3339), ``paths`` (``path.Join`` under data/, NFC keys),
``images`` (``image.DecodeConfig`` headers, ``mime`` image extensions), ``archive``
(``archive/zip``: which members the server can read).

Lowest layer above the foundation (`archivekit.issues`, `archivekit.errors`): it imports nothing
else of archivekit (a test walks the imports).
"""
