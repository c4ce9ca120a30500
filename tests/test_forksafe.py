"""A process forked as Dash forks a background job runs, whatever lock another thread of
the server held at the fork (:mod:`webapp.forksafe`): numba's compiler lock (the warm-up
compiling) and a ``functools.cached_property``'s lock (the warm-up building the class-level
Cook 2019 network). Without the fork handlers each child below hangs for ever."""

import functools
import threading

import multiprocess
import pytest

import connectome
from webapp import forksafe


def _fork_and_join(child, timeout=240):
    """Run ``child`` in a forked process (as Dash's DiskcacheManager does); its exit code
    (None when it is still running after ``timeout`` s: it hung, and is killed)."""
    proc = multiprocess.get_context("fork").Process(target=child)
    proc.start()
    proc.join(timeout)
    if proc.is_alive():
        proc.kill()
        proc.join()
        return None
    return proc.exitcode


def _compile_something():
    import numba

    assert numba.njit(lambda x: x + 1)(1) == 2


def test_a_fork_while_numba_compiles_elsewhere_gives_a_child_that_can_compile():
    forksafe.install()
    from numba.core.compiler_lock import global_compiler_lock

    held, done = threading.Event(), threading.Event()

    def compiling():  # a stand-in for the warm-up's compilation of one kernel
        with global_compiler_lock:
            held.set()
            done.wait(5)

    thread = threading.Thread(target=compiling)
    thread.start()
    held.wait()
    timer = threading.Timer(5, done.set)
    timer.start()
    try:
        assert _fork_and_join(_compile_something) == 0
    finally:
        done.set()
        timer.cancel()
        thread.join()


def _compute_a_circuits_neurons():
    circuit = connectome.presets.tap_withdrawal(connectome.load("cook2019"))
    assert len(circuit.neurons) == len(circuit)


@pytest.mark.skipif(
    not hasattr(vars(connectome.Circuit)["_neurons"], "lock"),
    reason="this Python's cached_property has no lock",
)
def test_a_fork_while_a_cached_property_is_computed_gives_a_child_that_computes_it():
    forksafe.install()
    prop = vars(connectome.Circuit)["_neurons"]
    assert isinstance(prop, functools.cached_property)
    held, done = threading.Event(), threading.Event()

    def computing():  # another thread in the getter of some circuit's neurons
        with prop.lock:
            held.set()
            done.wait(240)

    thread = threading.Thread(target=computing)
    thread.start()
    held.wait()
    try:
        assert _fork_and_join(_compute_a_circuits_neurons) == 0
    finally:
        done.set()
        thread.join()
    assert forksafe.reset_cached_property_locks(("connectome",)) >= 2
