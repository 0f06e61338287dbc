"""The repository documents itself: every document the code cites exists, with the cited section."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CODE = [p for d in ("benchmark", "tasks", "benchmarks") for p in (ROOT / d).rglob("*") if p.suffix in (".py", ".sh", ".csv")]
CITATION = re.compile(r"docs/([\w-]+\.md)(?: (§[\d.]+(?:-[\d.]+)?(?:, §[\d.]+)?))?")


def sections(doc: Path) -> set[str]:
    """The numbers of a document's numbered headings ("## 2." -> "2", "### 2.5 ..." -> "2.5")."""
    return {m.group(1) for m in re.finditer(r"^#{2,4} (\d+(?:\.\d+)*)\.? ", doc.read_text(), re.M)}


def test_every_cited_document_and_section_exists():
    cited = 0
    for path in CODE:
        for m in CITATION.finditer(path.read_text()):
            doc = ROOT / "docs" / m.group(1)
            assert doc.exists(), f"{path.relative_to(ROOT)} cites {m.group(0)}, which is not in docs/"
            for ref in re.findall(r"§([\d.]+(?:-[\d.]+)?)", m.group(2) or ""):
                for number in ref.split("-"):
                    assert number in sections(doc), f"{path.relative_to(ROOT)} cites {m.group(0)}: no section {number}"
            cited += 1
    assert cited >= 20  # the generators, metrics, methods and bound all point at their protocol facts


def test_code_cites_nothing_outside_the_repository():
    outside = re.compile(r"specs/(?:pdebench|methods|nasbench360)\.md|\.\./shared|(?<![\w/])methods\.md §")
    offenders = [f"{p.relative_to(ROOT)}: {m.group(0)}" for p in CODE for m in outside.finditer(p.read_text())]
    assert not offenders, offenders
