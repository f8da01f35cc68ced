/*
 * labels_portable.c — ROMix for any CPU: the lane kernel of labels_lanes.h with one 32-bit lane,
 * plus the general-r scrypt-jane ROMix behind sp_scrypt_jane (vectors and self-tests only).
 */
#include "labels_impl.h"

typedef uint32_t vec1;
#define SP_LANES1 1
#define SP_SETS 1
#define SP_TGT
#define SP_LANES_FN sp_labels_portable

static inline vec1 v1_load(const uint32_t *p) { return *p; }
static inline void v1_store(uint32_t *p, vec1 x) { *p = x; }
static inline vec1 v1_add(vec1 a, vec1 b) { return a + b; }
static inline vec1 v1_xor(vec1 a, vec1 b) { return a ^ b; }
#define SP_ROTL(x, c) (((x) << (c)) | ((x) >> (32 - (c))))
static inline vec1 v1_rotl16(vec1 x) { return SP_ROTL(x, 16); }
static inline vec1 v1_rotl12(vec1 x) { return SP_ROTL(x, 12); }
static inline vec1 v1_rotl8(vec1 x) { return SP_ROTL(x, 8); }
static inline vec1 v1_rotl7(vec1 x) { return SP_ROTL(x, 7); }
static inline void v1_transpose4(vec1 r[4]) { (void)r; }
static inline void v1_put(uint32_t *blk, int k, int m, vec1 r) { blk[k + m] = r; }
static inline vec1 v1_get(const uint32_t *const *p, int k, int m) { return p[0][k + m]; }

#include "labels_lanes.h"

/* scrypt BlockMix for any r (scrypt-jane's scrypt_ChunkMix): out block i goes to (i / 2) + (i odd) * r. */
static void blockmix_general(const uint32_t *in, uint32_t *out, uint32_t r) {
    uint32_t x[1][16]; /* one register set of the one-lane kernel */
    memcpy(x[0], in + (2 * r - 1) * 16, sizeof x[0]);
    for (uint32_t i = 0; i < 2 * r; i++) {
        for (int w = 0; w < 16; w++) x[0][w] ^= in[i * 16 + w];
        sp_chacha8_1(x);
        memcpy(out + ((i / 2) + (i & 1) * r) * 16, x[0], sizeof x[0]);
    }
}

void sp_romix_general(uint32_t *b, uint32_t r, uint32_t n, uint32_t *v, uint32_t *tmp) {
    const size_t words = (size_t)32 * r;
    for (uint32_t i = 0; i < n; i++) {
        memcpy(v + i * words, b, words * sizeof *b);
        blockmix_general(v + i * words, b, r);
    }
    for (uint32_t i = 0; i < n; i++) {
        const uint32_t *vj = v + (b[words - 16] & (n - 1)) * words;
        for (size_t w = 0; w < words; w++) tmp[w] = b[w] ^ vj[w];
        blockmix_general(tmp, b, r);
    }
}
