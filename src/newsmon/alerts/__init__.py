"""Alerts: rules (YAML), the outbox of one alert per matching story, delivery through
notification channels, digests (with the analysts' HTML report attached).

May import: the pipeline stages and ``newsmon.analysts``.
"""
