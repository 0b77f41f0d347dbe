"""Sending messages: the only module that talks to notification channels.

A ``file`` channel appends one JSON line per message; an ``apprise`` channel sends through
Apprise (Slack, e-mail, Telegram, webhooks...) to a URL read from the environment. Apprise URLs
carry secrets: they are never logged nor put in an error message, only :func:`redact_url` forms.
Failures raise :class:`NotifyError`, ``transient`` when a later retry may succeed.

Attachments (:attr:`Message.attachments`, e.g. the HTML report of a digest):

- ``file``: each attachment is saved next to the target, in ``<target stem>-attachments/``, as
  ``<filename stem>-<first 8 hex digits of its SHA-256><suffix>`` (a resend of the same bytes
  rewrites the same file, different bytes never overwrite it), before the JSON line is appended;
  the line's ``attachments`` list gives each one's ``filename``, absolute ``path``, ``mimetype``,
  ``size`` (bytes) and ``sha256``. A message without attachments has ``"attachments": []``.
- ``apprise``: the attachments are written to a temporary directory under their ``filename`` and
  passed as real attachments (``apprise.AppriseAttachment``); the directory is deleted after the
  send. A ``json://`` webhook receives them base64-encoded in the body's ``attachments`` list
  (``filename``, ``base64``, ``mimetype``); e-mail gets MIME parts; services that cannot carry files
  get the message without them.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from newsmon.alerts.rules import PROJECT_ROOT, Attachment, ChannelConfig, Message, default_channel_env
from newsmon.core.errors import NewsmonError

log = logging.getLogger(__name__)
_UNSAFE_FILENAME_RE = re.compile(r"[^A-Za-z0-9._-]+")
_HOST_RE = re.compile(r"^(localhost|[0-9.]+|\[[0-9a-fA-F:.]+\]|[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+)$")


class NotifyError(NewsmonError):
    """A message could not be sent; ``transient`` tells whether a later retry may succeed."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


@dataclass(frozen=True)
class Channel:
    """A resolved channel: ``target`` is the Apprise URL (secret) or the file's absolute path."""

    name: str
    kind: str
    target: str

    def __repr__(self) -> str:  # never show a secret URL in logs or tracebacks
        shown = redact_url(self.target) if self.kind == "apprise" else self.target
        return f"Channel(name={self.name!r}, kind={self.kind!r}, target={shown!r})"


def resolve_channel(config: ChannelConfig, env: Mapping[str, str] | None = None) -> Channel:
    """Resolve a configured channel: read an apprise URL from its environment variable, make a
    file path absolute (relative to the project root)."""
    env = os.environ if env is None else env
    if config.kind == "apprise":
        var = config.env or default_channel_env(config.name)
        url = (env.get(var) or "").strip()
        if not url:
            raise NotifyError(f"channel {config.name}: set {var} to an Apprise URL "
                              f"(e.g. slack://..., mailto://..., tgram://..., json://host/path)",
                              transient=False)
        return Channel(config.name, config.kind, url)
    if config.kind == "file":
        if not config.target:
            raise NotifyError(f"channel {config.name}: kind file needs a target path", transient=False)
        path = Path(config.target).expanduser()
        return Channel(config.name, config.kind, str(path if path.is_absolute() else PROJECT_ROOT / path))
    raise NotifyError(f"channel {config.name}: unknown kind {config.kind!r}", transient=False)


def redact_url(url: str) -> str:
    """``url`` with its secrets hidden: user and password, path, query values and a host that is
    not a host name (Apprise puts tokens there: ``tgram://TOKEN/CHAT``) become ``***``."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return "<unparsable URL>"
    if not parts.scheme:
        return "***"
    try:
        port = parts.port
    except ValueError:  # tgram://123456:TOKEN/...: the "port" is part of a token
        return f"{parts.scheme}://***"
    host = parts.hostname or ""
    netloc = "***@" if (parts.username or parts.password) else ""
    if host:
        shown = f"[{host}]" if ":" in host else host
        netloc += shown if _HOST_RE.match(shown) else "***"
    if port is not None:
        netloc += f":{port}"
    path = "/***" if parts.path.strip("/") else ""
    query = "&".join(f"{k}=***" for k, _ in parse_qsl(parts.query, keep_blank_values=True))
    return f"{parts.scheme}://{netloc}{path}" + (f"?{query}" if query else "")


def _scrub(text: str, url: str) -> str:
    """``text`` (e.g. a log line) without ``url`` or its secret parts."""
    text = text.replace(url, redact_url(url))
    try:
        parts = urlsplit(url)
        secrets = [parts.username, parts.password, *parts.path.split("/"),
                   *(v for _, v in parse_qsl(parts.query))]
        if not _HOST_RE.match(parts.hostname or ""):
            secrets.append(parts.hostname)
    except ValueError:
        return text
    for secret in sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


class _Capture(logging.Handler):
    """Collects this thread's apprise warnings and errors: the reason a send failed."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.thread = threading.get_ident()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            try:
                self.lines.append(record.getMessage())
            except Exception:  # a malformed log call must not break sending
                self.lines.append(str(record.msg))


_listeners = {"count": 0, "level": logging.NOTSET}
_listeners_lock = threading.Lock()


