"""cyclic_gc_paused: the collector waits while a step builds a file's rows, and runs again
afterwards, also when steps nest or fail, and only if it ran before."""

import gc

import pytest

from imports.gcpause import cyclic_gc_paused


@pytest.fixture(autouse=True)
def collector_restored():
    was_enabled = gc.isenabled()
    yield
    if was_enabled:
        gc.enable()
    else:
        gc.disable()


def test_paused_inside_and_running_after():
    gc.enable()
    with cyclic_gc_paused():
        assert not gc.isenabled()
        with cyclic_gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer step still builds
    assert gc.isenabled()


def test_running_again_after_a_failing_step():
    gc.enable()

    @cyclic_gc_paused()
    def step():
        assert not gc.isenabled()
        raise ValueError("bad file")

    with pytest.raises(ValueError, match="bad file"):
        step()
    assert gc.isenabled()


def test_left_off_when_it_was_off():
    gc.disable()
    with cyclic_gc_paused():
        pass
    assert not gc.isenabled()
