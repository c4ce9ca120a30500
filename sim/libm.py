"""C library calls in numba kernels, made as Python and numpy make them (``pow``, ``fma``).

LLVM rewrites ``pow(x, 2.0)`` into ``x * x``; Python and numpy call the C library's ``pow`` for
``x ** 2``, which glibc does not round correctly in every case, so a port that must equal them
bit for bit calls ``pow`` itself (:func:`pow64`, :func:`pow32`). :func:`fma32` is a fused
float32 multiply-add, one rounding, as numpy's SIMD polynomials use it.
"""

import math

from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

__all__ = ["pow64", "pow32", "fma32", "fma64", "NUMPY_SVML", "np_arctan2", "np_arctan"]


def _libm_codegen(symbol, llvm_type):
    """Codegen calling the C library's ``symbol(x, y)`` as an opaque function.

    ``nobuiltin`` stops LLVM from turning ``pow(x, 2)`` into ``x * x``: glibc's
    ``pow`` is not correctly rounded, and Python and numpy call it for
    ``x ** 2``, so the product differs from it in about 1 case in 1000.
    """

    def codegen(context, builder, signature, args):
        fnty = ir.FunctionType(llvm_type, [llvm_type, llvm_type])
        fn = cgutils.get_or_insert_function(builder.module, fnty, symbol)
        fn.attributes.add("nobuiltin")
        return builder.call(fn, args)

    return codegen


@intrinsic
def pow64(typingctx, x, y):
    """``pow`` from the C library on float64, as ``np.float64(x) ** 2`` calls it."""
    return types.float64(types.float64, types.float64), _libm_codegen("pow", ir.DoubleType())


@intrinsic
def pow32(typingctx, x, y):
    """``powf`` from the C library, as ``np.float32(x) ** 2`` calls it."""
    return types.float32(types.float32, types.float32), _libm_codegen("powf", ir.FloatType())


@intrinsic
def fma32(typingctx, a, b, c):
    """Fused float32 ``a * b + c`` with a single rounding."""

    def codegen(context, builder, signature, args):
        return builder.fma(*args)

    return types.float32(types.float32, types.float32, types.float32), codegen


@intrinsic
def fma64(typingctx, a, b, c):
    """Fused float64 ``a * b + c`` with a single rounding (as OpenBLAS's FMA kernels add)."""

    def codegen(context, builder, signature, args):
        return builder.fma(*args)

    return types.float64(types.float64, types.float64, types.float64), codegen


# numpy's float64 arctan2 and arctan: on CPUs with AVX512_SKX numpy calls Intel's SVML vector
# functions (numpy/_core/src/umath/loops_umath_fp.dispatch.c.src), which round otherwise
# than the C library in about 1 case in 60; numpy exports them, so a kernel can call them.
def _svml_symbols():
    """Bind numpy's exported SVML ``atan2`` / ``atan`` for LLVM; True when numpy uses them."""
    import ctypes

    import llvmlite.binding as llvm
    import numpy as np
    from numpy._core import _multiarray_umath

    try:
        lib = ctypes.CDLL(_multiarray_umath.__file__)
        for name in ("__svml_atan28_ha", "__svml_atan8_ha"):
            llvm.add_symbol(name, ctypes.cast(getattr(lib, name), ctypes.c_void_p).value)
    except (OSError, AttributeError):
        return False
    # numpy dispatches to SVML only where the CPU has AVX512_SKX
    return bool(np._core._multiarray_umath.__cpu_features__.get("AVX512_SKX", False))


NUMPY_SVML = _svml_symbols()


def _svml_codegen(symbol, nargs):
    """Codegen calling SVML's 8-lane ``symbol`` on a scalar in lane 0 (the others 0.0)."""

    def codegen(context, builder, signature, args):
        vec = ir.VectorType(ir.DoubleType(), 8)
        fnty = ir.FunctionType(vec, [vec] * nargs)
        fn = cgutils.get_or_insert_function(builder.module, fnty, symbol)
        zero = ir.Constant(vec, [0.0] * 8)
        lanes = [builder.insert_element(zero, a, ir.Constant(ir.IntType(32), 0)) for a in args]
        out = builder.call(fn, lanes)
        return builder.extract_element(out, ir.Constant(ir.IntType(32), 0))

    return codegen


@intrinsic
def _svml_atan2(typingctx, y, x):
    return types.float64(types.float64, types.float64), _svml_codegen("__svml_atan28_ha", 2)


@intrinsic
def _svml_atan(typingctx, x):
    return types.float64(types.float64), _svml_codegen("__svml_atan8_ha", 1)


@njit(cache=True)
def np_arctan2(y, x):
    """``np.arctan2(y, x)`` on float64 scalars as this machine's numpy computes it."""
    if NUMPY_SVML:
        return _svml_atan2(y, x)
    return math.atan2(y, x)


@njit(cache=True)
def np_arctan(x):
    """``np.arctan(x)`` on a float64 scalar as this machine's numpy computes it."""
    if NUMPY_SVML:
        return _svml_atan(x)
    return math.atan(x)
