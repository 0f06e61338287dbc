"""The install lists every package directory, so a new subpackage cannot be left out of a wheel."""
from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _declared() -> tuple[set[str], dict[str, str]]:
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    return set(cfg["packages"]), cfg["package-dir"]


def test_every_package_directory_is_declared():
    packages, package_dir = _declared()
    found = set()
    for name, folder in package_dir.items():
        base = ROOT / folder
        for init in base.rglob("__init__.py"):
            rel = init.parent.relative_to(base)
            found.add(".".join([name, *rel.parts]))
    missing = found - packages
    assert not missing, f"add to [tool.setuptools] packages in pyproject.toml: {sorted(missing)}"


def test_every_declared_package_exists():
    packages, package_dir = _declared()
    for pkg in packages:
        root = max((n for n in package_dir if pkg == n or pkg.startswith(n + ".")), key=len)
        rest = pkg[len(root):].lstrip(".").split(".") if pkg != root else []
        folder = ROOT / package_dir[root] / Path(*rest) if rest else ROOT / package_dir[root]
        assert (folder / "__init__.py").is_file(), f"{pkg} declared but {folder} has no __init__.py"
