"""Articles stage: from bytes to an article. Text extraction (trafilatura), language
identification (langdetect), exact-duplicate hashing, local documents (file imports); its SQL
(``store``): the article row and look-ups by URL.

May import: ``newsmon.core``, ``newsmon.ingest``.
"""
