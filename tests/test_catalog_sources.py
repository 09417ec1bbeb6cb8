"""Every signature beyond the seeds is sourced like the seeds: five or more match examples,
each citing where its wording comes from, from three or more sources, and no_match examples."""

from __future__ import annotations

import pytest

from forensics.signatures import load_catalog
from tests.test_seed_sources import SEEDS, _match_sources, _source_key

CATALOG = load_catalog()
CATALOG_IDS = [sig.id for sig in CATALOG.active() if sig.id not in SEEDS]


def test_the_catalog_reaches_forty_signatures() -> None:
    assert len(CATALOG.active()) >= 40


@pytest.mark.parametrize("sig_id", CATALOG_IDS)
def test_match_examples_cite_enough_sources(sig_id: str) -> None:
    sources = _match_sources(sig_id)
    assert len(sources) == len(CATALOG.get(sig_id).examples_match)
    unsourced = [i for i, s in enumerate(sources) if s is None]
    assert not unsourced, f"{sig_id}: match examples {unsourced} cite no source"
    assert len(sources) >= 5
    keys = {_source_key(s) for s in sources if s}
    assert len(keys) >= 3, sorted(keys)


@pytest.mark.parametrize("sig_id", CATALOG_IDS)
def test_has_near_miss_examples(sig_id: str) -> None:
    assert len(CATALOG.get(sig_id).examples_no_match) >= 2
