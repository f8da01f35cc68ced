/*
 * keccak.c — original Keccak-512 (rate 72, pad 0x01 ... 0x80), as scrypt-jane's
 * scrypt-jane-hash_keccak.h (NOT FIPS-202 SHA3-512, which pads with 0x06).
 * Not on the hot path (about nine permutations per label against 2 N ChaCha cores), so plain C.
 */
#include <string.h>

#include "labels_impl.h"

static const uint64_t RC[24] = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808AULL, 0x8000000080008000ULL,
    0x000000000000808BULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
    0x000000000000008AULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000AULL,
    0x000000008000808BULL, 0x800000000000008BULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
    0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800AULL, 0x800000008000000AULL,
    0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL,
};
/* rho rotation and pi destination, walked along the pi cycle starting at lane 1 */
static const unsigned RHO[24] = {1, 3, 6, 10, 15, 21, 28, 36, 45, 55, 2, 14,
                                 27, 41, 56, 8, 25, 43, 62, 18, 39, 61, 20, 44};
static const unsigned PI[24] = {10, 7, 11, 17, 18, 3, 5, 16, 8, 21, 24, 4,
                                15, 23, 19, 13, 12, 2, 20, 14, 22, 9, 6, 1};

static inline uint64_t rotl64(uint64_t x, unsigned n) { return (x << n) | (x >> (64 - n)); }

static void keccak_f1600(uint64_t a[25]) {
    for (int round = 0; round < 24; round++) {
        uint64_t c[5], t;
        for (int x = 0; x < 5; x++) c[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20];
        for (int x = 0; x < 5; x++) {
            t = c[(x + 4) % 5] ^ rotl64(c[(x + 1) % 5], 1);
            for (int y = 0; y < 25; y += 5) a[y + x] ^= t;
        }
        t = a[1];
        for (int i = 0; i < 24; i++) {
            uint64_t next = a[PI[i]];
            a[PI[i]] = rotl64(t, RHO[i]);
            t = next;
        }
        for (int y = 0; y < 25; y += 5) {
            for (int x = 0; x < 5; x++) c[x] = a[y + x];
            for (int x = 0; x < 5; x++) a[y + x] = c[x] ^ (~c[(x + 1) % 5] & c[(x + 2) % 5]);
        }
        a[0] ^= RC[round];
    }
}

static void absorb_block(uint64_t a[25], const uint8_t *block) {
    for (int i = 0; i < SP_KECCAK_RATE / 8; i++) a[i] ^= sp_load64_le(block + 8 * i);
    keccak_f1600(a);
}

void sp_keccak_init(sp_keccak *k) { memset(k, 0, sizeof *k); }

void sp_keccak_absorb(sp_keccak *k, const uint8_t *data, size_t len) {
    if (!len) return; /* data may be NULL then */
    if (k->fill) {
        size_t take = SP_KECCAK_RATE - k->fill < len ? SP_KECCAK_RATE - k->fill : len;
        memcpy(k->buf + k->fill, data, take);
        k->fill += take;
        data += take;
        len -= take;
        if (k->fill < SP_KECCAK_RATE) return;
        absorb_block(k->a, k->buf);
        k->fill = 0;
    }
    for (; len >= SP_KECCAK_RATE; data += SP_KECCAK_RATE, len -= SP_KECCAK_RATE) absorb_block(k->a, data);
    memcpy(k->buf, data, len);
    k->fill = len;
}

void sp_keccak_final(sp_keccak *k, uint8_t out[SP_KECCAK_DIGEST]) {
    memset(k->buf + k->fill, 0, SP_KECCAK_RATE - k->fill);
    k->buf[k->fill] = 0x01;
    k->buf[SP_KECCAK_RATE - 1] |= 0x80;
    absorb_block(k->a, k->buf);
    for (int i = 0; i < SP_KECCAK_DIGEST / 8; i++) sp_store64_le(out + 8 * i, k->a[i]);
}

void sp_keccak512_portable(const uint8_t *data, size_t len, uint8_t out[64]) {
    sp_keccak k;
    sp_keccak_init(&k);
    sp_keccak_absorb(&k, data, len);
    sp_keccak_final(&k, out);
}
