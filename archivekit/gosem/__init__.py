"""Go semantics the server's behaviour depends on: ``encoding/json`` decoding, ``time.Time``
parsing, lowercasing, path joining and NFC keys, image headers as Go's decoders read them.

Lowest layer above the foundation (`archivekit.issues`, `archivekit.errors`): it imports nothing
else of archivekit.
"""
