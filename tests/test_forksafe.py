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


def _fork_while_held(lock, child, hold=5.0):
    """``child``'s exit code, forked while another thread holds ``lock`` (a stand-in for
    the warm-up in the middle of a compilation or a property): the thread lets go after
    ``hold`` s (a fork that waits for it then goes ahead) or once the child has ended."""
    held, done = threading.Event(), threading.Event()

    def holding():
        with lock:
            held.set()
            done.wait(hold)

    thread = threading.Thread(target=holding)
    thread.start()
    held.wait()
    try:
        return _fork_and_join(child)
    finally:
        done.set()
        thread.join()


def _compile_something():
    import numba

    assert numba.njit(lambda x: x + 1)(1) == 2


def test_a_fork_while_numba_compiles_elsewhere_gives_a_child_that_can_compile():
    from numba.core.compiler_lock import global_compiler_lock

    forksafe.install()
    assert _fork_while_held(global_compiler_lock, _compile_something) == 0


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
    assert _fork_while_held(prop.lock, _compute_a_circuits_neurons) == 0
    assert forksafe.reset_cached_property_locks(("connectome",)) >= 2
