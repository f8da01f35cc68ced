/*
 * aes_aesni.c — the proving scan and AES-128-ECB with x86-64 AES-NI.
 *
 * Eight labels (one post-rs chunk) go through the AES rounds together so the aesenc latency is
 * hidden; the difficulty test of all 128 output bytes is one unsigned min across the 8 blocks, one
 * compare with the broadcast msb and a movemask. Groups with a byte <= msb are listed without a
 * branch and their candidates handed to scan.c after the chunk. CPUs with VAES + AVX-512BW run a
 * 4-blocks-per-instruction variant of the same loop (SMESHPOST_VAES=0 turns it off).
 * Compiled with target attributes because the cffi build uses one flag set for every file.
 */
#include "aes_common.h"

#ifdef SP_X86_64
#include <cpuid.h>
#include <immintrin.h>
#include <stdlib.h>

#define AESNI __attribute__((target("aes,sse4.1")))

AESNI static inline __m128i expand_step(__m128i key, __m128i assist) {
    assist = _mm_shuffle_epi32(assist, 0xff);
    key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
    key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
    key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
    return _mm_xor_si128(key, assist);
}

#define EXPAND(i, rcon) rk[i] = expand_step(rk[(i) - 1], _mm_aeskeygenassist_si128(rk[(i) - 1], rcon))

AESNI static void expand(const uint8_t key[16], void *sched) {
    __m128i *rk = sched;
    rk[0] = _mm_loadu_si128((const __m128i *)(const void *)key);
    EXPAND(1, 0x01); EXPAND(2, 0x02); EXPAND(3, 0x04); EXPAND(4, 0x08); EXPAND(5, 0x10);
    EXPAND(6, 0x20); EXPAND(7, 0x40); EXPAND(8, 0x80); EXPAND(9, 0x1b); EXPAND(10, 0x36);
}

AESNI static inline __m128i encrypt1(const __m128i rk[11], __m128i x) {
    x = _mm_xor_si128(x, rk[0]);
#pragma GCC unroll 10
    for (int r = 1; r < 10; r++) x = _mm_aesenc_si128(x, rk[r]);
    return _mm_aesenclast_si128(x, rk[10]);
}

/* The 8 blocks of a chunk through all rounds, interleaved. */
AESNI static inline void encrypt8(const __m128i rk[11], const __m128i in[8], __m128i x[8]) {
#pragma GCC unroll 10
    for (int i = 0; i < 8; i++) x[i] = _mm_xor_si128(in[i], rk[0]);
#pragma GCC unroll 10
    for (int r = 1; r < 10; r++) {
        __m128i k = rk[r];
#pragma GCC unroll 10
        for (int i = 0; i < 8; i++) x[i] = _mm_aesenc_si128(x[i], k);
    }
#pragma GCC unroll 10
    for (int i = 0; i < 8; i++) x[i] = _mm_aesenclast_si128(x[i], rk[10]);
}

AESNI int sp_ecb_aesni(const uint8_t key[16], const uint8_t *in, uint8_t *out, size_t nblocks) {
    __m128i rk[11], b[8], x[8];
    expand(key, rk);
    size_t i = 0;
    for (; i + 8 <= nblocks; i += 8) {
#pragma GCC unroll 10
        for (int k = 0; k < 8; k++) b[k] = _mm_loadu_si128((const __m128i *)(const void *)(in + 16 * (i + (size_t)k)));
        encrypt8(rk, b, x);
#pragma GCC unroll 10
        for (int k = 0; k < 8; k++) _mm_storeu_si128((__m128i *)(void *)(out + 16 * (i + (size_t)k)), x[k]);
    }
    for (; i < nblocks; i++) {
        __m128i y = encrypt1(rk, _mm_loadu_si128((const __m128i *)(const void *)(in + 16 * i)));
        _mm_storeu_si128((__m128i *)(void *)(out + 16 * i), y);
    }
    return SP_OK;
}

/* Up to 8 lazy blocks, each with its own key, through the rounds together (short batches are padded
 * with copies of the first block so the loop keeps its fixed, unrolled shape). */
AESNI static void lazy8(sp_scan_ws *ws, size_t n, const uint32_t off[8], const uint8_t *const in[8], uint64_t out[8]) {
    const __m128i *rk[8];
    __m128i x[8];
#pragma GCC unroll 10
    for (size_t i = 0; i < 8; i++) {
        size_t k = i < n ? i : 0;
        rk[i] = sp_ws_lazy_sched(ws, off[k]);
        x[i] = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(const void *)in[k]), rk[i][0]);
    }
#pragma GCC unroll 10
    for (int r = 1; r < 10; r++)
