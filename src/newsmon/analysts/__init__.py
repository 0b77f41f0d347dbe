"""Analysts: reading what the pipeline stored. Full-text search, export, run and topic reports,
the HTML report.

May import: the pipeline stages (``core`` up to ``tagging``); never alerts or operations.
"""
