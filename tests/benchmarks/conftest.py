"""Put ``benchmarks/`` on ``sys.path``: its scripts import each other by module name
(``import common``), as Python lets files run from one folder do."""

from __future__ import annotations

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))
