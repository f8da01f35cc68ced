/*
 * aes_armce.c — the proving scan and AES-128-ECB with the ARMv8 Crypto Extensions (Pi 5 class:
 * Cortex-A76). Same shape as aes_aesni.c: the 8 blocks of a chunk go through AESE/AESMC together,
 * the difficulty test is a min across the 8 blocks and one across-vector min (UMINV) against msb;
 * groups with a byte <= msb are listed and handed to scan.c. Key expansion uses AESE as a constant-time
 * S-box. Compiled with a target attribute: the cffi build uses one flag set for every file.
 */
#include "aes_common.h"

#ifdef SP_AARCH64
#include <arm_neon.h>
#include <stdlib.h>

#define ARMCE __attribute__((target("+crypto")))

/* SubWord: AESE with a zero key on a vector of four copies of w (ShiftRows moves nothing then). */
ARMCE static uint32_t sub_word(uint32_t w) {
    uint8x16_t x = vaeseq_u8(vreinterpretq_u8_u32(vdupq_n_u32(w)), vdupq_n_u8(0));
    return vgetq_lane_u32(vreinterpretq_u32_u8(x), 0);
}

ARMCE static void expand(const uint8_t key[16], void *sched) {
    uint8x16_t *rk = sched;
    static const uint8_t rcon[10] = {0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0x1b, 0x36};
    uint32_t w[44];
    for (int i = 0; i < 4; i++) w[i] = sp_load32_le(key + 4 * i);
    for (int i = 4; i < 44; i++) {
        uint32_t t = w[i - 1];
        if (i % 4 == 0) t = sub_word((t >> 8) | (t << 24)) ^ rcon[i / 4 - 1];
        w[i] = w[i - 4] ^ t;
    }
    for (int r = 0; r < 11; r++) rk[r] = vreinterpretq_u8_u32(vld1q_u32(w + 4 * r));
}

ARMCE static inline uint8x16_t encrypt1(const uint8x16_t rk[11], uint8x16_t x) {
#pragma GCC unroll 10
    for (int r = 0; r < 9; r++) x = vaesmcq_u8(vaeseq_u8(x, rk[r]));
    return veorq_u8(vaeseq_u8(x, rk[9]), rk[10]);
}

ARMCE static inline void encrypt8(const uint8x16_t rk[11], const uint8x16_t in[8], uint8x16_t x[8]) {
#pragma GCC unroll 10
    for (int i = 0; i < 8; i++) x[i] = in[i];
#pragma GCC unroll 10
    for (int r = 0; r < 9; r++) {
        uint8x16_t k = rk[r];
#pragma GCC unroll 10
        for (int i = 0; i < 8; i++) x[i] = vaesmcq_u8(vaeseq_u8(x[i], k));
    }
#pragma GCC unroll 10
    for (int i = 0; i < 8; i++) x[i] = veorq_u8(vaeseq_u8(x[i], rk[9]), rk[10]);
}

ARMCE int sp_ecb_armce(const uint8_t key[16], const uint8_t *in, uint8_t *out, size_t nblocks) {
    uint8x16_t rk[11], b[8], x[8];
    expand(key, rk);
    size_t i = 0;
    for (; i + 8 <= nblocks; i += 8) {
#pragma GCC unroll 10
        for (int k = 0; k < 8; k++) b[k] = vld1q_u8(in + 16 * (i + (size_t)k));
        encrypt8(rk, b, x);
#pragma GCC unroll 10
        for (int k = 0; k < 8; k++) vst1q_u8(out + 16 * (i + (size_t)k), x[k]);
    }
    for (; i < nblocks; i++) vst1q_u8(out + 16 * i, encrypt1(rk, vld1q_u8(in + 16 * i)));
    return SP_OK;
}

/* Up to 8 lazy blocks, each with its own key, through the rounds together (short batches are padded
 * with copies of the first block so the loop keeps its fixed, unrolled shape). */
