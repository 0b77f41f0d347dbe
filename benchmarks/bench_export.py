"""Export throughput and memory: 1 million generated rows to /dev/null as CSV and JSON Lines.

Creates a fresh PostgreSQL database (migrated, dropped at the end), then runs ``export`` of a
generate_series query (an articles-like row: id, url, title, language, timestamp, JSONB) in a
child process per format and reports rows/s and the child's peak RSS (target: flat, a few MB
above the interpreter's baseline, whatever the row count).

    python -m benchmarks.bench_export [--rows 1000000] [--json]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import time
import uuid

QUERY = """SELECT g AS id, 'https://synthetic.invalid/' || g AS url,
       'Synthetic title ' || md5(g::text) AS title,
       (ARRAY['fr', 'en', 'de'])[1 + g % 3] AS language,
       timestamptz '2026-01-01' + g * interval '1 second' AS published_at,
       jsonb_build_object('n', g, 'tags', jsonb_build_array('a', 'b')) AS meta
FROM generate_series(1, {rows}) g"""


def _peak_kib() -> int:
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    except OSError:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _child(dsn: str, fmt: str, rows: int, queue) -> None:
    from newsmon.analysts.export import export

    baseline = _peak_kib()
    started = time.perf_counter()
    with open("/dev/null", "w") as out:
        count = export(dsn, QUERY.format(rows=rows), fmt, out)
    queue.put({"format": fmt, "rows": count, "seconds": time.perf_counter() - started,
               "baseline_mb": baseline / 1024, "peak_mb": _peak_kib() / 1024})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    from newsmon.operations.localdb import create_database, drop_database, find_server
    from newsmon.operations.migrate import migrate

    server = find_server()
    name = f"newsmon_bench_{uuid.uuid4().hex[:10]}"
    dsn = create_database(server, name)
    results = []
    try:
        migrate(dsn)
        context = multiprocessing.get_context("spawn")  # a fresh interpreter: its own peak RSS
        for fmt in ("csv", "jsonl"):
            queue = context.Queue()
            child = context.Process(target=_child, args=(dsn, fmt, args.rows, queue))
            child.start()
            child.join()
            if child.exitcode != 0:
                raise RuntimeError(f"the {fmt} export failed (exit {child.exitcode})")
            result = queue.get(timeout=10)
            result["rows_per_s"] = result["rows"] / result["seconds"]
            results.append(result)
    finally:
        drop_database(server, name)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for r in results:
            print(f"{r['format']:5}  {r['rows']:>9,} rows in {r['seconds']:6.1f} s  "
                  f"{r['rows_per_s']:>9,.0f} rows/s  "
                  f"peak RSS {r['peak_mb']:.1f} MB (baseline {r['baseline_mb']:.1f} MB, "
                  f"+{r['peak_mb'] - r['baseline_mb']:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
