"""The example in docs/resilience.md runs as written."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).parents[2] / "docs" / "resilience.md"


def test_the_documented_example_runs() -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert blocks, "docs/resilience.md lost its example"
    exec(compile(blocks[0], str(DOC), "exec"), {"__name__": "docs_example"})
