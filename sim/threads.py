"""Thread limits for the libraries the simulator calls (BLAS, numba), one home for every caller.

BLAS threads fight numba's for the cores on a busy machine: ``cma``'s linear algebra becomes
slower than the rollouts it serves, and an SVD of 3000 x 80 takes about 1 s instead of 20 ms.
"""

from connectome import limits
from connectome.errors import SimulationError

__all__ = ["one_blas_thread", "check_threads"]


def check_threads(value) -> int:
    """``value`` as a number of numba threads: a whole number in 1 .. the most numba can run
    (``numba.config.NUMBA_NUM_THREADS``, the machine's cores unless set) and ``MAX_THREADS``.

    Raises
    ------
    SimulationError
        Naming the value and the allowed range.
    """
    import numba

    most = min(limits.MAX_THREADS, int(numba.config.NUMBA_NUM_THREADS))
    return limits.check_int(value, "threads (numba)", 1, most, SimulationError)


def one_blas_thread():
    """A context manager limiting BLAS to one thread while it is open (threadpoolctl).

    >>> import numpy as np
    >>> with one_blas_thread():
    ...     float(np.linalg.norm(np.ones(4)))
    2.0
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")
