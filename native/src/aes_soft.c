/*
 * aes_soft.c — portable constant-time AES-128 for the proving scan: 64-bit bitslicing of 4 blocks
 * per pass (aes_bitslice.h), no table indexed by secret data, constant-time key expansion.
 * Also home of the helpers the other files share: the constant-time key expansion and the
 * per-nonce lazy schedules used by the bitsliced implementations.
 */
#include <string.h>

#include "aes_common.h"

#define BS_T uint64_t
#include "aes_bitslice.h"

/* Byte k = 4c + r of block b must land at bit 16r + 4c + b of every plane (aes_bitslice.h). Before
 * bs_ortho() that is byte p = 2r + (c >> 1) of word j = 4(c & 1) + b: word b interleaves the block's
 * bytes 0..3 with 8..11, word b + 4 its bytes 4..7 with 12..15. */
static inline uint64_t spread32(uint32_t w) { /* byte t -> byte 2t */
    uint64_t x = w;
    x = (x | (x << 16)) & 0x0000FFFF0000FFFFull;
    return (x | (x << 8)) & 0x00FF00FF00FF00FFull;
}

static inline uint32_t compact32(uint64_t x) { /* byte 2t -> byte t, the inverse of spread32 */
    x &= 0x00FF00FF00FF00FFull;
    x = (x | (x >> 8)) & 0x0000FFFF0000FFFFull;
    return (uint32_t)(x | (x >> 16));
}

void sp_soft_gather4(const uint8_t *in, size_t nblocks, uint64_t x[8]) {
    for (size_t b = 0; b < 4; b++) {
        if (b >= nblocks) {
            x[b] = x[b + 4] = 0;
            continue;
        }
        const uint8_t *blk = in + 16 * b;
        x[b] = spread32(sp_load32_le(blk)) | (spread32(sp_load32_le(blk + 8)) << 8);
        x[b + 4] = spread32(sp_load32_le(blk + 4)) | (spread32(sp_load32_le(blk + 12)) << 8);
    }
}

void sp_soft_scatter4(const uint64_t x[8], uint8_t *out, size_t nblocks) {
    for (size_t b = 0; b < 4 && b < nblocks; b++) {
        uint8_t *blk = out + 16 * b;
        sp_store32_le(blk, compact32(x[b]));
        sp_store32_le(blk + 8, compact32(x[b] >> 8));
        sp_store32_le(blk + 4, compact32(x[b + 4]));
        sp_store32_le(blk + 12, compact32(x[b + 4] >> 8));
    }
}

static void pack4(const uint8_t *in, size_t nblocks, uint64_t q[8]) {
    sp_soft_gather4(in, nblocks, q);
    bs_ortho(q);
}

static void unpack4(uint64_t q[8], uint8_t *out, size_t nblocks) {
    bs_ortho(q);
    sp_soft_scatter4(q, out, nblocks);
}

/* SubWord on a 32-bit word through the bitsliced S-box: byte t of w is bit t of every plane. */
static uint32_t sub_word_ct(uint32_t w) {
    uint64_t q[8];
    for (int i = 0; i < 8; i++) {
        uint64_t plane = 0;
        for (int t = 0; t < 4; t++) plane |= (uint64_t)((w >> (8 * t + i)) & 1u) << t;
        q[i] = plane;
    }
    bs_sbox(q);
    uint32_t out = 0;
    for (int i = 0; i < 8; i++)
        for (int t = 0; t < 4; t++) out |= (uint32_t)((q[i] >> t) & 1u) << (8 * t + i);
    return out;
}

void sp_aes128_expand_ct(const uint8_t key[16], uint8_t rk[176]) {
    static const uint8_t rcon[10] = {0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0x1b, 0x36};
    uint32_t w[44];
    for (int i = 0; i < 4; i++) w[i] = sp_load32_le(key + 4 * i);
    for (int i = 4; i < 44; i++) {
        uint32_t t = w[i - 1];
        if (i % 4 == 0) t = sub_word_ct((t >> 8) | (t << 24)) ^ rcon[i / 4 - 1];
        w[i] = w[i - 4] ^ t;
    }
    for (int i = 0; i < 44; i++) sp_store32_le(rk + 4 * i, w[i]);
}

void sp_soft_schedule(const uint8_t key[16], void *sched) {
    uint64_t *sk = sched;
    uint8_t rk[176], four[64];
    sp_aes128_expand_ct(key, rk);
    for (int round = 0; round < 11; round++) {
        for (int b = 0; b < 4; b++) memcpy(four + 16 * b, rk + 16 * round, 16);
        pack4(four, 4, sk + 8 * round);
    }
}

void sp_soft_encrypt4(const uint64_t sk[SP_SOFT_SCHEDULE_WORDS], const uint8_t *in, uint8_t *out, size_t nblocks) {
    uint64_t q[8];
    pack4(in, nblocks, q);
    bs_encrypt(sk, q);
    unpack4(q, out, nblocks);
}

int sp_ecb_soft(const uint8_t key[16], const uint8_t *in, uint8_t *out, size_t nblocks) {
    uint64_t sk[SP_SOFT_SCHEDULE_WORDS];
    sp_soft_schedule(key, sk);
    for (size_t i = 0; i < nblocks; i += 4) {
        size_t n = nblocks - i < 4 ? nblocks - i : 4;
        sp_soft_encrypt4(sk, in + 16 * i, out + 16 * i, n);
    }
    return SP_OK;
}

/* ---------------------------------------------------------------- scan */

void sp_soft_lazy8(sp_scan_ws *ws, size_t n, const uint32_t nonce_off[8], const uint8_t *const in[8], uint64_t out[8]) {
    for (size_t i = 0; i < n; i++) {
        uint8_t d[16];
        sp_soft_encrypt4(sp_ws_lazy_sched(ws, nonce_off[i]), in[i], d, 1);
        out[i] = sp_load64_le(d) & SP_LSB_MASK;
    }
}

static void soft_encrypt8(const void *sched, const uint8_t in[128], uint8_t out[128]) {
    sp_soft_encrypt4(sched, in, out, 4);
    sp_soft_encrypt4(sched, in + 64, out + 64, 4);
}

static const sp_aes_impl SOFT = {SP_SOFT_SCHEDULE_WORDS * sizeof(uint64_t), sp_soft_schedule, sp_soft_schedule,
                                 sp_soft_lazy8, sp_scan_body_generic, soft_encrypt8};

int sp_scan_soft(const uint8_t *keys, const uint8_t *lazy_keys, uint32_t first_group, uint32_t ngroups,
                 const uint8_t *labels, size_t nlabels, uint64_t base_index, uint64_t difficulty, sp_hit *hits,
                 size_t max_hits, size_t *nhits) {
    return sp_scan_run(&SOFT, keys, lazy_keys, first_group, ngroups, labels, nlabels, base_index, difficulty, hits,
                       max_hits, nhits);
}
