"""Tagging stage: entities from the gazetteer (and optional NER), key phrases, topic terms and
topic scores with the evidence (``why``); its SQL (``store``): entity catalogue and tags.

May import: the stages below it (``core``, ``ingest``, ``articles``, ``stories``).
"""
