"""The ``newsmon`` command line: every pipeline stage without Airflow."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from newsmon.core.errors import NewsmonError
from newsmon.core.timeparse import since_argument

if TYPE_CHECKING:
    from newsmon.core.config import Settings


def _settings(args: argparse.Namespace) -> Settings:
    from newsmon.core.config import Settings

    return Settings.from_env(database_url=getattr(args, "database_url", None),
                             feeds_file=getattr(args, "feeds", None))


def cmd_migrate(args: argparse.Namespace) -> int:
    from newsmon.operations.migrate import migrate, status

    settings = _settings(args)
    if args.status:
        for version, name, applied in status(settings.database_url):
            print(f"{version}  {'applied' if applied else 'pending'}  {name}")
        return 0
    applied = migrate(settings.database_url)
    print(f"applied {len(applied)} migration(s): {', '.join(applied)}" if applied
          else "database schema is up to date")
    return 0


def cmd_ingest(args: argparse.Namespace) -> int:
    from newsmon.pipeline.tasks import ingest_once

    counts = ingest_once(_settings(args), force=args.all)
    print(json.dumps(counts, indent=2))
    return 0


def cmd_analyze(args: argparse.Namespace) -> int:
    from newsmon.core.config import Settings
    from newsmon.pipeline.analyze import analyze_paths

    ner = Settings.from_env().ner == "auto"
    failures = 0
    for record in analyze_paths(args.files, ner=ner):
        failures += "error" in record
        if args.json:
            print(json.dumps(record, ensure_ascii=False, default=str))
        elif "error" in record:
            print(f"{record['path']}: ERROR {record['error']}")
        else:
            matched = [name for name, t in record["topics"].items() if t["matched"]]
            print(f"{record['path']}: {record['language']} ({record['language_probability']}) "
                  f"{record['text_length']} chars, published {record['published'] or '?'}: "
                  f"{record['title'] or '(no title)'}")
            print(f"    entities: {', '.join(e['name'] for e in record['entities'][:8]) or '-'}; "
                  f"topics: {', '.join(matched) or '-'}")
    if failures:
        print(f"{failures} file(s) could not be analyzed", file=sys.stderr)
    return 1 if failures else 0


def cmd_import(args: argparse.Namespace) -> int:
    from newsmon.analysts.reports import format_table
    from newsmon.pipeline.importer import import_paths

    report = import_paths(_settings(args), args.paths, progress=not args.no_progress, since=args.since,
                          until=args.until, workers=args.workers)
    if report.by_kind:
        rows = [(kind, files, report.articles_by_kind.get(kind, 0))
                for kind, files in sorted(report.by_kind.items())]
        print(format_table(["kind", "files", "articles read"], rows))
    for path, reason in report.rejected:
        print(f"rejected {path}: {reason}", file=sys.stderr)
    window = f", {report.outside_window} outside --since/--until" if args.since or args.until else ""
    print(f"{report.files} file(s): {report.articles_new} new article(s), {report.articles_updated} "
          f"updated, {report.duplicates} already stored, {len(report.rejected)} rejected{window}")
    return 1 if report.rejected else 0


def cmd_feeds(args: argparse.Namespace) -> int:
    from newsmon.analysts.reports import print_feed_health

    print_feed_health(_settings(args).database_url)
    return 0


def cmd_summary(args: argparse.Namespace) -> int:
    from newsmon.analysts.reports import print_run_summary

    print_run_summary(_settings(args).database_url, dag_id=args.dag_id, newest=args.newest)
    return 0


def cmd_events(args: argparse.Namespace) -> int:
    from newsmon.analysts.events import print_events

    print_events(_settings(args).database_url, since=args.since, topic=args.topic, language=args.lang,
                 limit=args.limit)
    return 0


def cmd_stories(args: argparse.Namespace) -> int:
    from newsmon.analysts.reports import print_stories

    print_stories(_settings(args).database_url, since=args.since, limit=args.limit,
                  min_size=args.min_size, topic=args.topic)
    return 0


def cmd_alerts(args: argparse.Namespace) -> int:
    from newsmon.alerts.rules import load_alert_config

    settings = _settings(args)
    if args.action == "test":
        from newsmon.alerts.notify import resolve_channel, send
        from newsmon.alerts.rules import Message

        config = load_alert_config()
        if args.target not in config.channels:
            print(f"newsmon: unknown channel {args.target!r}; configured: {sorted(config.channels)}",
                  file=sys.stderr)
            return 2
        send(resolve_channel(config.channels[args.target]),
             Message(title="newsmon test message", body=f"Channel {args.target} works.",
                     payload={"test": True}))
        print(f"test message sent to {args.target}")
        return 0
    if args.action == "replay":
        from newsmon.alerts.outbox import replay

        if args.target is None or not args.target.isdigit():
            print("newsmon: alerts replay needs an alert id (see newsmon alerts list)", file=sys.stderr)
            return 2
        count = replay(settings, int(args.target))
        if not count:
            print(f"newsmon: alert {args.target} has no delivery to replay", file=sys.stderr)
            return 1
        print(f"alert {args.target}: {count} delivery(ies) queued again; the next news_alerts run sends "
              "them (or run: newsmon alerts deliver)")
        return 0
    if args.action == "deliver":
        from newsmon.alerts.outbox import build_digests, deliver_due, enqueue_alerts

        config = load_alert_config()
        recorded = enqueue_alerts(settings, config)
        digests = build_digests(settings, config)
        print(json.dumps({"alerts_recorded": recorded, "digests": digests,
                          **deliver_due(settings, config)}))
        return 0
    from newsmon.analysts.reports import print_alerts

    print_alerts(settings.database_url, limit=args.limit)
    return 0


def cmd_serve_samples(args: argparse.Namespace) -> int:
    import time

    from newsmon.operations.samplesite import SampleSite

    with SampleSite(port=args.port) as site:
        print(f"serving samples/site at {site.base_url} (Ctrl-C to stop)", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {number}")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsmon", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress (INFO)")
    parser.add_argument("--database-url", help="overrides NEWSMON_DATABASE_URL")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("migrate", help="apply pending SQL migrations from sql/")
    p.add_argument("--status", action="store_true", help="list migrations and whether applied")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("ingest", help="run the whole ingest pipeline once, without Airflow")
    p.add_argument("--feeds", help="feeds YAML file (overrides NEWSMON_FEEDS_FILE)")
    p.add_argument("--all", action="store_true", help="poll every enabled feed, even those not due yet")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("analyze", help="analyze local HTML/text files (no database needed)")
    p.add_argument("files", nargs="+", help="files or folders")
    p.add_argument("--json", action="store_true", help="one JSON object per file, one per line")
    p.set_defaults(func=cmd_analyze)

    p = sub.add_parser("import", help="load local HTML/text files or folders into the database")
    p.add_argument("paths", nargs="+")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--since", type=since_argument,
                   help="backfill window: only articles published from this date")
    p.add_argument("--until", type=since_argument,
                   help="backfill window: only articles published before this date")
    p.add_argument("--workers", type=_positive_int, default=None, metavar="N",
                   help="processes reading and extracting files (default: one per core); the "
                        "database ends the same whatever N")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("feeds", help="feed health at a glance")
    p.set_defaults(func=cmd_feeds)

    p = sub.add_parser("summary", help="the last run's counts and the newest articles")
    p.add_argument("--dag-id", default=None, help="only runs of this DAG")
    p.add_argument("--newest", type=int, default=10, help="how many newest articles to list")
    p.set_defaults(func=cmd_summary)

    p = sub.add_parser("events", help="events: the same happening across outlets and languages")
    p.add_argument("--since", type=since_argument,
                   help="only events last seen since: YYYY-MM-DD, an ISO time, or a duration like 24h, 7d")
    p.add_argument("--topic", help="only events with a story matching this topic")
    p.add_argument("--lang", help="only events covered in this language (e.g. fr)")
    p.add_argument("--limit", type=_positive_int, default=50, help="at most this many events (default 50)")
    p.set_defaults(func=cmd_events)

    p = sub.add_parser("stories", help="stories (deduplicated dispatches) with their sizes")
    p.add_argument("--since", type=since_argument, default=None,
                   help="only stories last seen since: YYYY-MM-DD, an ISO time, or a duration like 24h, 7d")
    p.add_argument("--topic", help="only stories matching this topic")
    p.add_argument("--min-size", type=int, default=1, help="only stories with at least this many articles")
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(func=cmd_stories)

    p = sub.add_parser("alerts", help="alerts: list | replay ID | test CHANNEL | deliver")
    p.add_argument("action", choices=["list", "replay", "test", "deliver"])
    p.add_argument("target", nargs="?", help="alert id (replay) or channel name (test)")
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(func=cmd_alerts)

    # analyst commands, each registered by its own module
    from newsmon.analysts import export, htmlreport, search
    from newsmon.operations import schemadoc

    for module in (search, export, htmlreport, schemadoc):
        module.register(sub)

    p = sub.add_parser("serve-samples", help="serve the bundled demo site over HTTP on 127.0.0.1")
    p.add_argument("--port", type=int, default=8765)
    p.set_defaults(func=cmd_serve_samples)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except NewsmonError as exc:
        print(f"newsmon: error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        import psycopg2

        if isinstance(exc, psycopg2.Error):
            print(f"newsmon: database error: {str(exc).strip()}", file=sys.stderr)
            return 3
        raise


if __name__ == "__main__":
    sys.exit(main())
