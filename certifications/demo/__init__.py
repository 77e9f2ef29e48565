"""The demo data set: a realistic, deterministic history of the program that a newcomer (or a benchmark) loads.

``layout`` decides which chains of renewals each mentor holds, ``chains`` draws
each chain's records, ``ids`` their unique ids, ``dataset`` turns them into rows
chunk by chunk and ``loader`` writes them into the database. Used by ``manage.py seed_demo`` and
by the benchmarks in the top-level ``benchmarks`` app.
"""