#pragma GCC unroll 10
        for (int i = 0; i < 8; i++) x[i] = _mm_aesenc_si128(x[i], rk[i][r]);
    for (size_t i = 0; i < n; i++)
        out[i] = (uint64_t)_mm_cvtsi128_si64(_mm_aesenclast_si128(x[i], rk[i][10])) & SP_LSB_MASK;
}

/* Candidate bitmap of one stored 128-byte output: bit o set where byte o <= msb. */
AESNI static void masks128(const uint8_t out[128], uint8_t msb, uint64_t m[2]) {
    const __m128i dm = _mm_set1_epi8((char)msb);
    m[0] = m[1] = 0;
#pragma GCC unroll 10
    for (int k = 0; k < 8; k++) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(out + 16 * k));
        uint64_t bits = (uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_max_epu8(v, dm), dm));
        m[k / 4] |= bits << (16 * (k % 4));
    }
}

/* ~40% of the 8-block outputs hold a candidate at mainnet difficulty (msb 0), so a branch per group
 * would mispredict constantly: every group's output is stored, whether it holds a candidate (one
 * min across the 8 blocks, one compare, one movemask) is appended to a list without branching,
 * and only the listed groups are walked after the chunk. */
AESNI static int body128(sp_scan_job *job, sp_scan_ws *ws) {
    const __m128i dm = _mm_set1_epi8((char)(uint8_t)(job->difficulty >> 56));
    const __m128i(*sched)[11] = (const __m128i(*)[11])(const void *)ws->sched;
    __m128i b[8], x[8];
    for (size_t chunk = 0; chunk < job->nchunks; chunk++) {
        const uint8_t *in = job->labels + chunk * SP_CHUNK_BYTES;
#pragma GCC unroll 10
        for (int k = 0; k < 8; k++) b[k] = _mm_loadu_si128((const __m128i *)(const void *)(in + 16 * k));
        size_t nl = 0;
        for (uint32_t g = 0; g < job->ngroups; g++) {
            encrypt8(sched[g], b, x);
            uint8_t *out = ws->outs + SP_CHUNK_BYTES * (size_t)g;
#pragma GCC unroll 10
            for (int k = 0; k < 8; k++) _mm_storeu_si128((__m128i *)(void *)(out + 16 * k), x[k]);
            __m128i mn = _mm_min_epu8(_mm_min_epu8(_mm_min_epu8(x[0], x[1]), _mm_min_epu8(x[2], x[3])),
                                      _mm_min_epu8(_mm_min_epu8(x[4], x[5]), _mm_min_epu8(x[6], x[7])));
            ws->list[nl] = g; /* kept when max(min, msb) == msb somewhere, i.e. some byte <= msb */
            nl += _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_max_epu8(mn, dm), dm)) != 0;
        }
        int rc = sp_cands_add_listed(ws, chunk, nl, masks128);
        if (rc != SP_OK) return rc;
    }
    return sp_cands_flush(ws);
}

/* ---------------------------------------------------------------- VAES + AVX-512 variant
 * On CPUs with VAES and AVX-512BW (Zen 4/5, Ice Lake and later) one vaesenc on a zmm register runs
 * 4 blocks, so a chunk is 2 registers and 4 groups keep 8 in flight; the difficulty test is one
 * compare-into-mask per register. Same results as the 128-bit loop (the tests run both:
 * SMESHPOST_VAES=0 turns this variant off). */
#define VAES512 __attribute__((target("aes,vaes,avx512f,avx512bw")))

static int g_vaes512 = -1; /* -1 = not detected yet; detection is idempotent so races are benign */

static int vaes512_usable(void) {
    if (g_vaes512 >= 0) return g_vaes512;
    unsigned a, b, c, d;
    int ok = 0;
    const char *env = getenv("SMESHPOST_VAES");
    if (!(env && env[0] == '0') && __get_cpuid_max(0, 0) >= 7 && __get_cpuid(1, &a, &b, &c, &d) && (c >> 27) & 1) {
        uint32_t lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        __cpuid_count(7, 0, a, b, c, d);
        /* OS saves xmm/ymm/opmask/zmm state; AVX-512F (b16), AVX-512BW (b30), VAES (c9) */
        ok = (lo & 0xE6) == 0xE6 && (b >> 16 & 1) && (b >> 30 & 1) && (c >> 9 & 1);
    }
    return g_vaes512 = ok;
}

/* Groups g .. g + ng - 1 (ng <= 4) over the chunk's two registers; x[2q], x[2q + 1] = group g + q.
 * Always inlined with a literal ng and unrolled, so x lives in registers at any -O level. */
