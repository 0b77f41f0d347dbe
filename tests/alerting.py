"""Alert configurations for tests: a file channel in the test's folder and a webhook channel whose
Apprise URL comes from ``NEWSMON_TEST_HOOK`` (a :class:`tests.webhook.WebhookReceiver`)."""

from __future__ import annotations

from pathlib import Path

from newsmon.alerts.rules import AlertConfig, load_alert_config


def alert_config(tmp_path: Path, rules: str, hook: str | None = None) -> tuple[AlertConfig, dict[str, str]]:
    """Write ``alerts.yml`` with channels ``file`` and ``hook`` and these ``rules`` (YAML list
    items, indented two spaces); returns the parsed config and the environment for ``hook``."""
    text = f"""channels:
  - name: file
    kind: file
    target: {tmp_path / 'alerts.jsonl'}
  - name: hook
    kind: apprise
    env: NEWSMON_TEST_HOOK
rules:
{rules}"""
    path = tmp_path / "alerts.yml"
    path.write_text(text)
    return load_alert_config(path), ({"NEWSMON_TEST_HOOK": hook} if hook else {})
