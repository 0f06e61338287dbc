"""Write docs/parity.md: the paper profile's settings beside the reference code's, task by task.

    python benchmarks/parity_table.py [OUT]      (default: docs/parity.md)
"""

from __future__ import annotations

import sys
from pathlib import Path

from xbench.fidelity import parity_markdown

if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "docs" / "parity.md")
    out.write_text(parity_markdown())
    print(f"wrote {out}")
