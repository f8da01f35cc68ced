/*
 * aes_bitslice.h — constant-time bitsliced AES-128 encryption rounds, written once for any "word"
 * type BS_T that supports ^ & | ~ and shifts by constants: uint64_t (aes_soft.c, 4 blocks per
 * pass) or a GCC vector of two uint64_t (aes_neon.c, 8 blocks per pass, one 4-block set per lane).
 * Include it after defining BS_T; every function is static, so each includer gets its own copy.
 *
 * Default layout (our own, in the spirit of the 64-bit "ct64" bitslicing): plane q[i] holds bit i of
 * every state byte; within a 64-bit word, the byte at row r, column c of block b (0..3) is bit
 * 16*r + 4*c + b. ShiftRows is then a rotation inside each 16-bit row field and MixColumns needs
 * only rotations of the whole word by 16 and 32 bits. An includer with another layout defines
 * BS_SHIFT_ROWS / BS_ROW_PLUS_1 / BS_ROW_PLUS_2 first. No memory access depends on data or key.
 */
#ifndef SP_AES_BITSLICE_H
#define SP_AES_BITSLICE_H

#ifndef BS_T
#error "define BS_T before including aes_bitslice.h"
#endif

/* The AES S-box on all 8 planes: the Boyar–Peralta depth-16 circuit (ePrint 2011/332, figures 5, 7
 * and 8: 32 AND, 83 XOR/XNOR). u0 is the most significant input bit (plane 7), s0 the most
 * significant output bit. */
static inline void bs_sbox(BS_T q[8]) {
    BS_T u0 = q[7], u1 = q[6], u2 = q[5], u3 = q[4], u4 = q[3], u5 = q[2], u6 = q[1], u7 = q[0];
    BS_T t1 = u0 ^ u3, t2 = u0 ^ u5, t3 = u0 ^ u6, t4 = u3 ^ u5, t5 = u4 ^ u6;
    BS_T t6 = t1 ^ t5, t7 = u1 ^ u2, t8 = u7 ^ t6, t9 = u7 ^ t7, t10 = t6 ^ t7;
    BS_T t11 = u1 ^ u5, t12 = u2 ^ u5, t13 = t3 ^ t4, t14 = t6 ^ t11, t15 = t5 ^ t11;
    BS_T t16 = t5 ^ t12, t17 = t9 ^ t16, t18 = u3 ^ u7, t19 = t7 ^ t18, t20 = t1 ^ t19;
    BS_T t21 = u6 ^ u7, t22 = t7 ^ t21, t23 = t2 ^ t22, t24 = t2 ^ t10, t25 = t20 ^ t17;
    BS_T t26 = t3 ^ t16, t27 = t1 ^ t12, d = u7;

    BS_T m1 = t13 & t6, m2 = t23 & t8, m3 = t14 ^ m1, m4 = t19 & d, m5 = m4 ^ m1;
    BS_T m6 = t3 & t16, m7 = t22 & t9, m8 = t26 ^ m6, m9 = t20 & t17, m10 = m9 ^ m6;
    BS_T m11 = t1 & t15, m12 = t4 & t27, m13 = m12 ^ m11, m14 = t2 & t10, m15 = m14 ^ m11;
    BS_T m16 = m3 ^ m2, m17 = m5 ^ t24, m18 = m8 ^ m7, m19 = m10 ^ m15, m20 = m16 ^ m13;
    BS_T m21 = m17 ^ m15, m22 = m18 ^ m13, m23 = m19 ^ t25, m24 = m22 ^ m23, m25 = m22 & m20;
    BS_T m26 = m21 ^ m25, m27 = m20 ^ m21, m28 = m23 ^ m25, m29 = m28 & m27, m30 = m26 & m24;
    BS_T m31 = m20 & m23, m32 = m27 & m31, m33 = m27 ^ m25, m34 = m21 & m22, m35 = m24 & m34;
    BS_T m36 = m24 ^ m25, m37 = m21 ^ m29, m38 = m32 ^ m33, m39 = m23 ^ m30, m40 = m35 ^ m36;
    BS_T m41 = m38 ^ m40, m42 = m37 ^ m39, m43 = m37 ^ m38, m44 = m39 ^ m40, m45 = m42 ^ m41;
    BS_T m46 = m44 & t6, m47 = m40 & t8, m48 = m39 & d, m49 = m43 & t16, m50 = m38 & t9;
    BS_T m51 = m37 & t17, m52 = m42 & t15, m53 = m45 & t27, m54 = m41 & t10, m55 = m44 & t13;
    BS_T m56 = m40 & t23, m57 = m39 & t19, m58 = m43 & t3, m59 = m38 & t22, m60 = m37 & t20;
    BS_T m61 = m42 & t1, m62 = m45 & t4, m63 = m41 & t2;

    BS_T l0 = m61 ^ m62, l1 = m50 ^ m56, l2 = m46 ^ m48, l3 = m47 ^ m55, l4 = m54 ^ m58;
    BS_T l5 = m49 ^ m61, l6 = m62 ^ l5, l7 = m46 ^ l3, l8 = m51 ^ m59, l9 = m52 ^ m53;
    BS_T l10 = m53 ^ l4, l11 = m60 ^ l2, l12 = m48 ^ m51, l13 = m50 ^ l0, l14 = m52 ^ m61;
    BS_T l15 = m55 ^ l1, l16 = m56 ^ l0, l17 = m57 ^ l1, l18 = m58 ^ l8, l19 = m63 ^ l4;
    BS_T l20 = l0 ^ l1, l21 = l1 ^ l7, l22 = l3 ^ l12, l23 = l18 ^ l2, l24 = l15 ^ l9;
    BS_T l25 = l6 ^ l10, l26 = l7 ^ l9, l27 = l8 ^ l10, l28 = l11 ^ l14, l29 = l11 ^ l17;

    q[7] = l6 ^ l24;
    q[6] = ~(l16 ^ l26);
    q[5] = ~(l19 ^ l28);
    q[4] = l6 ^ l21;
    q[3] = l20 ^ l22;
    q[2] = l25 ^ l29;
    q[1] = ~(l13 ^ l27);
    q[0] = ~(l6 ^ l23);
}

