"""Every named query states its cost: what it reads and how that grows (issue 11's "state each
stage's complexity in its docstring or query header")."""

from __future__ import annotations

import re

import pytest

from forensics.sql import NamedQuery, list_queries


def _cost_block(query: NamedQuery) -> str:
    """The ``-- cost:`` header line and the indented comment lines that continue it."""
    lines = query.sql.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("-- cost:")), None)
    if start is None:
        return ""
    block = [lines[start]]
    for line in lines[start + 1 :]:
        if not re.match(r"--\s{2,}\S", line):
            break
        block.append(line)
    return "\n".join(block)


@pytest.mark.parametrize("query", list_queries(), ids=lambda q: q.name)
def test_the_query_header_states_its_growth(query: NamedQuery) -> None:
    block = _cost_block(query)
    assert block, f"{query.path}: no '-- cost:' header line"
    assert "O(" in block, f"{query.path}: the cost header gives no growth (O(...))"
