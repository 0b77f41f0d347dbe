"""Sending: file channels write JSON lines, Apprise channels post to a recording webhook on
127.0.0.1; failures are NotifyErrors (transient or not) that never show a secret URL."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import tempfile
from pathlib import Path

import pytest

from newsmon.alerts.notify import Channel, NotifyError, redact_url, resolve_channel, safe_filename, send
from newsmon.alerts.rules import PROJECT_ROOT, Attachment, ChannelConfig, Message
from tests.webhook import WebhookReceiver

MESSAGE = Message(title="[nato_russia] NATO warns Russia", body="NATO warns Russia\nLink: https://news.example/1",
                  payload={"rule": "r", "story_ids": [1], "headline": "NATO warns Russia", "score": 0.7})
SECRET = "s3cr3tT0ken"


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Requests to the local receiver must not go through a developer's proxy."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


def test_file_channel_appends_json_lines(tmp_path: Path) -> None:
    """Each send appends one JSON object (sent_at, title, body, payload); parent dirs are created."""
    path = tmp_path / "deep" / "dir" / "alerts.jsonl"
    channel = Channel("demo_file", "file", str(path))
    send(channel, MESSAGE)
    send(channel, Message("second", "body 2 — é", {"n": 2}))
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [(r["title"], r["body"], r["payload"]) for r in lines] == [
        (MESSAGE.title, MESSAGE.body, MESSAGE.payload), ("second", "body 2 — é", {"n": 2})]
    assert all(r["sent_at"].endswith("+00:00") for r in lines)


def test_file_channel_unwritable_is_permanent(tmp_path: Path) -> None:
    """A target that is a directory cannot be written: a permanent NotifyError naming the channel."""
    with pytest.raises(NotifyError, match="channel demo_file") as caught:
        send(Channel("demo_file", "file", str(tmp_path)), MESSAGE)
    assert caught.value.transient is False


@pytest.mark.parametrize(("config", "env", "expected"), [
    (ChannelConfig("ops", "apprise", None, "OPS_URL"), {"OPS_URL": " json://h/p "},
     Channel("ops", "apprise", "json://h/p")),
    (ChannelConfig("team.slack", "apprise", None, None), {"NEWSMON_CHANNEL_TEAM_SLACK": "slack://a/b/c"},
     Channel("team.slack", "apprise", "slack://a/b/c")),
    (ChannelConfig("f", "file", ".local/alerts/a.jsonl", None), {},
     Channel("f", "file", str(PROJECT_ROOT / ".local/alerts/a.jsonl"))),
    (ChannelConfig("f", "file", "/var/tmp/a.jsonl", None), {}, Channel("f", "file", "/var/tmp/a.jsonl")),
])
def test_resolve_channel(config: ChannelConfig, env: dict[str, str], expected: Channel) -> None:
    """Apprise URLs come from the environment; relative file paths from the project root."""
    assert resolve_channel(config, env) == expected


@pytest.mark.parametrize("value", [None, "", "   "])
def test_unset_env_var_is_a_permanent_error_naming_it(value: str | None) -> None:
    """An apprise channel whose variable is unset or empty: permanent, naming the variable."""
    env = {} if value is None else {"NEWSMON_CHANNEL_OPS": value}
    with pytest.raises(NotifyError, match="channel ops: set NEWSMON_CHANNEL_OPS to an Apprise URL") as caught:
        resolve_channel(ChannelConfig("ops", "apprise", None, "NEWSMON_CHANNEL_OPS"), env)
    assert caught.value.transient is False


def test_apprise_json_webhook_receives_title_and_body() -> None:
    """Apprise's json:// posts the title and body to the receiver."""
    with WebhookReceiver() as hook:
        channel = resolve_channel(ChannelConfig("ops", "apprise", None, None),
                                  {"NEWSMON_CHANNEL_OPS": hook.apprise_url(f"/hooks/{SECRET}")})
        send(channel, MESSAGE, timeout=5)
        [request] = hook.wait_for(1)
    assert request.method == "POST" and request.path == f"/hooks/{SECRET}"
    assert request.headers["Content-Type"] == "application/json"
    assert request.body["title"] == MESSAGE.title and request.body["message"] == MESSAGE.body


def test_receiver_error_is_transient_with_reason_and_no_secret(caplog: pytest.LogCaptureFixture) -> None:
    """A 500 answer: transient NotifyError carrying Apprise's reason, without the URL's secret;
    once the receiver answers 200 again the same channel works."""
    caplog.set_level(logging.DEBUG)
    with WebhookReceiver() as hook:
        channel = Channel("ops", "apprise", hook.apprise_url(f"/hooks/{SECRET}"))
        hook.fail_next(1, status=500)
        with pytest.raises(NotifyError) as caught:
            send(channel, MESSAGE, timeout=5)
        hook.always_ok()
        send(channel, MESSAGE, timeout=5)
        assert [r.status for r in hook.wait_for(2)] == [500, 200]
    error = caught.value
    assert error.transient is True
    assert "channel ops" in str(error) and "500" in str(error)
    assert SECRET not in str(error) and SECRET not in repr(channel)
    assert SECRET not in "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("newsmon"))