/* Row r (bits 16r..16r+15) rotates left by r columns: new column c = old column c + r (mod 4). */
static inline BS_T bs_shift_rows1(BS_T x) {
    return (x & 0x000000000000FFFFull) | ((x >> 4) & 0x000000000FFF0000ull) | ((x << 12) & 0x00000000F0000000ull) |
           ((x >> 8) & 0x000000FF00000000ull) | ((x << 8) & 0x0000FF0000000000ull) |
           ((x << 4) & 0xFFF0000000000000ull) | ((x >> 12) & 0x000F000000000000ull);
}

static inline BS_T bs_rot16(BS_T x) { return (x >> 16) | (x << 48); } /* row r receives row r + 1 */
static inline BS_T bs_rot32(BS_T x) { return (x >> 32) | (x << 32); } /* row r receives row r + 2 */

/* The three layout-dependent moves; an includer with another layout defines its own first. */
#ifndef BS_SHIFT_ROWS
#define BS_SHIFT_ROWS(x) bs_shift_rows1(x)
#endif
#ifndef BS_ROW_PLUS_1
#define BS_ROW_PLUS_1(x) bs_rot16(x)
#endif
#ifndef BS_ROW_PLUS_2
#define BS_ROW_PLUS_2(x) bs_rot32(x)
#endif

/* s'_r = 2·(s_r ^ s_{r+1}) ^ s_{r+1} ^ s_{r+2} ^ s_{r+3}; doubling in GF(2^8) moves plane i to
 * plane i+1 and folds plane 7 into planes 0, 1, 3, 4 (x^8 = x^4 + x^3 + x + 1). */
static inline void bs_mix_columns(BS_T q[8]) {
    BS_T r[8], t[8];
    for (int i = 0; i < 8; i++) {
        r[i] = BS_ROW_PLUS_1(q[i]);
        t[i] = q[i] ^ r[i];
    }
    q[0] = t[7] ^ r[0] ^ BS_ROW_PLUS_2(t[0]);
    q[1] = t[0] ^ t[7] ^ r[1] ^ BS_ROW_PLUS_2(t[1]);
    q[2] = t[1] ^ r[2] ^ BS_ROW_PLUS_2(t[2]);
    q[3] = t[2] ^ t[7] ^ r[3] ^ BS_ROW_PLUS_2(t[3]);
    q[4] = t[3] ^ t[7] ^ r[4] ^ BS_ROW_PLUS_2(t[4]);
    q[5] = t[4] ^ r[5] ^ BS_ROW_PLUS_2(t[5]);
    q[6] = t[5] ^ r[6] ^ BS_ROW_PLUS_2(t[6]);
    q[7] = t[6] ^ r[7] ^ BS_ROW_PLUS_2(t[7]);
}

/* 8x8 bit-matrix transpose between "word j holds 8 bytes" and "plane i holds bit i"; an involution. */
static inline void bs_ortho(BS_T q[8]) {
    static const unsigned long long m1 = 0x5555555555555555ull, m2 = 0x3333333333333333ull,
                                    m4 = 0x0F0F0F0F0F0F0F0Full;
    for (int i = 0; i < 8; i += 2) {
        BS_T a = q[i], b = q[i + 1];
        q[i] = (a & m1) | ((b & m1) << 1);
        q[i + 1] = ((a >> 1) & m1) | (b & (m1 << 1));
    }
    for (int i = 0; i < 8; i += 4)
        for (int k = 0; k < 2; k++) {
            BS_T a = q[i + k], b = q[i + k + 2];
            q[i + k] = (a & m2) | ((b & m2) << 2);
            q[i + k + 2] = ((a >> 2) & m2) | (b & (m2 << 2));
        }
    for (int k = 0; k < 4; k++) {
        BS_T a = q[k], b = q[k + 4];
        q[k] = (a & m4) | ((b & m4) << 4);
        q[k + 4] = ((a >> 4) & m4) | (b & (m4 << 4));
    }
}

/* AES-128 encryption of the sliced state with 11 sliced round keys sk[round * 8 + plane]. */
static inline void bs_encrypt(const BS_T *sk, BS_T q[8]) {
    for (int i = 0; i < 8; i++) q[i] ^= sk[i];
    for (int round = 1; round < 10; round++) {
        bs_sbox(q);
        for (int i = 0; i < 8; i++) q[i] = BS_SHIFT_ROWS(q[i]);
        bs_mix_columns(q);
        for (int i = 0; i < 8; i++) q[i] ^= sk[round * 8 + i];
    }
    bs_sbox(q);
    for (int i = 0; i < 8; i++) q[i] = BS_SHIFT_ROWS(q[i]) ^ sk[80 + i];
}

#endif /* SP_AES_BITSLICE_H */
