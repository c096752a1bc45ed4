"""A pipe holding given bytes, for tests of reading archives from a stream in-process."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator


@contextlib.contextmanager
def fed(data: bytes) -> Iterator[str]:
    """A pipe that yields `data` then ends, as a path (``/dev/fd/N``: a stream for
    `archivekit.read.source.is_stream`); a thread feeds it, whatever the pipe's capacity."""
    read, write = os.pipe()

    def feed() -> None:
        with contextlib.suppress(BrokenPipeError), os.fdopen(write, "wb") as out:
            out.write(data)

    feeder = threading.Thread(target=feed, name="pipe feeder", daemon=True)
    feeder.start()
    try:
        yield f"/dev/fd/{read}"
    finally:
        os.close(read)
        feeder.join()