def _listen(logger: logging.Logger, capture: _Capture, step: int) -> None:
    """Attach (+1) or detach (-1) ``capture``; while any is attached, apprise logs warnings."""
    with _listeners_lock:
        if step > 0:
            if _listeners["count"] == 0:
                _listeners["level"] = logger.level
                if logger.getEffectiveLevel() > logging.WARNING:
                    logger.setLevel(logging.WARNING)
            _listeners["count"] += 1
            logger.addHandler(capture)
        else:
            logger.removeHandler(capture)
            _listeners["count"] -= 1
            if _listeners["count"] == 0:
                logger.setLevel(_listeners["level"])


def safe_filename(name: str) -> str:
    """``name`` reduced to a plain file name (no directory; letters, digits, '.', '_', '-')."""
    cleaned = _UNSAFE_FILENAME_RE.sub("_", Path(name.replace("\\", "/")).name).lstrip(".")
    return cleaned[:150] or "attachment"


def _save_attachment(directory: Path, attachment: Attachment) -> dict[str, object]:
    """Write ``attachment`` into ``directory`` (atomically); returns its entry for the JSON line."""
    digest = hashlib.sha256(attachment.content).hexdigest()
    name = Path(safe_filename(attachment.filename))
    target = directory / f"{name.stem}-{digest[:8]}{name.suffix}"
    directory.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.part")
    try:
        partial.write_bytes(attachment.content)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return {"filename": attachment.filename, "path": str(target), "mimetype": attachment.mimetype,
            "size": len(attachment.content), "sha256": digest}


def _send_file(channel: Channel, message: Message) -> None:
    path = Path(channel.target)
    try:
        saved = [_save_attachment(path.parent / f"{path.stem}-attachments", attachment)
                 for attachment in message.attachments]
        line = json.dumps({"sent_at": datetime.datetime.now(datetime.UTC).isoformat(), "title": message.title,
                           "body": message.body, "payload": message.payload, "attachments": saved},
                          ensure_ascii=False, default=str)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
    except OSError as exc:
        permanent = isinstance(exc, PermissionError | IsADirectoryError | NotADirectoryError)
        raise NotifyError(f"channel {channel.name}: cannot append to {path}: {exc.strerror or exc}",
                          transient=not permanent) from None


def _apprise_attachments(channel: Channel, message: Message, folder: Path) -> object:
    """The message's attachments written into ``folder`` under their names, as an AppriseAttachment
    (deleted by the caller after the send)."""
    import apprise

    attach = apprise.AppriseAttachment()
    for index, attachment in enumerate(message.attachments):
        path = folder / safe_filename(attachment.filename)
        if path.exists():  # two attachments with one name: keep both
            path = folder / f"{index}-{path.name}"
        try:
            path.write_bytes(attachment.content)
        except OSError as exc:  # a full temporary disk may pass: transient
            raise NotifyError(f"channel {channel.name}: cannot write the attachment {path.name}: "
                              f"{exc.strerror or exc}", transient=True) from None
        if not attach.add(str(path)):
            raise NotifyError(f"channel {channel.name}: Apprise refused the attachment {path.name}",
                              transient=False)
    return attach


def _send_apprise(channel: Channel, message: Message, timeout: float) -> None:
    import apprise

    shown = redact_url(channel.target)
    logger = logging.getLogger("apprise")
    capture = _Capture()
    _listen(logger, capture, +1)
    try:
        # No async mode, no service deadline: the send runs in this thread, where the capture
        # listens; the socket timeouts below bound it.
        notifier = apprise.Apprise(asset=apprise.AppriseAsset(async_mode=False, service_timeout=0))
        if not notifier.add(channel.target):
            reason = "; ".join(capture.lines) or "Apprise does not recognise it"
            raise NotifyError(f"channel {channel.name}: invalid Apprise URL {shown}: "
                              f"{_scrub(reason, channel.target)}", transient=False)
        for plugin in notifier:
            for attribute in ("socket_connect_timeout", "socket_read_timeout"):
                if hasattr(plugin, attribute):
                    setattr(plugin, attribute, timeout)
        folder = None
        try:
            attach = None
            if message.attachments:
                try:
                    folder = Path(tempfile.mkdtemp(prefix="newsmon-attach-"))
                    attach = _apprise_attachments(channel, message, folder)
                except OSError as exc:
                    raise NotifyError(f"channel {channel.name}: cannot stage the attachments in a "
                                      f"temporary folder: {exc.strerror or exc}", transient=True) from None
            ok = notifier.notify(title=message.title, body=message.body, attach=attach)
        finally:
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)
    finally:
        _listen(logger, capture, -1)
    if not ok:
        reason = "; ".join(capture.lines) or "Apprise reported a failure without a reason"
        raise NotifyError(f"channel {channel.name}: sending to {shown} failed: "
                          f"{_scrub(reason, channel.target)}", transient=True)


def send(channel: Channel, message: Message, *, timeout: float = 10.0) -> None:
    """Send ``message`` to ``channel``; raise :class:`NotifyError` when it fails."""
    if channel.kind == "file":
        _send_file(channel, message)
    elif channel.kind == "apprise":
        _send_apprise(channel, message, timeout)
    else:
        raise NotifyError(f"channel {channel.name}: unknown kind {channel.kind!r}", transient=False)
    log.info("sent %r to channel %s (%s)", message.title, channel.name,
             redact_url(channel.target) if channel.kind == "apprise" else channel.target)
