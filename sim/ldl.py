"""Symbolic sparse LDL^T factorisation of the gap-junction matrix, for the graded model's
second-order ``cn`` scheme.

The ``cn`` step (:func:`sim.kernels.graded_cn_step_lanes`) solves, every step, a symmetric
positive definite system whose off-diagonal pattern is that of the gap junctions and whose
diagonal changes with the synaptic activations. Its sparsity structure is fixed, so the
elimination order (minimum degree) and the pattern of the factor are worked out here once, in
plain Python; the kernel then only does the numeric factorisation and the two triangular solves.

Layout of the result (all int64; positions are in elimination order, ``pos[i]`` for neuron
``i``): column ``k`` of the unit lower factor ``L`` has its off-diagonal rows
``rows[colptr[k]:colptr[k+1]]`` (ascending); the kernel keeps the diagonal ``D`` in
``val[0:n]`` and ``L``'s entry ``e`` in ``val[n + e]``. ``gap_slot[k]`` is where stored
gap-junction direction ``k`` (CSR by receiving neuron) goes in ``val``, or -1 for the upper
triangle. Eliminating column ``k`` subtracts ``L[a, k] D[k] L[b, k]`` from the entry in slot
``pair_slot[p]`` for each pair ``p`` in ``pair_ptr[k]:pair_ptr[k+1]`` with column offsets
``pair_a[p] >= pair_b[p]`` (offsets into column ``k``'s rows).
"""

import numpy as np

__all__ = ["LDLPattern", "ldl_pattern"]


class LDLPattern:
    """The symbolic factorisation (see the module docstring); attributes are read-only arrays.

    Attributes
    ----------
    pos, colptr, rows, gap_slot, pair_ptr, pair_a, pair_b, pair_slot : ndarray of int64
    max_col : int
        The largest column count (scratch size for the kernel).
    """

    __slots__ = ("pos", "colptr", "rows", "gap_slot", "pair_ptr", "pair_a", "pair_b",
                 "pair_slot", "max_col")  # fmt: skip

    def __init__(self, **arrays):
        for key in self.__slots__[:-1]:
            a = np.ascontiguousarray(arrays[key], dtype=np.int64)
            a.setflags(write=False)
            object.__setattr__(self, key, a)
        counts = np.diff(self.colptr)
        object.__setattr__(self, "max_col", int(counts.max()) if counts.size else 0)

    def __setattr__(self, key, value):
        raise AttributeError("LDLPattern is read-only")

    def arrays(self):
        """The eight arrays in the order :func:`sim.kernels.run_chunks` takes them."""
        return tuple(getattr(self, k) for k in self.__slots__[:-1])


def ldl_pattern(gindptr, gpre):
    """Minimum-degree order and the pattern of ``L`` for the gap-junction CSR structure.

    Parameters
    ----------
    gindptr : ndarray, shape (n + 1,)
    gpre : ndarray, shape (g,)
        Gap junctions, CSR by receiving neuron, both directions of each pair stored, no
        self-pairs (as :func:`sim.compiler.compile_circuit` builds them).

    Returns
    -------
    LDLPattern

    Examples
    --------
    A chain 0 - 1 - 2: eliminating an end first makes no fill.

    >>> p = ldl_pattern(np.array([0, 1, 3, 4]), np.array([1, 0, 2, 1]))
    >>> p.pos.tolist(), np.diff(p.colptr).tolist()
    ([0, 1, 2], [1, 1, 0])
    """
    n = len(gindptr) - 1
    adj = [set(int(j) for j in gpre[gindptr[i] : gindptr[i + 1]]) for i in range(n)]
    alive = set(range(n))
    order, pattern = [], []
    while alive:  # minimum degree, ties to the lowest index: deterministic
        v = min(alive, key=lambda x: (len(adj[x]), x))
        nb = adj[v]
        for a in nb:
            adj[a] |= nb
            adj[a].discard(a)
            adj[a].discard(v)
        order.append(v)
        pattern.append(nb)
        alive.discard(v)
        adj[v] = set()
    pos = np.empty(n, dtype=np.int64)
    pos[order] = np.arange(n)
    cols = [sorted(int(pos[j]) for j in nb) for nb in pattern]
    colptr = np.zeros(n + 1, dtype=np.int64)
    colptr[1:] = np.cumsum([len(c) for c in cols])
    rows = np.array([r for c in cols for r in c], dtype=np.int64)
    slot = {}
    for k, c in enumerate(cols):
        for e, r in enumerate(c):
            slot[(r, k)] = n + colptr[k] + e
    gap_slot = np.full(len(gpre), -1, dtype=np.int64)
    for i in range(n):
        for k in range(gindptr[i], gindptr[i + 1]):
            r, c = pos[i], pos[gpre[k]]
            if r > c:
                gap_slot[k] = slot[(r, c)]
    pair_ptr = np.zeros(n + 1, dtype=np.int64)
    pa, pb, ps = [], [], []
    for k, c in enumerate(cols):
        for a in range(len(c)):
            for b in range(a + 1):
                pa.append(a)
                pb.append(b)
                ps.append(c[a] if a == b else slot[(c[a], c[b])])
        pair_ptr[k + 1] = len(pa)
    return LDLPattern(
        pos=pos, colptr=colptr, rows=rows, gap_slot=gap_slot, pair_ptr=pair_ptr,
        pair_a=np.array(pa, dtype=np.int64), pair_b=np.array(pb, dtype=np.int64),
        pair_slot=np.array(ps, dtype=np.int64),
    )  # fmt: skip
