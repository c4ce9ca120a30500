"""Start-up warm-up: what a first request would otherwise wait for, in the order the pages
need it, run in the background while the server already serves, with its progress printed
and shown on the page.

The steps (:func:`steps`): the Explore page's default view (the first page; no numba), the
simulator's numba kernels and the Simulate page's default network, then the control
environments' kernels and one tiny training run in a fresh process (which writes numba's
on-disk cache of the batched rollout kernel that every training process loads). numba
compiles each kernel once and keeps the machine code on disk (``cache=True``, under
``sim/__pycache__`` or ``NUMBA_CACHE_DIR``): with a cold cache the steps take about a
minute on a quiet 2-core machine and four with both cores busy, with a warm one 5-10 s and
half a minute (``python benchmarks/bench_startup.py``). The warm-up's thread runs a few
nice levels below the server's, so that requests come first.

A request that needs a kernel before its step has run does not compile it a second time:
numba's compiler lock makes it wait for the warm-up's compilation and then use it. The
app's shell shows "compiling the simulator (once)…" while the simulator's steps run
(:meth:`Warmup.banner`).
"""

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Step", "steps", "Warmup", "kernel_cache_counts"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Step:
    """One warm-up step.

    Attributes
    ----------
    key : str
        Short name (``"explore"``, ``"simulator"``, ...).
    part : str
        What the banner calls it while it runs: ``"simulator"``, ``"trainer"`` or ``""``
        (the step compiles nothing).
    label : str
        What it does, for the start-up output.
    run : callable
        Does it (no arguments).
    """

    key: str
    part: str
    label: str
    run: Callable[[], None]


def steps() -> tuple[Step, ...]:
    """The app's warm-up steps, the first page's first."""
    from sim import envs
    from sim.runner import warmup as simulator
    from webapp.pages import explore, simulate, train

    return (
        Step("explore", "", "the Explore page's default view (Cook 2019 and its layouts)",
             explore.warm_up),
        Step("simulator", "simulator",
             "the simulator's numba kernels (graded and LTC models, every stimulus kind)",
             simulator),
        Step("simulate", "simulator", "the Simulate page's default network", simulate.warm_up),
        Step("environments", "trainer", "the four control environments' numba kernels",
             envs.warmup),
        Step("training", "trainer",
             "the training kernels (one CartPole generation in a fresh process)", train.warm_up),
    )  # fmt: skip


def kernel_cache_counts() -> tuple[int, int]:
    """(compiled, loaded from numba's on-disk cache): signatures of this process's numba
    kernels (sim.kernels, sim.envs, sim.control) so far."""
    from numba.core.dispatcher import Dispatcher

    from sim import control, envs, kernels

    compiled = loaded = 0
    for module in (kernels, envs, control):
        for obj in vars(module).values():
            if isinstance(obj, Dispatcher):
                compiled += sum(obj.stats.cache_misses.values())
                loaded += sum(obj.stats.cache_hits.values())
    return compiled, loaded


def _cache_place() -> str:
    import numba

    return numba.config.CACHE_DIR or "__pycache__ beside sim/kernels.py"


#: how many nice levels the background warm-up gives way by: enough that the server's requests
#: come first (CFS weighs nice 5 at a third of nice 0), not so many that it starves behind a
#: busy machine's other work (nice 10, a tenth: 12 minutes to compile with both cores busy)
WARMUP_NICENESS = 5


def _lower_priority(by: int = WARMUP_NICENESS) -> None:
    """Lower this thread's CPU priority by ``by`` nice levels (Linux schedules threads one
    by one; at most nice 19) and so that of the processes it starts, so that requests come
    first while it compiles. The rest of the process keeps its priority."""
    try:
        me = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, me, min(19, os.getpriority(os.PRIO_PROCESS, me) + by))
    except (AttributeError, OSError):  # not Linux, or not allowed: compile at full priority
        pass


class Warmup:
    """Runs :func:`steps` once, in a background thread (:meth:`start`) or in the caller's
    (:meth:`run`), printing each step and keeping what is done for :meth:`banner`.

    Parameters
    ----------
    step_list : sequence of Step, optional
        Default :func:`steps`.
    echo : callable, optional
        Where progress lines go (default ``print`` with flush); ``None`` for silence.
    """

    def __init__(self, step_list=None, echo=None):
        self._steps = tuple(steps() if step_list is None else step_list)
        self._echo = echo
        self._lock = threading.Lock()
        self._current = None
        self._finished = threading.Event()
        self._failed = []
        self._started = None

    def _say(self, text: str) -> None:
        if self._echo is not None:
            self._echo(text)

    def start(self) -> threading.Thread:
        """Run the steps in a daemon thread at a lower CPU priority (:data:`WARMUP_NICENESS`
        levels, so that the server's requests come first); returns it."""
        thread = threading.Thread(target=self._run_behind, name="wormlab-warmup", daemon=True)
        thread.start()
        return thread

    def _run_behind(self) -> None:
        _lower_priority()  # this thread only (and what it starts); it ends with the steps
        self.run(background=True)

    def run(self, background: bool = False) -> None:
        """Run every step in order in the calling thread, at its priority (a thread cannot
        raise its priority again once lowered, so only :meth:`start`'s own thread is
        lowered); a failing step is logged and the next one runs (the pages then compile on
        first use). ``background`` only words the first line."""
        self._started = time.perf_counter()
        self._say(
            "wormlab: compiling the simulator and the trainer"
            + (" in the background" if background else "")
            + "; this happens once: numba keeps the machine code on disk "
            f"({_cache_place()}), so later starts take seconds."
            + (" The pages are served meanwhile." if background else "")
        )
        for step in self._steps:
            with self._lock:
                self._current = step
            tic = time.perf_counter()
            before = kernel_cache_counts()
            self._say(f"wormlab:   {step.label} ...")
            try:
                step.run()
            except Exception as err:  # noqa: BLE001 - logged; the pages compile on use
                log.exception("warm-up step %s failed", step.key)
                self._failed.append(step.key)
                self._say(f"wormlab:   {step.label}: failed ({type(err).__name__}: {err})")
                continue
            compiled, loaded = (a - b for a, b in zip(kernel_cache_counts(), before, strict=True))
            counts = f"; {compiled} compiled, {loaded} loaded from the cache" if (
                compiled or loaded) else ""  # fmt: skip
            self._say(f"wormlab:   ... done in {time.perf_counter() - tic:.1f} s{counts}")
        with self._lock:
            self._current = None
        self._finished.set()
        total = time.perf_counter() - self._started
        failed = f" ({', '.join(self._failed)} failed: see the log)" if self._failed else ""
        self._say(f"wormlab: ready: everything compiled in {total:.1f} s{failed}")

    @property
    def finished(self) -> bool:
        """Whether every step has run."""
        return self._finished.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until every step has run (at most ``timeout`` s); returns :attr:`finished`."""
        return self._finished.wait(timeout)

    def banner(self) -> str:
        """What the page says while a step that compiles runs, else ``""``."""
        with self._lock:
            step = self._current
        if step is None or not step.part or self._started is None:
            return ""
        elapsed = time.perf_counter() - self._started
        waits = "Simulate and Train runs wait" if step.part == "simulator" else "training waits"
        return (
            f"Compiling the {step.part} (once)\u2026 {step.label}, {elapsed:.0f} s so far. "
            f"{waits} until it is done; numba keeps the compiled code on disk, so later "
            "starts skip this."
        )
