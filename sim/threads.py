"""Thread limits for the libraries the simulator calls (BLAS), one home for every caller.

BLAS threads fight numba's for the cores on a busy machine: ``cma``'s linear algebra becomes
slower than the rollouts it serves, and an SVD of 3000 x 80 takes about 1 s instead of 20 ms.
"""

__all__ = ["one_blas_thread"]


def one_blas_thread():
    """A context manager limiting BLAS to one thread while it is open (threadpoolctl).

    >>> import numpy as np
    >>> with one_blas_thread():
    ...     float(np.linalg.norm(np.ones(4)))
    2.0
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")
