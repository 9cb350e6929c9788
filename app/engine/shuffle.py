"""An epoch's sample order inside a compiled call: ``np.random.default_rng([seed, epoch]).permutation(n)``, bit for
bit, without leaving the kernel.

The trainer's schedule is defined by NumPy (trainer.epoch_order): epoch e's order is that permutation. Drawing it
from Python costs ~20 µs an epoch (a SeedSequence, a PCG64, a Generator), which on the smallest networks is as much
as 25 training steps, so the compiled path computes the same numbers with NumPy's own algorithms:

- ``SeedSequence(entropy).generate_state(4, uint64)``: the hash mixing of numpy/random/bit_generator.pyx
  (pool of 4 32-bit words, ``hashmix`` and ``mix``);
- PCG64 seeded with that state (``pcg_setseq_128_srandom_r``: a 128-bit LCG with the XSL-RR output) and its
  32-bit draws, which hand out the low then the high half of one 64-bit draw;
- ``Generator.permutation(n)``: Fisher–Yates from the end, j uniform in [0, i] by numpy's ``random_interval``
  (32-bit draws masked to the smallest 2^b − 1 ≥ i, redrawn while above i).

tests/test_paths.py compares it with NumPy over many seeds, epochs and sizes; if a NumPy release changed its
stream, that test fails (and the NumPy path, which calls NumPy, would still be right).
"""

from __future__ import annotations

import numpy as np
from numba import njit, types

U64 = np.uint64
MASK32 = U64(0xFFFFFFFF)
# SeedSequence's constants
INIT_A, MULT_A, INIT_B, MULT_B = U64(0x43B0D7E5), U64(0x931E8875), U64(0x8B51F9DD), U64(0x58F38DED)
MIX_MULT_L, MIX_MULT_R = U64(0xCA01F9DD), U64(0x4973F715)
POOL_SIZE = 4
# PCG64's default 128-bit multiplier, as two 64-bit halves
PCG_MULT_HI, PCG_MULT_LO = U64(2549297995355413924), U64(4865540595714422341)

SIGNATURE = types.void(types.Array(types.uint32, 1, "C", readonly=True), types.int64, types.int64[::1])


def entropy_words(seed: int) -> np.ndarray:
    """The seed's 32-bit words, least significant first, as SeedSequence splits a non-negative integer."""
    words = []
    while True:
        words.append(seed & 0xFFFFFFFF)
        seed >>= 32
        if seed == 0:
            return np.array(words, dtype=np.uint32)


@njit(inline="always")
def _hashmix(value, hash_const):
    value = (value ^ hash_const[0]) & MASK32
    hash_const[0] = (hash_const[0] * MULT_A) & MASK32
    value = (value * hash_const[0]) & MASK32
    return value ^ (value >> U64(16))


@njit(inline="always")
def _mix(x, y):
    result = (MIX_MULT_L * x - MIX_MULT_R * y) & MASK32
    return result ^ (result >> U64(16))


@njit(inline="always")
def _mulhi(a, b):
    """The high 64 bits of the 128-bit product a·b."""
    a_lo, a_hi, b_lo, b_hi = a & MASK32, a >> U64(32), b & MASK32, b >> U64(32)
    lo_lo, hi_lo, lo_hi, hi_hi = a_lo * b_lo, a_hi * b_lo, a_lo * b_hi, a_hi * b_hi
    cross = (lo_lo >> U64(32)) + (hi_lo & MASK32) + lo_hi
    return hi_hi + (hi_lo >> U64(32)) + (cross >> U64(32))


@njit(inline="always")
def _step(state):
    """state = state · MULT + inc (mod 2^128); ``state`` is [hi, lo, inc_hi, inc_lo, has_half, half]."""
    hi, lo = state[0], state[1]
    new_lo = lo * PCG_MULT_LO
    new_hi = _mulhi(lo, PCG_MULT_LO) + lo * PCG_MULT_HI + hi * PCG_MULT_LO
    lo2 = new_lo + state[3]
    state[0] = new_hi + state[2] + (U64(1) if lo2 < new_lo else U64(0))
    state[1] = lo2


