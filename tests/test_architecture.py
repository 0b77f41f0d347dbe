"""House rules that keep the architecture in shape."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "newsmon"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


# The stages in data order: a stage may import the ones before it, never one after it.
STAGES = ("core", "ingest", "articles", "stories", "tagging", "events", "analysts", "alerts",
           "operations", "pipeline")
TOP_LEVEL = {"__init__", "__main__", "cli"}  # entry points; everything else lives in a stage


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_imports(path: Path) -> set[str]:
    """newsmon modules imported by ``path``, lazily or not, except under ``if TYPE_CHECKING``
    (an annotation names a class, it does not load its stage)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
               and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"
               for n in ast.walk(node)}
    names: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names if a.name.startswith("newsmon"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("newsmon"):
            if node.module == "newsmon":
                names.update(f"newsmon.{a.name}" for a in node.names)
            else:
                names.update(f"{node.module}.{a.name}" if node.module.count(".") == 1 else node.module
                             for a in node.names)
    return {n for n in names if n == "newsmon" or n.startswith("newsmon.")}


def _stage(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in STAGES else None


def test_the_package_is_laid_out_by_stage() -> None:
    """Only the entry points sit at the top; every stage is a subpackage whose __init__ says what
    it owns and what it may import."""
    top = {p.stem for p in PACKAGE.glob("*.py")}
    assert top == TOP_LEVEL, f"modules outside a stage: {sorted(top - TOP_LEVEL)}"
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert folders == set(STAGES)
    for stage in STAGES:
        doc = ast.get_docstring(ast.parse((PACKAGE / stage / "__init__.py").read_text(encoding="utf-8")))
        assert doc and "May import" in doc, f"newsmon/{stage}/__init__.py must say what it may import"


def test_lower_stages_never_import_higher_ones() -> None:
    """ingest never imports articles' callers, tagging never imports alerts, ... (runtime imports,
    lazy ones included)."""
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        me = _stage(_module_name(path))
        if me is None:
            continue
        for name in _runtime_imports(path):
            other = _stage(name)
            if other is None or STAGES.index(other) > STAGES.index(me):
                offenders.append(f"{_module_name(path)} -> {name}")
    assert offenders == []


def test_the_rule_sees_an_upward_import(tmp_path: Path) -> None:
    """The rule above is not vacuous: a lazy import of a higher stage is found."""
    sample = tmp_path / "x.py"
    sample.write_text("def f():\n    from newsmon.alerts.outbox import replay\n", encoding="utf-8")
    assert _runtime_imports(sample) == {"newsmon.alerts.outbox"}
    assert STAGES.index(_stage("newsmon.alerts.outbox")) > STAGES.index("tagging")


def test_entry_points_call_the_pipeline_and_the_analyst_functions() -> None:
    """The CLI and the DAGs call the pipeline (and the analyst, alert and operations functions),
    never a stage's internals (ingest, articles, stories, tagging)."""
    internal = {"ingest", "articles", "stories", "tagging", "events"}
    offenders = []
    for path in [PACKAGE / "cli.py", *(ROOT / "dags").glob("*.py"), *(ROOT / "plugins").glob("*.py")]:
        for name in _runtime_imports(path):
            if _stage(name) in internal:
                offenders.append(f"{path.name} -> {name}")
    assert offenders == []


def test_package_never_imports_airflow() -> None:
    """The newsmon package is plain Python: no module imports airflow, even lazily."""
    offenders = [p.name for p in PACKAGE.rglob("*.py")
                 if any(n == "airflow" or n.startswith("airflow.") for n in _imports(p))]
    assert offenders == []


def test_importing_the_package_does_not_load_airflow() -> None:
    """Importing every module leaves airflow out of sys.modules."""
    modules = [_module_name(p) for p in PACKAGE.rglob("*.py") if p.stem not in ("__main__", "demo")]
    code = ("import sys, importlib\n" + "".join(f"importlib.import_module({m!r})\n" for m in modules)
            + "print(any(m == 'airflow' or m.startswith('airflow.') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_dag_files_are_thin() -> None:
    """DAG files are wiring: small, and they import newsmon only inside task bodies."""
    for path in (ROOT / "dags").glob("*.py"):
        assert path.stat().st_size < 12_000, f"{path.name} is over 12 KB: move logic into the package"
        tree = ast.parse(path.read_text(encoding="utf-8"))
        top_level = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
        modules = [n.module or "" for n in top_level if isinstance(n, ast.ImportFrom)]
        modules += [a.name for n in top_level if isinstance(n, ast.Import) for a in n.names]
        heavy = [m for m in modules if m.startswith("newsmon.")]
        assert heavy == [], f"{path.name} imports the package at module level"


def test_ruff_is_clean() -> None:
    """The code passes the project's ruff configuration."""
    ruff = Path(sys.executable).parent / "ruff"
    result = subprocess.run([str(ruff), "check", "src", "dags", "plugins", "tests"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
