"""Operations reports: weekly reconciliation, provider productivity and the compensation
calculator, payer mix, revenue by procedure code and agent performance.

Each module answers plain dataclasses for the pages and the API, and a
:class:`revcycle.adapters.report_export.ReportTable` for the downloads; every figure is
grouped in SQL (no per-claim loop over the practice). The ledger definitions they share
(what counts as charges and collections, which payer a service belongs to) are in
:mod:`.basis`.
"""
