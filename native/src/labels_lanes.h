/*
 * labels_lanes.h — the ROMix kernel for SP_LANES labels at once, "vertically" interleaved
 * (lane = label: vector k holds word k of every label), instantiated once per instruction set.
 *
 * The including file defines, before including:
 *   SP_LANES1           lanes per register set (1, 4, 5 or 8); SP_SETS register sets (1 or 2)
 *   SP_TGT              function attribute enabling the ISA (e.g. __attribute__((target("avx2"))))
 *   SP_LANES_FN         name of the sp_labels_fn to define
 *   vec1                the register type, and these SP_TGT static inline functions:
 *   v1_load(const uint32_t *p), v1_store(uint32_t *p, vec1 x)   SP_LANES1 aligned words
 *   v1_add, v1_xor, v1_rotl16, v1_rotl12, v1_rotl8, v1_rotl7
 *   v1_transpose4(vec1 r[4])  transposes 4x4 words within each group of 4 lanes (identity for 1 lane)
 *   v1_put(uint32_t *blk, int k, int m, vec1 r)   group g of r -> words k..k+3 of lane 4g+m's block
 *   v1_get(const uint32_t *const *p, int k, int m) -> group g = words k..k+3 of p[4g+m]
 *   (for 1 lane: v1_put stores word k+m of lane 0, v1_get loads p[0][k+m]; a lane beyond the
 *   groups of 4, like SSE2's scalar fifth lane, is stored/loaded word k+m at a time the same way)
 *
 * Memory layout of V (why): each register set has its own V; entry i holds the SP_LANES1 blocks of
 * V[i] one after the other, each lane's 128 bytes contiguous. The data-dependent lookup V[j] then
 * touches two cache lines per lane instead of a strided gather over SP_LANES1 * 2 lines; the price
 * is a 4x4 transpose per 4 words on store and load, a few percent of the ChaCha work.
 *
 * Two register sets (why): the ChaCha chain add -> xor -> rotate is latency-bound, so in the first
 * loop the sets run in lockstep (interleaved instructions). In the second loop they are staggered
 * instead: at N=8192 V outgrows the caches and each step waits for V[j], with j known only at the
 * end of the previous step; set s prefetches its next V[j] as soon as it knows j and the other set
 * computes meanwhile, so the load has a whole BlockMix to arrive. Measured here (SSE2 with two
 * sets, before its scalar fifth lane did better): lockstep in both loops 1230 labels/s, staggered
 * 1420 while other jobs shared the L3; equal when idle. neon8 uses this (a Pi's V[j] comes from DRAM).
 */
#include <string.h>

#include "labels_impl.h"

#define SP_LANES (SP_SETS * SP_LANES1)
#define SP_ENTRY ((size_t)SP_LANES1 * SP_ROMIX_WORDS) /* words of one V entry of one set */

/* ChaCha20/8 and BlockMix on SP_G register sets in lockstep: sp_chacha8_1 / sp_blockmix_1 for one
 * set, sp_chacha8_2 / sp_blockmix_2 for two interleaved ones (more independent work per cycle). */
#define SP_G 1
#include "labels_mix.h"
#undef SP_G
#if SP_SETS > 1
#define SP_G 2
#include "labels_mix.h"
#undef SP_G
#endif

SP_TGT static void sp_store_lanes(uint32_t *blk, const vec1 b[32]) {
    for (int k = 0; k < 32; k += 4) {
        vec1 r[4] = {b[k], b[k + 1], b[k + 2], b[k + 3]};
        v1_transpose4(r);
        for (int m = 0; m < 4; m++) v1_put(blk, k, m, r[m]);
    }
}

SP_TGT static void sp_xor_lanes(vec1 b[32], const uint32_t *const *p) {
    for (int k = 0; k < 32; k += 4) {
        vec1 r[4];
        for (int m = 0; m < 4; m++) r[m] = v1_get(p, k, m);
        v1_transpose4(r);
        for (int m = 0; m < 4; m++) b[k + m] = v1_xor(b[k + m], r[m]);
    }
}

