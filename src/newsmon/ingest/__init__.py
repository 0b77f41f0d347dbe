"""Ingest stage: getting items in. Feed formats (RSS/Atom via feedparser, JSON Feed, agency
NewsML), format sniffing, HTTP downloads with the SSRF guard and politeness, robots.txt, URL
canonicalization, feed health; its SQL (``store``): sources and feed entries, the work queue.

May import: ``newsmon.core``.
"""
