/*
 * labels_impl.h — what the label files share (internal): Keccak-512, HMAC/PBKDF2 (1 iteration),
 * the per-label PBKDF2 prologue/epilogue around ROMix, and the per-thread ROMix scratch buffer.
 *
 * A label is scrypt-jane(Keccak-512, ChaCha20/8) with r = p = 1 (shared/spec/post.md §2):
 *   X   = PBKDF2-HMAC-Keccak512(P, "", 1, 128)      (sp_label_begin)
 *   X   = ROMix_N(X)                                (one file per instruction set)
 *   out = PBKDF2-HMAC-Keccak512(P, X, 1, 32)        (sp_label_end)
 * P = commitment || LE64(index) || 0^32 is exactly one 72-byte Keccak block, so the HMAC key needs
 * no hashing and its two padded-key states are computed once per label and reused by both PBKDF2s.
 */
#ifndef SMESHPOST_LABELS_IMPL_H
#define SMESHPOST_LABELS_IMPL_H

#include "internal.h"

#define SP_KECCAK_RATE 72 /* Keccak-512: 1600 - 2 * 512 bits */
#define SP_KECCAK_DIGEST 64
#define SP_ROMIX_WORDS 32 /* one scrypt block with r = 1: 2 x 64 bytes as LE u32 words */

typedef struct {
    uint64_t a[25];
    uint8_t buf[SP_KECCAK_RATE];
    size_t fill;
} sp_keccak;

SP_HIDDEN void sp_keccak_init(sp_keccak *k);
SP_HIDDEN void sp_keccak_absorb(sp_keccak *k, const uint8_t *data, size_t len);
SP_HIDDEN void sp_keccak_final(sp_keccak *k, uint8_t out[SP_KECCAK_DIGEST]);

/* HMAC-Keccak-512: the states after absorbing (key ^ ipad) and (key ^ opad). */
typedef struct {
    sp_keccak inner, outer;
} sp_hmac;

SP_HIDDEN void sp_hmac_init(sp_hmac *h, const uint8_t *key, size_t key_len);
/* PBKDF2 with one iteration: out_len bytes of T_1 || T_2 || ... */
SP_HIDDEN void sp_pbkdf2_1(const sp_hmac *h, const uint8_t *salt, size_t salt_len, uint8_t *out, size_t out_len);

/* The label's PBKDF2 prologue: HMAC state for its password and the 32 ROMix input words. */
SP_HIDDEN void sp_label_begin(const uint8_t commitment[32], uint64_t index, sp_hmac *h, uint32_t x[SP_ROMIX_WORDS]);
/* The label's PBKDF2 epilogue: the 32-byte full label from the ROMix output words. */
SP_HIDDEN void sp_label_end(const sp_hmac *h, const uint32_t x[SP_ROMIX_WORDS], uint8_t out32[SP_FULL_LABEL_SIZE]);

/* A per-thread buffer of at least `bytes` bytes (64-byte aligned, huge pages advised), grown on
 * demand and kept for the thread's next call; freed when the thread exits. NULL when out of memory. */
SP_HIDDEN void *sp_label_scratch(size_t bytes);

/* General scrypt-jane ROMix for any r (portable, used by sp_scrypt_jane). b: 32*r words, in place;
 * v: n * 32 * r words, tmp: 32 * r words. */
SP_HIDDEN void sp_romix_general(uint32_t *b, uint32_t r, uint32_t n, uint32_t *v, uint32_t *tmp);

#endif /* SMESHPOST_LABELS_IMPL_H */
