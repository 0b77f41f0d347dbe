"""Stories stage: copies, rewrites and updates of one dispatch. MinHash fingerprints and the
"same dispatch" rule (``neardup``); its SQL (``store``): the dedup decision of every load,
versions, and story placement.

May import: ``newsmon.core``, ``newsmon.ingest``, ``newsmon.articles``.
"""