ARMCE static void lazy8(sp_scan_ws *ws, size_t n, const uint32_t off[8], const uint8_t *const in[8], uint64_t out[8]) {
    const uint8x16_t *rk[8];
    uint8x16_t x[8];
#pragma GCC unroll 10
    for (size_t i = 0; i < 8; i++) {
        size_t k = i < n ? i : 0;
        rk[i] = sp_ws_lazy_sched(ws, off[k]);
        x[i] = vld1q_u8(in[k]);
    }
#pragma GCC unroll 10
    for (int r = 0; r < 9; r++)
#pragma GCC unroll 10
        for (int i = 0; i < 8; i++) x[i] = vaesmcq_u8(vaeseq_u8(x[i], rk[i][r]));
    for (size_t i = 0; i < n; i++)
        out[i] = vgetq_lane_u64(vreinterpretq_u64_u8(veorq_u8(vaeseq_u8(x[i], rk[i][9]), rk[i][10])), 0) & SP_LSB_MASK;
}

/* Candidate bitmap of one stored 128-byte output: bit o set where byte o <= msb (a movemask: weight
 * each lane's compare result by its bit and add up each half). */
ARMCE static void masks128(const uint8_t out[128], uint8_t msb, uint64_t m[2]) {
    static const uint8_t w[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    const uint8x16_t weights = vld1q_u8(w), dm = vdupq_n_u8(msb);
    m[0] = m[1] = 0;
#pragma GCC unroll 10
    for (int k = 0; k < 8; k++) {
        uint8x16_t w8 = vandq_u8(vcleq_u8(vld1q_u8(out + 16 * k), dm), weights);
        uint64_t bits = vaddv_u8(vget_low_u8(w8)) | ((uint64_t)vaddv_u8(vget_high_u8(w8)) << 8);
        m[k / 4] |= bits << (16 * (k % 4));
    }
}

/* ~40% of the 8-block outputs hold a candidate at mainnet difficulty (msb 0), so a branch per group
 * would mispredict constantly: every group's output is stored, whether it holds a candidate (a min
 * across the 8 blocks and one UMINV) is appended to a list without branching, and only the listed
 * groups are walked after the chunk. */
ARMCE static int body(sp_scan_job *job, sp_scan_ws *ws) {
    const uint8_t msb = (uint8_t)(job->difficulty >> 56);
    const uint8x16_t(*sched)[11] = (const uint8x16_t(*)[11])(const void *)ws->sched;
    uint8x16_t b[8], x[8];
    for (size_t chunk = 0; chunk < job->nchunks; chunk++) {
        const uint8_t *in = job->labels + chunk * SP_CHUNK_BYTES;
#pragma GCC unroll 10
        for (int k = 0; k < 8; k++) b[k] = vld1q_u8(in + 16 * k);
        size_t nl = 0;
        for (uint32_t g = 0; g < job->ngroups; g++) {
            encrypt8(sched[g], b, x);
            uint8_t *out = ws->outs + SP_CHUNK_BYTES * (size_t)g;
#pragma GCC unroll 10
            for (int k = 0; k < 8; k++) vst1q_u8(out + 16 * k, x[k]);
            uint8x16_t mn = vminq_u8(vminq_u8(vminq_u8(x[0], x[1]), vminq_u8(x[2], x[3])),
                                     vminq_u8(vminq_u8(x[4], x[5]), vminq_u8(x[6], x[7])));
            ws->list[nl] = g;
            nl += vminvq_u8(mn) <= msb;
        }
        int rc = sp_cands_add_listed(ws, chunk, nl, masks128);
        if (rc != SP_OK) return rc;
    }
    return sp_cands_flush(ws);
}

static const sp_aes_impl ARMCE_IMPL = {11 * sizeof(uint8x16_t), expand, expand, lazy8, body, NULL};

int sp_scan_armce(const uint8_t *keys, const uint8_t *lazy_keys, uint32_t first_group, uint32_t ngroups,
                  const uint8_t *labels, size_t nlabels, uint64_t base_index, uint64_t difficulty, sp_hit *hits,
                  size_t max_hits, size_t *nhits) {
    return sp_scan_run(&ARMCE_IMPL, keys, lazy_keys, first_group, ngroups, labels, nlabels, base_index, difficulty,
                       hits, max_hits, nhits);
}
#endif
