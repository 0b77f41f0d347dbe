"""Whole-process import throughput: ``newsmon import`` against bare ``trafilatura.extract``, as a
user runs them, on the 181 real pages of the article-extraction-benchmark in ``../shared``.

The file set is generated into a temporary folder (never committed): every page as fetched,
and three copies of it with one sentence added at the start of the story (a ``<p>`` before the
page's first paragraph): 724 files. Then, for ``--runs`` rounds, alternating so that a burst of
other work on the machine slows all alike:

* **bare**: one process reading every file and calling ``trafilatura.extract(html, url=...)``
  with its defaults (``python -m benchmarks.bench_import --bare DIR``);
* **newsmon, 1 worker**: ``newsmon import --workers 1 --no-progress DIR`` into a new, migrated
  database (created and migrated before the timed process starts, dropped after);
* **newsmon, 2 workers**: the same with ``--workers 2``.

Each figure is the wall-clock time of the whole process (start-up imports included), and its
CPU time (user + system, from the kernel's accounting of the child). Reported: medians over the
rounds; the ratio newsmon (1 worker) / bare in pages per second (target >= 1.0: one worker per
core does at least what bare trafilatura does on one core); the speed-up of ``--workers 2`` over
one worker (target >= 1.7x); the stored-text token F1 against the gold bodies (``eval_extraction``'s
metric) of the text newsmon stored for each page and of bare trafilatura's output (target: no
lower); and the agreement of the language first pass (``articles.language``) with the reference
detection alone on the pages' stored texts and on the items of ``corpus/real-feed-items``
(target >= 99 % on the pages). PostgreSQL's own processes are not counted in the CPU times.

Exits 0 whatever the figures (a measurement, not a test). Run:
``python -m benchmarks.bench_import [--runs N] [--json]`` (``make bench``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from benchmarks.eval_extraction import CORPUS_DIR

ROOT = Path(__file__).resolve().parents[1]
ITEMS = CORPUS_DIR.parent / "real-feed-items" / "items.jsonl"
COPIES = 3
TARGET_RATIO = 1.0
TARGET_SPEEDUP = 1.7
TARGET_AGREEMENT = 0.99
_FIRST_P_RE = re.compile(rb"<p[\s>]", re.IGNORECASE)


def make_files(corpus: Path, folder: Path) -> dict[str, list[Path]]:
    """Write each page and its COPIES copies (one sentence added at the start of the story) into
    ``folder``; returns the files of each page, the original first."""
    from benchmarks.eval_extraction import load_pages

    files: dict[str, list[Path]] = {}
    for name, html in load_pages(corpus).items():
        original = folder / f"{name}.html"
        original.write_bytes(html)
        files[name] = [original]
        match = _FIRST_P_RE.search(html)
        at = match.start() if match else 0
        for number in range(1, COPIES + 1):
            sentence = f"<p>Copy {number}: this sentence was added at the start of the story.</p>".encode()
            copy = folder / f"{name}-copy{number}.html"
            copy.write_bytes(html[:at] + sentence + html[at:])
            files[name].append(copy)
    return files


def bare(folder: Path, out: Path) -> None:
    """The reference process: bare trafilatura on every file; its outputs saved for the F1."""
    import trafilatura

    outputs = {}
    for path in sorted(folder.iterdir()):
        outputs[path.name] = trafilatura.extract(path.read_bytes(), url=path.resolve().as_uri())
    out.write_text(json.dumps(outputs), encoding="utf-8")


def _timed(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """(wall, CPU) seconds of one whole child process; raises if it fails to run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=3600)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode not in (0, 1):  # 1: some files rejected (reported, not fatal)
        raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}): {result.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def _stored_texts(database_url: str) -> dict[str, str]:
    """The text stored for each imported file, by file name (from ``source_file``)."""
    from newsmon.core.db import connect

    conn = connect(database_url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT source_file, text FROM articles WHERE source_file IS NOT NULL")
            return {source.rsplit("/", 1)[-1]: text for source, text in cur.fetchall()}
    finally:
        conn.close()


def _page_f1(files: dict[str, list[Path]], texts: dict[str, str | None], gold: dict[str, str]) -> float:
    """Mean token F1 over the pages of the text kept for each page: the original file's, else
    (its copies merged into one article) the text stored from one of its copies."""
    from benchmarks.eval_extraction import token_scores

    scores = []
    for name, paths in files.items():
        text = next((texts[p.name] for p in paths if texts.get(p.name)), None)
        scores.append(token_scores(gold.get(name, ""), text).f1)
    return statistics.mean(scores)


def language_agreement(page_texts: list[str]) -> dict[str, Any]:
    """Agreement of ``detect_language`` (first pass) with the reference detection alone, and
    the time of each, on the pages' texts and on the real feed items (title and description)."""
    from newsmon.articles.language import detect_language

    sets: dict[str, list[str]] = {"pages": page_texts}
    if ITEMS.is_file():
        items = [json.loads(line) for line in ITEMS.read_text(encoding="utf-8").splitlines() if line.strip()]
        sets["feed items"] = [f"{i.get('title') or ''}\n{i.get('description') or ''}" for i in items]
        for lang in sorted({i.get("lang") for i in items if i.get("lang")}):
            sets[f"feed items ({lang})"] = [f"{i.get('title') or ''}\n{i.get('description') or ''}"
                                            for i in items if i.get("lang") == lang]
    result: dict[str, Any] = {}
    detect_language("warm up the profiles: this is an English sentence for the detector.")
    for label, texts in sets.items():
        started = time.perf_counter()
        reference = [detect_language(t, first_pass=False) for t in texts]
        middle = time.perf_counter()
        fast = [detect_language(t) for t in texts]
        finished = time.perf_counter()
        same = sum(a.language == b.language for a, b in zip(reference, fast, strict=True))
        result[label] = {"n": len(texts), "agree": same, "share": same / len(texts) if texts else 1.0,
                         "reference_ms": 1000 * (middle - started) / max(1, len(texts)),
                         "first_pass_ms": 1000 * (finished - middle) / max(1, len(texts))}
    return result


def run(corpus: Path, server_url: str, runs: int = 3, progress: bool = True) -> dict[str, Any]:
    """Generate the files, time bare / 1 worker / 2 workers ``runs`` times in turn; the figures."""
    from benchmarks.eval_extraction import load_gold
    from newsmon.operations.localdb import create_database, drop_database
    from newsmon.operations.migrate import migrate

    gold = load_gold(corpus)
    timings: dict[str, list[tuple[float, float]]] = {"bare": [], "workers1": [], "workers2": []}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="newsmon-bench-import-") as tmp:
        folder = Path(tmp) / "pages"
        folder.mkdir()
        files = make_files(corpus, folder)
        n_files = sum(len(paths) for paths in files.values())
        bare_out = Path(tmp) / "bare.json"
        stored: dict[str, str] = {}
        rows = 0
        for round_no in range(1, runs + 1):
            timings["bare"].append(_timed([sys.executable, "-m", "benchmarks.bench_import", "--bare",
                                           str(folder), "--out", str(bare_out)]))
            for workers in (1, 2):
                dbname = f"newsmon_bench_import_{uuid.uuid4().hex[:10]}"
                database_url = create_database(server_url, dbname)
                try:
                    migrate(database_url)
                    env = {**os.environ, "NEWSMON_DATABASE_URL": database_url}
                    timings[f"workers{workers}"].append(_timed(
                        [sys.executable, "-m", "newsmon", "import", "--no-progress",
                         "--workers", str(workers), str(folder)], env=env))
                    if round_no == 1 and workers == 1:
                        stored = _stored_texts(database_url)
                        rows = len(stored)
                finally:
                    drop_database(server_url, dbname)
            if progress:
                print(f"round {round_no}/{runs}: " + ", ".join(
                    f"{k} {v[-1][0]:.1f} s" for k, v in timings.items()), file=sys.stderr)
        bare_texts = json.loads(bare_out.read_text(encoding="utf-8"))
    load_after = os.getloadavg()

    def median(key: str, index: int) -> float:
        return statistics.median(t[index] for t in timings[key])

    pairwise = [b[0] / w[0] for b, w in zip(timings["bare"], timings["workers1"], strict=True)]
    speedups = [w1[0] / w2[0] for w1, w2 in zip(timings["workers1"], timings["workers2"], strict=True)]
    page_texts = [text for paths in files.values()  # the text stored for each page, from any of its files
                  if (text := next((stored[p.name] for p in paths if stored.get(p.name)), None))]
    return {
        "files": n_files, "pages": len(files), "runs": runs, "cpus": os.cpu_count(),
        "wall_s": {k: median(k, 0) for k in timings}, "cpu_s": {k: median(k, 1) for k in timings},
        "all_wall_s": {k: [round(t[0], 2) for t in v] for k, v in timings.items()},
        "pages_per_s": {k: n_files / median(k, 0) for k in timings},
        "ratio": median("bare", 0) / median("workers1", 0),
        "ratio_pairwise_median": statistics.median(pairwise),
        "cpu_ratio": median("bare", 1) / median("workers1", 1),
        "speedup_2_workers": median("workers1", 0) / median("workers2", 0),
        "speedup_pairwise_median": statistics.median(speedups),
        "f1_newsmon_stored": _page_f1(files, stored, gold),
        "f1_bare": _page_f1({k: v[:1] for k, v in files.items()}, bare_texts, gold),
        "rows_stored": rows,
        "language": language_agreement(page_texts),
        "loadavg_before": load_before, "loadavg_after": load_after,
    }


def format_report(r: dict[str, Any]) -> str:
    lines = [f"import throughput: {r['files']} files ({r['pages']} real pages + {COPIES} copies each), "
             f"whole processes, median of {r['runs']} alternating runs, {r['cpus']} CPUs",
             f"{'':34}{'wall s':>8}{'files/s':>9}{'CPU s':>8}   runs (wall s)"]
    labels = {"bare": "bare trafilatura.extract", "workers1": "newsmon import --workers 1",
              "workers2": "newsmon import --workers 2"}
    for key, label in labels.items():
        lines.append(f"{label:34}{r['wall_s'][key]:>8.2f}{r['pages_per_s'][key]:>9.1f}{r['cpu_s'][key]:>8.2f}"
                     f"   {', '.join(f'{t:.1f}' for t in r['all_wall_s'][key])}")
    ok = {True: "PASS", False: "FAIL"}
    f1_ok = r["f1_newsmon_stored"] >= r["f1_bare"] - 1e-9
    lines += [
        f"ratio newsmon (1 worker) / bare, files/s: {r['ratio']:.2f} (pairwise median "
        f"{r['ratio_pairwise_median']:.2f}; by CPU time {r['cpu_ratio']:.2f})   target >= {TARGET_RATIO}: "
        f"{ok[r['ratio'] >= TARGET_RATIO]}",
        f"--workers 2 speed-up over 1: {r['speedup_2_workers']:.2f}x (pairwise median "
        f"{r['speedup_pairwise_median']:.2f}x)   target >= {TARGET_SPEEDUP}x: "
        f"{ok[r['speedup_2_workers'] >= TARGET_SPEEDUP]}",
        f"token F1 vs gold ({r['pages']} pages): newsmon stored text {r['f1_newsmon_stored']:.4f}, bare "
        f"trafilatura {r['f1_bare']:.4f}   target newsmon >= bare: {ok[f1_ok]}",
        f"articles stored by one import: {r['rows_stored']}",
        "language first pass vs reference detection (langdetect alone, 1,000 characters, 7 trials):",
    ]
    for label, a in r["language"].items():
        lines.append(f"  {label:22} {a['agree']}/{a['n']} agree ({a['share']:.1%}); "
                     f"{a['first_pass_ms']:.2f} ms vs {a['reference_ms']:.2f} ms per text")
    pages = r["language"].get("pages", {"share": 1.0})
    lines.append(f"  target >= {TARGET_AGREEMENT:.0%} on the pages: {ok[pages['share'] >= TARGET_AGREEMENT]}")
    lines.append(f"load average before/after: {r['loadavg_before'][0]:.2f} / {r['loadavg_after'][0]:.2f} "
                 f"(above ~{r['cpus']}: other work competed for the CPUs; the ratios alternate runs)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_import",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="alternating rounds (%(default)s)")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")
    parser.add_argument("--corpus", type=Path, default=CORPUS_DIR, help="benchmark folder (%(default)s)")
    parser.add_argument("--bare", type=Path, help=argparse.SUPPRESS)  # the reference child process
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.bare:
        bare(args.bare, args.out)
        return 0
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if not (args.corpus / "html").is_dir():
        reason = f"{args.corpus} not found (../shared exists only beside developers' checkouts)"
        print(json.dumps({"skipped": reason}) if args.json else f"skipped: {reason}")
        return 0
    from benchmarks import server_or_none

    server_url = server_or_none()
    if server_url is None:
        return 2
    result = run(args.corpus, server_url, runs=args.runs, progress=not args.json)
    print(json.dumps(result, indent=2) if args.json else format_report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
