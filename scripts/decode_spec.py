"""Regenerate archivekit/gosem/decode_spec.py from the models (`make schemas` runs this)."""

from archivekit.model.spec import DECODE_SPEC_MODULE, decode_spec_source
from archivekit.write.atomic import write_atomic

if __name__ == "__main__":
    write_atomic(DECODE_SPEC_MODULE, decode_spec_source().encode("utf-8"))
    print(DECODE_SPEC_MODULE)
