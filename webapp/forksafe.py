"""Fork safety of the server: no background job starts with a lock held by a thread it lacks.

Dash's ``DiskcacheManager`` runs each background callback in a process forked from the
server (:mod:`webapp.jobs`). A forked process has only the thread that forked; a lock that
another thread of the server held at that moment stays held in the child for ever, and the
child hangs at its first use of it, before the job has even started. Two such locks are
held for seconds at a time while the server works:

- numba's compiler lock, held by the start-up warm-up (:mod:`webapp.warmup`) or a request
  while a kernel compiles or loads from the on-disk cache; the job's first numba call (the
  Train page's check of the io mapping builds a controller) waits on it;
- the lock of each ``functools.cached_property`` (one per property, shared by all instances,
  on Python 3.11), held while a property is computed, e.g. the class-level Cook 2019
  network (:meth:`connectome.Connectome.to_classes`) that the warm-up's first step builds
  and every preset circuit reads.

:func:`install` registers fork handlers (:func:`os.register_at_fork`): before a fork the
forking thread takes numba's compiler lock (waiting at most for the compilation under way)
and releases it in both processes after the fork, so the child's copy is free; in the child
the ``cached_property`` locks of wormlab's own classes are replaced by new ones (the lock
only keeps two threads from computing a value twice; the child recomputes what the lost
thread was computing). ``subprocess`` does not run these handlers (it executes a new program
at once), so fresh job processes start as before.
"""

import functools
import os
import sys
import threading

__all__ = ["PACKAGES", "install", "reset_cached_property_locks"]

#: The packages whose classes' cached_property locks a forked child renews.
PACKAGES = ("connectome", "sim", "webapp")


def _compiler_lock():
    from numba.core.compiler_lock import global_compiler_lock

    return global_compiler_lock


def reset_cached_property_locks(packages=PACKAGES) -> int:
    """Give every ``functools.cached_property`` of the classes defined in ``packages``'
    loaded modules a new lock (Python 3.11; later Pythons have none); returns how many."""
    count = 0
    for name, module in list(sys.modules.items()):
        if module is None or name.partition(".")[0] not in packages:
            continue
        for cls in list(vars(module).values()):
            if not isinstance(cls, type) or cls.__module__ != name:
                continue
            for prop in list(vars(cls).values()):
                if isinstance(prop, functools.cached_property) and hasattr(prop, "lock"):
                    prop.lock = threading.RLock()
                    count += 1
    return count


@functools.cache
def install() -> None:
    """Register the fork handlers (see the module notes); once per process."""
    lock = _compiler_lock()

    def after_in_child():
        lock.release()
        reset_cached_property_locks()

    os.register_at_fork(before=lock.acquire, after_in_parent=lock.release,
                        after_in_child=after_in_child)  # fmt: skip
