/*
 * aes_neon.c — constant-time AES-128 for aarch64 CPUs without AES instructions (the Pi 4's
 * Cortex-A72): bitsliced on 128-bit NEON vectors, 8 blocks per pass = one post-rs chunk.
 *
 * Layout (Käsper–Schwabe style): after the 8x8 bit transpose of the 8 loaded blocks, plane q[i]
 * holds bit i of every state byte, byte p of the plane being state byte p and bit j of it block j.
 * ShiftRows is then one TBL per plane, the MixColumns row rotations are one TBL (by one row) and
 * one REV32 on 16-bit halves (by two rows), and loading needs no byte gather at all. The S-box is
 * the shared Boyar–Peralta circuit (aes_bitslice.h). No table lookups indexed by data or key, no
 * data-dependent branches. The rare lazy single-block checks use the scalar 4-block core.
 */
#include "aes_common.h"

#ifdef SP_AARCH64
#include <arm_neon.h>
#include <string.h>

typedef uint64_t v2u64 __attribute__((vector_size(16)));

/* new byte p = old byte SHIFT_ROWS[p] (state byte p = column p / 4, row p % 4) */
static const uint8_t SHIFT_ROWS[16] = {0, 5, 10, 15, 4, 9, 14, 3, 8, 13, 2, 7, 12, 1, 6, 11};
/* row r of each column receives row r + 1 */
static const uint8_t ROW_PLUS_1[16] = {1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12};

static inline v2u64 permute(v2u64 x, const uint8_t idx[16]) {
    return (v2u64)vqtbl1q_u8((uint8x16_t)x, vld1q_u8(idx));
}

#define BS_T v2u64
#define BS_SHIFT_ROWS(x) permute((x), SHIFT_ROWS)
#define BS_ROW_PLUS_1(x) permute((x), ROW_PLUS_1)
#define BS_ROW_PLUS_2(x) ((v2u64)vrev32q_u16((uint16x8_t)(x))) /* swap the 16-bit halves of each column */
#include "aes_bitslice.h"

#define NEON_SCHEDULE_PLANES 88 /* 11 round keys x 8 planes */

/* Round key planes: byte p of plane i is 0xFF when bit i of round-key byte p is set (all 8 blocks). */
static void neon_schedule(const uint8_t key[16], void *sched) {
    uint8_t rk[176], plane[16];
    v2u64 *sk = sched;
    sp_aes128_expand_ct(key, rk);
    for (int round = 0; round < 11; round++)
        for (int i = 0; i < 8; i++) {
            for (int p = 0; p < 16; p++) plane[p] = (uint8_t)(0u - ((rk[16 * round + p] >> i) & 1u));
            memcpy(&sk[8 * round + i], plane, 16);
        }
}

static void neon_encrypt8(const void *sched, const uint8_t in[128], uint8_t out[128]) {
    v2u64 q[8];
    for (int j = 0; j < 8; j++) q[j] = (v2u64)vld1q_u8(in + 16 * j);
    bs_ortho(q);
    bs_encrypt(sched, q);
    bs_ortho(q);
    for (int j = 0; j < 8; j++) vst1q_u8(out + 16 * j, (uint8x16_t)q[j]);
}

int sp_ecb_neon(const uint8_t key[16], const uint8_t *in, uint8_t *out, size_t nblocks) {
    v2u64 sk[NEON_SCHEDULE_PLANES];
    neon_schedule(key, sk);
    size_t i = 0;
    for (; i + 8 <= nblocks; i += 8) neon_encrypt8(sk, in + 16 * i, out + 16 * i);
    if (i < nblocks) { /* tail: pad to a whole pass */
        uint8_t buf[SP_CHUNK_BYTES] = {0};
        memcpy(buf, in + 16 * i, 16 * (nblocks - i));
        neon_encrypt8(sk, buf, buf);
        memcpy(out + 16 * i, buf, 16 * (nblocks - i));
    }
    return SP_OK;
}

/* Lazy slots hold the scalar schedule (it fits the slot): single blocks go through the 4-wide core. */
static const sp_aes_impl NEON = {NEON_SCHEDULE_PLANES * sizeof(v2u64), neon_schedule, sp_soft_schedule,
                                 sp_soft_lazy8, sp_scan_body_generic, neon_encrypt8};

int sp_scan_neon(const uint8_t *keys, const uint8_t *lazy_keys, uint32_t first_group, uint32_t ngroups,
                 const uint8_t *labels, size_t nlabels, uint64_t base_index, uint64_t difficulty, sp_hit *hits,
                 size_t max_hits, size_t *nhits) {
    return sp_scan_run(&NEON, keys, lazy_keys, first_group, ngroups, labels, nlabels, base_index, difficulty, hits,
                       max_hits, nhits);
}
#endif
