"""Shared ground of every stage: settings and feed configuration (``config``), errors, PostgreSQL
connections and transactions (``db``), time parsing and text helpers.

May import: nothing else of newsmon.
"""
