"""Reports: what validation and inspection found, as data (``model``, ``inventory``), the adding
up of the engine's findings (``tally``), and the renderings (``render``: text, JSON, JSONL).

May import check/ and the layers below it; never write/, testing/ or the entry points.
"""
