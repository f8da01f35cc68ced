/*
 * labels_sse2.c — ROMix for x86-64 SSE2: 4 labels per __m128i, lane = label (labels_lanes.h),
 * plus a fifth label in plain 32-bit registers computed alongside: the SSE2 ChaCha code keeps the
 * vector pipes busy and leaves the scalar ALUs idle, so the extra lane is nearly free (measured
 * here: 1451 -> 1578 labels/s; two 4-lane register sets instead gave 1458).
 * SSE2 has no byte shuffle, so rotations are shift/or except 16 (a 16-bit word swap).
 */
#include "internal.h"
#ifdef SP_X86_64
#include <emmintrin.h>

typedef struct {
    __m128i v; /* lanes 0-3 */
    uint32_t s; /* lane 4, on the scalar ALUs the SSE2 code leaves idle */
} vec1;
#define SP_LANES1 5
#define SP_SETS 1
#define SP_TGT __attribute__((target("sse2")))
#define SP_LANES_FN sp_labels_sse2
#define SP_ROT(x, c) (((x) << (c)) | ((x) >> (32 - (c))))

SP_TGT static inline vec1 v1_load(const uint32_t *p) { return (vec1){_mm_load_si128((const __m128i *)p), p[4]}; }
SP_TGT static inline void v1_store(uint32_t *p, vec1 x) { _mm_store_si128((__m128i *)p, x.v); p[4] = x.s; }
SP_TGT static inline vec1 v1_add(vec1 a, vec1 b) { return (vec1){_mm_add_epi32(a.v, b.v), a.s + b.s}; }
SP_TGT static inline vec1 v1_xor(vec1 a, vec1 b) { return (vec1){_mm_xor_si128(a.v, b.v), a.s ^ b.s}; }
SP_TGT static inline vec1 v1_rotl16(vec1 x) {
    return (vec1){_mm_shufflehi_epi16(_mm_shufflelo_epi16(x.v, 0xb1), 0xb1), SP_ROT(x.s, 16)};
}
SP_TGT static inline vec1 v1_rotl12(vec1 x) {
    return (vec1){_mm_or_si128(_mm_slli_epi32(x.v, 12), _mm_srli_epi32(x.v, 20)), SP_ROT(x.s, 12)};
}
SP_TGT static inline vec1 v1_rotl8(vec1 x) {
    return (vec1){_mm_or_si128(_mm_slli_epi32(x.v, 8), _mm_srli_epi32(x.v, 24)), SP_ROT(x.s, 8)};
}
SP_TGT static inline vec1 v1_rotl7(vec1 x) {
    return (vec1){_mm_or_si128(_mm_slli_epi32(x.v, 7), _mm_srli_epi32(x.v, 25)), SP_ROT(x.s, 7)};
}

/* Transposes the four vector lanes only: lane 4's word k+m stays in r[m].s. */
SP_TGT static inline void v1_transpose4(vec1 r[4]) {
    __m128i t0 = _mm_unpacklo_epi32(r[0].v, r[1].v), t1 = _mm_unpacklo_epi32(r[2].v, r[3].v);
    __m128i t2 = _mm_unpackhi_epi32(r[0].v, r[1].v), t3 = _mm_unpackhi_epi32(r[2].v, r[3].v);
    r[0].v = _mm_unpacklo_epi64(t0, t1);
    r[1].v = _mm_unpackhi_epi64(t0, t1);
    r[2].v = _mm_unpacklo_epi64(t2, t3);
    r[3].v = _mm_unpackhi_epi64(t2, t3);
}
SP_TGT static inline void v1_put(uint32_t *blk, int k, int m, vec1 r) {
    _mm_store_si128((__m128i *)(blk + m * 32 + k), r.v);
    blk[4 * 32 + k + m] = r.s;
}
SP_TGT static inline vec1 v1_get(const uint32_t *const *p, int k, int m) {
    return (vec1){_mm_load_si128((const __m128i *)(p[m] + k)), p[4][k + m]};
}

#include "labels_lanes.h"
#endif
