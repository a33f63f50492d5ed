"""The GC policy web and worker processes apply once started (app/gc_tuning.py)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from app.config import Settings
from app.gc_tuning import tune_gc


@pytest.fixture
def gc_state() -> Iterator[None]:
    """Put the test process's GC back as it was: other tests must not inherit ours."""
    thresholds = gc.get_threshold()
    frozen = gc.get_freeze_count()
    yield
    gc.set_threshold(*thresholds)
    if frozen:
        gc.freeze()
    else:
        gc.unfreeze()


def test_thresholds_come_from_settings_and_the_startup_heap_is_frozen(
    settings: Settings, gc_state: None
) -> None:
    gc.unfreeze()
    tune_gc(settings.model_copy(update={"gc_thresholds": (12_345, 7, 3), "gc_freeze": True}))
    assert gc.get_threshold() == (12_345, 7, 3)
    assert gc.get_freeze_count() > 0


def test_freezing_can_be_turned_off(settings: Settings, gc_state: None) -> None:
    gc.unfreeze()
    tune_gc(settings.model_copy(update={"gc_thresholds": (5_000, 10, 10), "gc_freeze": False}))
    assert gc.get_threshold() == (5_000, 10, 10)
    assert gc.get_freeze_count() == 0
