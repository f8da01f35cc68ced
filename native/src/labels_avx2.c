/*
 * labels_avx2.c — ROMix for x86-64 AVX2: 8 labels per __m256i, lane = label (labels_lanes.h).
 * Rotations by 16 and 8 are one byte shuffle; 12 and 7 are shift/or (no vprold without AVX-512).
 * The 4x4 transposes work within each 128-bit half: lanes 0-3 low, lanes 4-7 high.
 * One register set: a second one (16 labels, 16 MiB of V per thread at N=8192) spills out of a
 * core's share of L3 here and measured slower (2780 vs 2950 labels/s, same run).
 */
#include "internal.h"
#ifdef SP_X86_64
#include <immintrin.h>

typedef __m256i vec1;
#define SP_LANES1 8
#define SP_SETS 1
#define SP_TGT __attribute__((target("avx2")))
#define SP_LANES_FN sp_labels_avx2

SP_TGT static inline vec1 v1_load(const uint32_t *p) { return _mm256_load_si256((const __m256i *)p); }
SP_TGT static inline void v1_store(uint32_t *p, vec1 x) { _mm256_store_si256((__m256i *)p, x); }
SP_TGT static inline vec1 v1_add(vec1 a, vec1 b) { return _mm256_add_epi32(a, b); }
SP_TGT static inline vec1 v1_xor(vec1 a, vec1 b) { return _mm256_xor_si256(a, b); }
SP_TGT static inline vec1 v1_rotl16(vec1 x) {
    const vec1 rot16 = _mm256_setr_epi8(2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13,
                                       2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13);
    return _mm256_shuffle_epi8(x, rot16);
}
SP_TGT static inline vec1 v1_rotl8(vec1 x) {
    const vec1 rot8 = _mm256_setr_epi8(3, 0, 1, 2, 7, 4, 5, 6, 11, 8, 9, 10, 15, 12, 13, 14,
                                      3, 0, 1, 2, 7, 4, 5, 6, 11, 8, 9, 10, 15, 12, 13, 14);
    return _mm256_shuffle_epi8(x, rot8);
}
SP_TGT static inline vec1 v1_rotl12(vec1 x) { return _mm256_or_si256(_mm256_slli_epi32(x, 12), _mm256_srli_epi32(x, 20)); }
SP_TGT static inline vec1 v1_rotl7(vec1 x) { return _mm256_or_si256(_mm256_slli_epi32(x, 7), _mm256_srli_epi32(x, 25)); }

SP_TGT static inline void v1_transpose4(vec1 r[4]) {
    vec1 t0 = _mm256_unpacklo_epi32(r[0], r[1]), t1 = _mm256_unpacklo_epi32(r[2], r[3]);
    vec1 t2 = _mm256_unpackhi_epi32(r[0], r[1]), t3 = _mm256_unpackhi_epi32(r[2], r[3]);
    r[0] = _mm256_unpacklo_epi64(t0, t1);
    r[1] = _mm256_unpackhi_epi64(t0, t1);
    r[2] = _mm256_unpacklo_epi64(t2, t3);
    r[3] = _mm256_unpackhi_epi64(t2, t3);
}
SP_TGT static inline void v1_put(uint32_t *blk, int k, int m, vec1 r) {
    _mm_store_si128((__m128i *)(blk + m * 32 + k), _mm256_castsi256_si128(r));
    _mm_store_si128((__m128i *)(blk + (m + 4) * 32 + k), _mm256_extracti128_si256(r, 1));
}
SP_TGT static inline vec1 v1_get(const uint32_t *const *p, int k, int m) {
    __m128i lo = _mm_load_si128((const __m128i *)(p[m] + k));
    __m128i hi = _mm_load_si128((const __m128i *)(p[m + 4] + k));
    return _mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1);
}

#include "labels_lanes.h"
#endif
