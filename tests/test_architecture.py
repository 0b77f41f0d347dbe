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


def test_package_never_imports_airflow() -> None:
    """The newsmon package is plain Python: no module imports airflow, even lazily."""
    offenders = [p.name for p in PACKAGE.rglob("*.py")
                 if any(n == "airflow" or n.startswith("airflow.") for n in _imports(p))]
    assert offenders == []


def test_importing_the_package_does_not_load_airflow() -> None:
    """Importing every module leaves airflow out of sys.modules."""
    modules = [f"newsmon.{p.stem}" for p in PACKAGE.glob("*.py") if p.stem not in ("__main__", "demo")]
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
