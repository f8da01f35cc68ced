/*
 * smeshpost.h — the one public header of the Smeshbox PoST core.
 *
 * Bit-compatible with spacemeshos/post-rs v0.8.5 (see shared/spec/post.md):
 *   labels   = scrypt-jane (PBKDF2-HMAC-Keccak-512 + ChaCha20/8 ROMix, r = p = 1)
 *   proving  = AES-128 scan of every label for each nonce group, msb/lsb difficulty tests
 *   k2pow    = RandomX over a 48-byte input, cache key "spacemesh-randomx-cache-key"
 *
 * Every function returns SP_OK (0) or a negative SP_ERR_* code unless documented otherwise.
 * All functions are thread-safe and never keep pointers to caller memory after returning.
 */
#ifndef SMESHPOST_H
#define SMESHPOST_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SMESHPOST_VERSION "0.1.0"

#define SP_LABEL_SIZE 16      /* bytes of a label on disk */
#define SP_FULL_LABEL_SIZE 32 /* bytes scrypt outputs; all 32 are used by the VRF nonce search */
#define SP_NONCES_PER_AES 16  /* one AES block tests 16 nonces (one per output byte) */
#define SP_K2POW_INPUT_SIZE 48

/* Return codes */
#define SP_OK 0
#define SP_ERR_INVALID (-1)     /* bad argument: N not a power of two >= 2, NULL pointer, ... */
#define SP_ERR_NOMEM (-2)       /* allocation failed */
#define SP_ERR_UNSUPPORTED (-3) /* implementation not compiled in or not supported by this CPU */
#define SP_ERR_POW (-4)         /* RandomX failed (cache/dataset/VM allocation) */
#define SP_ERR_CANCELLED (-5)   /* the caller's cancel flag was set */
#define SP_ERR_OVERFLOW (-6)    /* more hits than the caller's buffer holds */

/* Label (scrypt ROMix) implementations. SP_LABELS_AUTO = best available, or the one named by the
 * environment variable SMESHPOST_LABELS=portable|sse2|avx2|neon4|neon8 (read once). */
enum {
    SP_LABELS_AUTO = 0,
    SP_LABELS_PORTABLE = 1,
    SP_LABELS_SSE2 = 2,  /* x86-64: 4 labels interleaved, lane = label */
    SP_LABELS_AVX2 = 3,  /* x86-64: 8 labels interleaved */
    SP_LABELS_NEON4 = 4, /* aarch64: 4 labels interleaved */
    SP_LABELS_NEON8 = 5, /* aarch64: 8 labels interleaved (two q-register sets) */
    SP_LABELS_COUNT = 6
};

/* AES implementations for the proving scan. SP_AES_AUTO = best available, or the one named by
 * SMESHPOST_AES=soft|aesni|armce|neon (read once). */
enum {
    SP_AES_AUTO = 0,
    SP_AES_SOFT = 1,  /* portable, constant-time (bitsliced), no secret-indexed tables */
    SP_AES_AESNI = 2, /* x86-64 AES-NI */
    SP_AES_ARMCE = 3, /* ARMv8 Crypto Extensions (Pi 5 class) */
    SP_AES_NEON = 4,  /* aarch64 without AES instructions (Pi 4): constant-time NEON (vperm/bitsliced) */
    SP_AES_COUNT = 5
};

const char *sp_version(void);

/* Implementation discovery (impl in [1, COUNT)). available: 1 = compiled in and supported by this
 * CPU, 0 otherwise. name: short lower-case name ("avx2"), or NULL for an unknown id.
 * selected: what AUTO resolves to (after the environment override). */
int sp_labels_available(int impl);
const char *sp_labels_name(int impl);
int sp_labels_selected(void);
int sp_aes_available(int impl);
const char *sp_aes_name(int impl);
int sp_aes_selected(void);

/* ---------------------------------------------------------------- labels */

/* Labels for the global indices [start, start + count), scrypt N = scrypt_n (power of two >= 2),
 * r = p = 1, password = commitment || LE64(index) || 0^32, empty salt, 32-byte output.
 * out16: count * 16 bytes (first 16 bytes of each label), or NULL.
 * out32: count * 32 bytes (whole labels), or NULL.
 * VRF nonce search (optional, vrf_min32 != NULL): vrf_min32 holds a 32-byte big-endian threshold on
 * entry; for each label in index order, if full_label < *vrf_min32 (memcmp) then vrf_min32 := label,
 * *vrf_index := its index, *vrf_found := 1. Unchanged when nothing is below. Ties keep the earlier
 * index. vrf_index / vrf_found must be non-NULL when vrf_min32 is. */