@njit(inline="always")
def _next64(state):
    _step(state)
    x = state[0] ^ state[1]
    rot = state[0] >> U64(58)
    return (x >> rot) | (x << ((U64(64) - rot) & U64(63)))


@njit(inline="always")
def _next32(state):
    if state[4] != U64(0):
        state[4] = U64(0)
        return state[5]
    value = _next64(state)
    state[4], state[5] = U64(1), value >> U64(32)
    return value & MASK32


@njit(SIGNATURE, cache=True)  # the GIL held: a short call (kernels.compiled says why)
def permutation(seed_words, epoch, out):
    """out = np.random.default_rng([seed, epoch]).permutation(out.size), from the seed's 32-bit words (see
    ``entropy_words``) and a non-negative epoch."""
    # the entropy: the seed's words, then the epoch's (one word, or two from 2^32)
    n_seed = seed_words.size
    n_words = n_seed + (2 if epoch > 0xFFFFFFFF else 1)
    entropy = np.empty(n_words, dtype=np.uint64)
    for i in range(n_seed):
        entropy[i] = U64(seed_words[i])
    entropy[n_seed] = U64(epoch) & MASK32
    if n_words > n_seed + 1:
        entropy[n_seed + 1] = U64(epoch) >> U64(32)
    # SeedSequence's pool
    pool = np.empty(POOL_SIZE, dtype=np.uint64)
    hash_const = np.empty(1, dtype=np.uint64)
    hash_const[0] = INIT_A
    for i in range(POOL_SIZE):
        pool[i] = _hashmix(entropy[i] if i < n_words else U64(0), hash_const)
    for i_src in range(POOL_SIZE):
        for i_dst in range(POOL_SIZE):
            if i_src != i_dst:
                pool[i_dst] = _mix(pool[i_dst], _hashmix(pool[i_src], hash_const))
    for i_src in range(POOL_SIZE, n_words):
        for i_dst in range(POOL_SIZE):
            pool[i_dst] = _mix(pool[i_dst], _hashmix(entropy[i_src], hash_const))
    # generate_state(4, uint64): 8 words, paired little-endian
    words = np.empty(8, dtype=np.uint64)
    h = INIT_B
    for i in range(8):
        value = (pool[i % POOL_SIZE] ^ h) & MASK32
        h = (h * MULT_B) & MASK32
        value = (value * h) & MASK32
        words[i] = value ^ (value >> U64(16))
    seed_hi, seed_lo = words[0] | (words[1] << U64(32)), words[2] | (words[3] << U64(32))
    inc_hi, inc_lo = words[4] | (words[5] << U64(32)), words[6] | (words[7] << U64(32))
    # PCG64: state = 0, inc = (initseq << 1) | 1, step, state += initstate, step
    state = np.zeros(6, dtype=np.uint64)
    state[2] = (inc_hi << U64(1)) | (inc_lo >> U64(63))
    state[3] = (inc_lo << U64(1)) | U64(1)
    _step(state)
    lo = state[1] + seed_lo
    state[0] = state[0] + seed_hi + (U64(1) if lo < state[1] else U64(0))
    state[1] = lo
    _step(state)
    # Generator.permutation(n): arange, then Fisher–Yates from the end, j drawn by random_interval(i): 32-bit
    # draws masked to the smallest 2^b − 1 ≥ i, rejected while above i
    n = out.size
    for i in range(n):
        out[i] = i
    for i in range(n - 1, 0, -1):
        top = U64(i)
        mask = top
        for shift in (1, 2, 4, 8, 16, 32):
            mask |= mask >> U64(shift)
        value = _next32(state) & mask
        while value > top:
            value = _next32(state) & mask
        j = np.int64(value)
        out[i], out[j] = out[j], out[i]
