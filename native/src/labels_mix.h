/*
 * labels_mix.h — ChaCha20/8 and the r = 1 BlockMix on SP_G register sets in lockstep, included by
 * labels_lanes.h once per SP_G (1, 2) so both variants come from one text. Not a standalone header.
 */
#define SP_MIX_CAT2(a, b) a##_##b
#define SP_MIX_CAT(a, b) SP_MIX_CAT2(a, b)
#define SP_CHACHA SP_MIX_CAT(sp_chacha8, SP_G)
#define SP_BLOCKMIX SP_MIX_CAT(sp_blockmix, SP_G)

SP_TGT static inline void SP_CHACHA(vec1 x[SP_G][16]) {
    vec1 in[SP_G][16];
    for (int g = 0; g < SP_G; g++)
        for (int i = 0; i < 16; i++) in[g][i] = x[g][i];
#define SP_QR(a, b, c, d)                                                                                   \
    for (int g = 0; g < SP_G; g++) {                                                                        \
        vec1 *y = x[g];                                                                                     \
        y[a] = v1_add(y[a], y[b]); y[d] = v1_rotl16(v1_xor(y[d], y[a]));                                  \
        y[c] = v1_add(y[c], y[d]); y[b] = v1_rotl12(v1_xor(y[b], y[c]));                                  \
        y[a] = v1_add(y[a], y[b]); y[d] = v1_rotl8(v1_xor(y[d], y[a]));                                   \
        y[c] = v1_add(y[c], y[d]); y[b] = v1_rotl7(v1_xor(y[b], y[c]));                                   \
    }
#pragma GCC unroll 4
    for (int round = 0; round < 8; round += 2) {
        SP_QR(0, 4, 8, 12) SP_QR(1, 5, 9, 13) SP_QR(2, 6, 10, 14) SP_QR(3, 7, 11, 15)
        SP_QR(0, 5, 10, 15) SP_QR(1, 6, 11, 12) SP_QR(2, 7, 8, 13) SP_QR(3, 4, 9, 14)
    }
#undef SP_QR
    for (int g = 0; g < SP_G; g++)
        for (int i = 0; i < 16; i++) x[g][i] = v1_add(x[g][i], in[g][i]);
}

/* BlockMix with r = 1: Y0 = H(B1 ^ B0), Y1 = H(Y0 ^ B1); the output order (even, odd) is B = Y0 || Y1. */
SP_TGT static inline void SP_BLOCKMIX(vec1 b[SP_G][32]) {
    vec1 x[SP_G][16];
    for (int g = 0; g < SP_G; g++)
        for (int i = 0; i < 16; i++) x[g][i] = v1_xor(b[g][16 + i], b[g][i]);
    SP_CHACHA(x);
    for (int g = 0; g < SP_G; g++)
        for (int i = 0; i < 16; i++) {
            b[g][i] = x[g][i];
            x[g][i] = v1_xor(x[g][i], b[g][16 + i]);
        }
    SP_CHACHA(x);
    for (int g = 0; g < SP_G; g++)
        for (int i = 0; i < 16; i++) b[g][16 + i] = x[g][i];
}

#undef SP_CHACHA
#undef SP_BLOCKMIX
#undef SP_MIX_CAT
#undef SP_MIX_CAT2