def test_receiver_always_failing() -> None:
    """A receiver told to answer 503 always fails every send, transiently."""
    with WebhookReceiver(status=503) as hook:
        channel = Channel("ops", "apprise", hook.apprise_url())
        for _ in range(2):
            with pytest.raises(NotifyError) as caught:
                send(channel, MESSAGE, timeout=5)
            assert caught.value.transient is True
        assert len(hook.requests) == 2


def test_unreachable_receiver_is_transient() -> None:
    """Nobody listening: a transient NotifyError."""
    with WebhookReceiver() as hook:
        url = hook.apprise_url(f"/x/{SECRET}")
    with pytest.raises(NotifyError, match=r"channel ops: sending to json://127\.0\.0\.1") as caught:
        send(Channel("ops", "apprise", url), MESSAGE, timeout=2)
    assert caught.value.transient is True and SECRET not in str(caught.value)


def test_invalid_apprise_url_is_permanent() -> None:
    """A URL Apprise does not accept: permanent NotifyError, the secret hidden."""
    with pytest.raises(NotifyError, match="invalid Apprise URL") as caught:
        send(Channel("ops", "apprise", f"nosuchscheme://{SECRET}/x"), MESSAGE)
    assert caught.value.transient is False and SECRET not in str(caught.value)


@pytest.mark.parametrize(("url", "shown"), [
    ("json://127.0.0.1:8080/hooks/abc123", "json://127.0.0.1:8080/***"),
    ("mailto://alice:hunter22@gmail.com?to=bob@example.com", "mailto://***@gmail.com?to=***"),
    ("slack://T1ABC/B2DEF/xoxbTOKEN/#general", "slack://***/***"),
    ("tgram://123456789:AAHtokenPart/987654", "tgram://***"),
    ("discord://webhook_id/webhook_token", "discord://***/***"),
    ("https://hooks.slack.com/services/T/B/X", "https://hooks.slack.com/***"),
    ("json://localhost", "json://localhost"),
    ("not a url", "***"),
])
def test_redact_url_hides_secrets(url: str, shown: str) -> None:
    """Passwords, tokens in host, path and query are hidden; scheme and real host names stay."""
    assert redact_url(url) == shown


HTML = "<!DOCTYPE html><html><body><h1>Rapport — OTAN</h1><svg></svg></body></html>\n".encode()
WITH_REPORT = Message(title="[nato_russia] digest: 1 story", body="Digest", payload={"kind": "digest"},
                      attachments=(Attachment("newsmon-report-r-2026-11-24.html", HTML, "text/html"),))


def test_file_channel_saves_attachments_next_to_the_target(tmp_path: Path) -> None:
    """The HTML is saved in <stem>-attachments/ under a name with its hash; the JSON line lists it
    (path, size, sha256); a resend rewrites the same file; no attachment gives an empty list."""
    path = tmp_path / "alerts.jsonl"
    channel = Channel("demo_file", "file", str(path))
    send(channel, WITH_REPORT)
    send(channel, WITH_REPORT)
    send(channel, MESSAGE)
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    digest = hashlib.sha256(HTML).hexdigest()
    saved = tmp_path / "alerts-attachments" / f"newsmon-report-r-2026-11-24-{digest[:8]}.html"
    assert lines[0]["attachments"] == lines[1]["attachments"] == [{
        "filename": "newsmon-report-r-2026-11-24.html", "path": str(saved), "mimetype": "text/html",
        "size": len(HTML), "sha256": digest}]
    assert saved.read_bytes() == HTML
    assert [p.name for p in saved.parent.iterdir()] == [saved.name]
    assert lines[2]["attachments"] == []


def test_apprise_json_webhook_receives_the_attachment(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """json:// carries the attachment base64-encoded with its file name and MIME type; the
    temporary copy is deleted after the send."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with WebhookReceiver() as hook:
        send(Channel("ops", "apprise", hook.apprise_url()), WITH_REPORT, timeout=5)
        [request] = hook.wait_for(1)
    [attachment] = request.body["attachments"]
    assert attachment["filename"] == "newsmon-report-r-2026-11-24.html"
    assert attachment["mimetype"] == "text/html"
    assert base64.b64decode(attachment["base64"]) == HTML
    assert request.body["title"] == WITH_REPORT.title
    assert list(tmp_path.iterdir()) == []


def test_attachment_staging_failure_is_a_transient_notify_error(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """No room for the temporary copy (here: the temporary folder is gone) is a NotifyError the
    outbox retries, not an OSError escaping the delivery loop; nothing reaches the webhook."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "gone"))
    with WebhookReceiver() as hook:
        with pytest.raises(NotifyError, match="cannot stage the attachments") as info:
            send(Channel("ops", "apprise", hook.apprise_url()), WITH_REPORT, timeout=5)
        assert info.value.transient
        assert hook.requests == []


@pytest.mark.parametrize(("name", "safe"), [
    ("newsmon-report-r-2026-11-24.html", "newsmon-report-r-2026-11-24.html"),
    ("../../etc/passwd", "passwd"), ("a b/c d.html", "c_d.html"), ("..", "attachment"),
    ("C:\\dir\\x.html", "x.html"),
])
def test_safe_filename(name: str, safe: str) -> None:
    """Attachment names never carry a directory or odd characters."""
    assert safe_filename(name) == safe
