"""Events stage: the same happening, reported by many sources in many words and languages, as
one event above its stories. Language-independent evidence per story (``evidence``: entity ids,
topic-term concepts, numbers, dates, proper names), the online assignment of stories to events
with the reasons of every link and the later splits (``cluster``), and its SQL (``store``):
events, their members, the candidate index (key x day) and the split log.

May import: the stages below it (``core``, ``ingest``, ``articles``, ``stories``, ``tagging``).
"""
