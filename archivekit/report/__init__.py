"""Reports: what validation and inspection found, as data (``model``, ``inventory``), the adding
up of the engine's findings (``tally``), and the renderings (``render``: text, JSON, JSONL);
an archive as tables (``tables``, ``table_output``; counted by ``check.table_counts``) and
the reconciliation of an imported archive with an export of the destination
(``reconcile_read``, ``spool``, ``reconcile``, ``reconcile_output``).

May import check/ and the layers below it; never write/, testing/ or the entry points.
"""