/* Integerify: the first word of the last 64-byte block picks each lane's V entry. */
SP_TGT static inline void sp_lookup(const vec1 b[32], uint32_t n, const uint32_t *v, const uint32_t **p) {
    _Alignas(64) uint32_t j[SP_LANES1];
    v1_store(j, b[16]);
    for (int l = 0; l < SP_LANES1; l++) {
        p[l] = v + (j[l] & (n - 1)) * SP_ENTRY + (size_t)l * SP_ROMIX_WORDS;
#if SP_SETS > 1
        __builtin_prefetch(p[l]);
        __builtin_prefetch(p[l] + 16);
#endif
    }
}

/* ROMix of the first `sets` register sets; set s uses v + s * n * SP_ENTRY. Always inlined and
 * called with a constant `sets`, so the set loops unroll (a run-time count cost a fifth). */
SP_TGT static inline __attribute__((always_inline)) void sp_romix(vec1 b[SP_SETS][32], int sets, uint32_t n,
                                                                  uint32_t *v) {
    const uint32_t *p[SP_SETS][SP_LANES1];
    for (uint32_t i = 0; i < n; i++) {
        for (int s = 0; s < sets; s++) sp_store_lanes(v + ((size_t)s * n + i) * SP_ENTRY, b[s]);
#if SP_SETS > 1
        if (sets == 2) { /* no memory wait in this loop: both sets in lockstep, for the parallelism */
            sp_blockmix_2(b);
            continue;
        }
#endif
        sp_blockmix_1(b);
    }
    for (int s = 0; s < sets; s++) sp_lookup(b[s], n, v + (size_t)s * n * SP_ENTRY, p[s]);
    for (uint32_t i = 0; i < n; i++)
        for (int s = 0; s < sets; s++) {
            sp_xor_lanes(b[s], p[s]);
            sp_blockmix_1(&b[s]);
            sp_lookup(b[s], n, v + (size_t)s * n * SP_ENTRY, p[s]);
        }
}

/* Labels for indices start..start+count-1. A short last batch runs only the register sets it
 * needs and repeats its last index in their spare lanes (computed and dropped), so every count
 * works. A tail of at most a quarter of the lanes goes to the one-lane kernel instead: a whole
 * register set would cost more than those few labels one by one (the verifier asks for single
 * labels at random indices). */
SP_TGT int SP_LANES_FN(const uint8_t commitment[32], uint32_t n, uint64_t start, size_t count, uint8_t *out32) {
    if (!commitment || !out32 || n < 2 || (n & (n - 1))) return SP_ERR_INVALID;
    /* n < 2^32, so n * 1 KiB fits size_t on the 64-bit targets; an absurd n fails in mmap (NOMEM) */
    uint32_t *v = sp_label_scratch((size_t)n * SP_SETS * SP_ENTRY * sizeof(uint32_t));
    if (!v) return SP_ERR_NOMEM;
    for (size_t done = 0; done < count; done += SP_LANES) {
        size_t live = count - done < SP_LANES ? count - done : SP_LANES;
#if SP_LANES > 1
        if (live <= SP_LANES / 4)
            return sp_labels_portable(commitment, n, start + done, live, out32 + done * SP_FULL_LABEL_SIZE);
#endif
        int sets = (int)((live + SP_LANES1 - 1) / SP_LANES1);
        sp_hmac h[SP_LANES];
        _Alignas(64) uint32_t x[SP_LANES][SP_ROMIX_WORDS];
        _Alignas(64) uint32_t t[SP_LANES1];
        vec1 b[SP_SETS][32];
        for (size_t l = 0; l < (size_t)sets * SP_LANES1; l++)
            sp_label_begin(commitment, start + done + (l < live ? l : live - 1), &h[l], x[l]);
        for (int s = 0; s < sets; s++)
            for (int k = 0; k < SP_ROMIX_WORDS; k++) {
                for (int l = 0; l < SP_LANES1; l++) t[l] = x[s * SP_LANES1 + l][k];
                b[s][k] = v1_load(t);
            }
        if (sets == SP_SETS)
            sp_romix(b, SP_SETS, n, v);
        else
            sp_romix(b, 1, n, v);
        for (int s = 0; s < sets; s++)
            for (int k = 0; k < SP_ROMIX_WORDS; k++) {
                v1_store(t, b[s][k]);
                for (int l = 0; l < SP_LANES1; l++) x[s * SP_LANES1 + l][k] = t[l];
            }
        for (size_t l = 0; l < live; l++) sp_label_end(&h[l], x[l], out32 + (done + l) * SP_FULL_LABEL_SIZE);
    }
    return SP_OK;
}