int sp_labels(int impl, const uint8_t commitment[32], uint32_t scrypt_n, uint64_t start, size_t count,
              uint8_t *out16, uint8_t *out32, uint8_t *vrf_min32, uint64_t *vrf_index, int *vrf_found);

/* General scrypt-jane (Keccak-512 + ChaCha20/8) with any power-of-two N >= 2, r, p; portable.
 * For the spec's primitive vectors and self-tests. */
int sp_scrypt_jane(const uint8_t *password, size_t password_len, const uint8_t *salt, size_t salt_len,
                   uint32_t n, uint32_t r, uint32_t p, uint8_t *out, size_t out_len);

/* Original Keccak-512 (pad 0x01, rate 72), as scrypt-jane uses it. */
void sp_keccak512(const uint8_t *data, size_t len, uint8_t out[64]);

/* ---------------------------------------------------------------- proving scan */

typedef struct {
    uint32_t nonce;
    uint32_t reserved;
    uint64_t index;
} sp_hit;

/* The proving scan over `nlabels` labels whose first global index is base_index (post-rs
 * Prover8_56::prove on one batch). Only floor(nlabels / 8) * 8 labels are scanned: a trailing
 * partial 8-label chunk is ignored, as post-rs does per 1 MiB batch.
 * keys:      ngroups * 16 bytes, AES-128 key K_g for groups first_group .. first_group + ngroups - 1
 * lazy_keys: ngroups * 16 * 16 bytes, AES-128 key L_n for nonces first_group*16 .. (first_group+ngroups)*16-1
 * difficulty: the 64-bit proving difficulty (msb = difficulty >> 56, lsb = low 56 bits)
 * Good (nonce, index) pairs are written to hits in post-rs scan order (8-label chunk, then group,
 * then output byte); *nhits = how many. When more than max_hits are found, returns SP_ERR_OVERFLOW
 * with the first max_hits written. */
int sp_scan(int impl, const uint8_t *keys, const uint8_t *lazy_keys, uint32_t first_group, uint32_t ngroups,
            const uint8_t *labels, size_t nlabels, uint64_t base_index, uint64_t difficulty,
            sp_hit *hits, size_t max_hits, size_t *nhits);

/* The label test of one label for one nonce (post-rs verification step 6).
 * Returns 1 = good, 0 = bad msb, -100 = bad lsb (msb equal, lsb too large), or a negative SP_ERR_*. */
#define SP_TEST_BAD_LSB (-100)
int sp_label_test(const uint8_t key[16], const uint8_t lazy_key[16], const uint8_t label[16],
                  uint32_t nonce, uint64_t difficulty);

/* Raw AES-128-ECB over nblocks blocks with the chosen implementation (bench and tests). */
int sp_aes128_ecb(int impl, const uint8_t key[16], const uint8_t *in, uint8_t *out, size_t nblocks);

/* ---------------------------------------------------------------- k2pow (RandomX) */

typedef struct sp_k2pow sp_k2pow;

/* A RandomX context keyed with "spacemesh-randomx-cache-key". fast_mode: 1 = full dataset (~2 GiB,
 * initialised with init_threads threads), 0 = light mode (256 MiB cache). */
int sp_k2pow_new(int fast_mode, unsigned init_threads, sp_k2pow **out);
void sp_k2pow_free(sp_k2pow *ctx);

/* RandomX hash of the 48-byte input. Thread-safe (a VM per call). */
int sp_k2pow_hash(sp_k2pow *ctx, const uint8_t input[SP_K2POW_INPUT_SIZE], uint8_t out[32]);

/* input = LE64(pow)[0..7] || group || challenge[0..8] || miner_id[32] (spec 4.6). */
void sp_k2pow_input(uint64_t pow, uint8_t group, const uint8_t challenge[32], const uint8_t miner_id[32],
                    uint8_t out[SP_K2POW_INPUT_SIZE]);

/* Search pow in [start, start + count) (pow < 2^56) for hash < difficulty (big-endian compare).
 * Returns SP_OK with *found = 1 and *pow = the first valid one, SP_OK with *found = 0 when the
 * range holds none, SP_ERR_CANCELLED when *cancel became non-zero (checked every few hashes). */
int sp_k2pow_search(sp_k2pow *ctx, uint8_t group, const uint8_t challenge[32], const uint8_t miner_id[32],
                    const uint8_t difficulty[32], uint64_t start, uint64_t count, const volatile int *cancel,
                    uint64_t *pow, int *found);

/* 1 = valid, 0 = invalid, negative = error. */
int sp_k2pow_verify(sp_k2pow *ctx, uint64_t pow, uint8_t group, const uint8_t challenge[32],
                    const uint8_t miner_id[32], const uint8_t difficulty[32]);

#ifdef __cplusplus
}
#endif
#endif /* SMESHPOST_H */