VAES512 __attribute__((always_inline)) static inline void encrypt_groups512(const __m128i (*sched)[11], uint32_t g,
                                                                            int ng, __m512i lo, __m512i hi,
                                                                            __m512i x[8]) {
#pragma GCC unroll 4
    for (int q = 0; q < ng; q++) {
        __m512i k = _mm512_broadcast_i32x4(sched[g + (uint32_t)q][0]);
        x[2 * q] = _mm512_xor_si512(lo, k);
        x[2 * q + 1] = _mm512_xor_si512(hi, k);
    }
#pragma GCC unroll 9
    for (int r = 1; r < 10; r++) {
#pragma GCC unroll 4
        for (int q = 0; q < ng; q++) {
            __m512i k = _mm512_broadcast_i32x4(sched[g + (uint32_t)q][r]);
            x[2 * q] = _mm512_aesenc_epi128(x[2 * q], k);
            x[2 * q + 1] = _mm512_aesenc_epi128(x[2 * q + 1], k);
        }
    }
#pragma GCC unroll 4
    for (int q = 0; q < ng; q++) {
        __m512i k = _mm512_broadcast_i32x4(sched[g + (uint32_t)q][10]);
        x[2 * q] = _mm512_aesenclast_epi128(x[2 * q], k);
        x[2 * q + 1] = _mm512_aesenclast_epi128(x[2 * q + 1], k);
    }
}

VAES512 static void masks512(const uint8_t out[128], uint8_t msb, uint64_t m[2]) {
    const __m512i dm = _mm512_set1_epi8((char)msb);
    m[0] = _mm512_cmple_epu8_mask(_mm512_loadu_si512((const void *)out), dm);
    m[1] = _mm512_cmple_epu8_mask(_mm512_loadu_si512((const void *)(out + 64)), dm);
}

/* Encrypts groups g .. g + NG - 1, stores their outputs and lists, without branching, those holding a
 * candidate byte; NG is a literal so x stays in registers. */
#define SCAN_GROUPS512(NG)                                                                                   \
    do {                                                                                                     \
        encrypt_groups512(sched, g, NG, lo, hi, x);                                                          \
        _Pragma("GCC unroll 4") for (int q = 0; q < NG; q++) {                                              \
            uint8_t *out = ws->outs + SP_CHUNK_BYTES * (size_t)(g + (uint32_t)q);                            \
            _mm512_storeu_si512((void *)out, x[2 * q]);                                                      \
            _mm512_storeu_si512((void *)(out + 64), x[2 * q + 1]);                                           \
            ws->list[nl] = g + (uint32_t)q;                                                                  \
            nl += (_mm512_cmple_epu8_mask(x[2 * q], dm) | _mm512_cmple_epu8_mask(x[2 * q + 1], dm)) != 0;    \
        }                                                                                                    \
    } while (0)

VAES512 static int body512(sp_scan_job *job, sp_scan_ws *ws) {
    const __m512i dm = _mm512_set1_epi8((char)(uint8_t)(job->difficulty >> 56));
    const __m128i(*sched)[11] = (const __m128i(*)[11])(const void *)ws->sched;
    __m512i x[8];
    for (size_t chunk = 0; chunk < job->nchunks; chunk++) {
        const uint8_t *in = job->labels + chunk * SP_CHUNK_BYTES;
        __m512i lo = _mm512_loadu_si512((const void *)in), hi = _mm512_loadu_si512((const void *)(in + 64));
        size_t nl = 0;
        uint32_t g = 0;
        for (; job->ngroups - g >= 4; g += 4) SCAN_GROUPS512(4);
        for (; g < job->ngroups; g++) SCAN_GROUPS512(1);
        int rc = sp_cands_add_listed(ws, chunk, nl, masks512);
        if (rc != SP_OK) return rc;
    }
    return sp_cands_flush(ws);
}

static int body(sp_scan_job *job, sp_scan_ws *ws) { return vaes512_usable() ? body512(job, ws) : body128(job, ws); }

static const sp_aes_impl AESNI_IMPL = {11 * sizeof(__m128i), expand, expand, lazy8, body, NULL};

int sp_scan_aesni(const uint8_t *keys, const uint8_t *lazy_keys, uint32_t first_group, uint32_t ngroups,
                  const uint8_t *labels, size_t nlabels, uint64_t base_index, uint64_t difficulty, sp_hit *hits,
                  size_t max_hits, size_t *nhits) {
    return sp_scan_run(&AESNI_IMPL, keys, lazy_keys, first_group, ngroups, labels, nlabels, base_index, difficulty,
                       hits, max_hits, nhits);
}
#endif
