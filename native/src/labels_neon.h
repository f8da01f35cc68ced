/*
 * labels_neon.h — the aarch64 NEON register operations of the label kernel (labels_lanes.h), shared
 * by labels_neon.c (4 labels, one register set) and labels_neon8.c (8 labels, two sets).
 * Rotate by 16 is one REV32.8H; the others are SHL + SRI (shift right and insert), two instructions.
 */
#ifndef SMESHPOST_LABELS_NEON_H
#define SMESHPOST_LABELS_NEON_H
#include <arm_neon.h>

typedef uint32x4_t vec1;
#define SP_LANES1 4
#define SP_TGT

static inline vec1 v1_load(const uint32_t *p) { return vld1q_u32(p); }
static inline void v1_store(uint32_t *p, vec1 x) { vst1q_u32(p, x); }
static inline vec1 v1_add(vec1 a, vec1 b) { return vaddq_u32(a, b); }
static inline vec1 v1_xor(vec1 a, vec1 b) { return veorq_u32(a, b); }
static inline vec1 v1_rotl16(vec1 x) { return vreinterpretq_u32_u16(vrev32q_u16(vreinterpretq_u16_u32(x))); }
static inline vec1 v1_rotl12(vec1 x) { return vsriq_n_u32(vshlq_n_u32(x, 12), x, 20); }
static inline vec1 v1_rotl8(vec1 x) { return vsriq_n_u32(vshlq_n_u32(x, 8), x, 24); }
static inline vec1 v1_rotl7(vec1 x) { return vsriq_n_u32(vshlq_n_u32(x, 7), x, 25); }

static inline void v1_transpose4(vec1 r[4]) {
    uint32x4_t t0 = vtrn1q_u32(r[0], r[1]), t1 = vtrn2q_u32(r[0], r[1]);
    uint32x4_t t2 = vtrn1q_u32(r[2], r[3]), t3 = vtrn2q_u32(r[2], r[3]);
    r[0] = vreinterpretq_u32_u64(vtrn1q_u64(vreinterpretq_u64_u32(t0), vreinterpretq_u64_u32(t2)));
    r[1] = vreinterpretq_u32_u64(vtrn1q_u64(vreinterpretq_u64_u32(t1), vreinterpretq_u64_u32(t3)));
    r[2] = vreinterpretq_u32_u64(vtrn2q_u64(vreinterpretq_u64_u32(t0), vreinterpretq_u64_u32(t2)));
    r[3] = vreinterpretq_u32_u64(vtrn2q_u64(vreinterpretq_u64_u32(t1), vreinterpretq_u64_u32(t3)));
}
static inline void v1_put(uint32_t *blk, int k, int m, vec1 r) { vst1q_u32(blk + m * 32 + k, r); }
static inline vec1 v1_get(const uint32_t *const *p, int k, int m) { return vld1q_u32(p[m] + k); }

#endif /* SMESHPOST_LABELS_NEON_H */
