"""Operations: database migrations (``sql/``), the local throwaway PostgreSQL cluster,
maintenance (retention, vacuum), schema documentation, the sample site and the demo.

May import: everything below ``newsmon.pipeline``.
"""
