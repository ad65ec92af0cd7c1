"""Writing an evaluation's Markdown report: the same ending and file handling for every
``talentmatch eval`` suite."""

from __future__ import annotations

import time
from pathlib import Path


def write_report(output: str, lines: list[str], started: float) -> int:
    """``lines`` and the evaluation's duration (since ``started``, a ``perf_counter`` reading)
    written to ``output`` as UTF-8 and printed; the suite's exit status (0)."""
    text = "\n".join([*lines, f"Evaluation time: {time.perf_counter() - started:.0f} s.", ""])
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    Path(output).write_text(text, encoding="utf-8")
    print(text)
    return 0
