/*
 * internal.h — what the implementation files of the PoST core share; nothing here is public.
 *
 * One file per instruction set, each exporting functions with the same signature:
 *   labels_<isa>.c : int sp_labels_<isa>(commitment, n, start, count, out32)
 *   aes_<isa>.c    : int sp_scan_<isa>(...) and int sp_ecb_<isa>(...)
 * dispatch.c detects CPU features once, honours the SMESHPOST_LABELS / SMESHPOST_AES overrides and
 * picks best-to-worst, always ending at the portable path.
 */
#ifndef SMESHPOST_INTERNAL_H
#define SMESHPOST_INTERNAL_H

#include "smeshpost.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "smeshpost supports little-endian CPUs only (all Raspberry Pi and x86-64 targets are)"
#endif

#if defined(__x86_64__) || defined(_M_X64)
#define SP_X86_64 1
#endif
#if defined(__aarch64__)
#define SP_AARCH64 1
#endif

#define SP_HIDDEN __attribute__((visibility("hidden")))

/* Computes count whole 32-byte labels for indices start.. into out32 (count*32 bytes).
 * Implementations process their lane width at a time and handle any count (tail included). */
typedef int (*sp_labels_fn)(const uint8_t commitment[32], uint32_t n, uint64_t start, size_t count,
                            uint8_t *out32);

/* Same contract as sp_scan() without the impl argument. */
typedef int (*sp_scan_fn)(const uint8_t *keys, const uint8_t *lazy_keys, uint32_t first_group, uint32_t ngroups,
                          const uint8_t *labels, size_t nlabels, uint64_t base_index, uint64_t difficulty,
                          sp_hit *hits, size_t max_hits, size_t *nhits);

/* AES-128-ECB encryption of nblocks blocks. */
typedef int (*sp_ecb_fn)(const uint8_t key[16], const uint8_t *in, uint8_t *out, size_t nblocks);

/* Label implementations (a _fn is absent when the file is not compiled for this architecture). */
SP_HIDDEN int sp_labels_portable(const uint8_t commitment[32], uint32_t n, uint64_t start, size_t count, uint8_t *out32);
#ifdef SP_X86_64
SP_HIDDEN int sp_labels_sse2(const uint8_t commitment[32], uint32_t n, uint64_t start, size_t count, uint8_t *out32);
SP_HIDDEN int sp_labels_avx2(const uint8_t commitment[32], uint32_t n, uint64_t start, size_t count, uint8_t *out32);
#endif
#ifdef SP_AARCH64
SP_HIDDEN int sp_labels_neon4(const uint8_t commitment[32], uint32_t n, uint64_t start, size_t count, uint8_t *out32);
SP_HIDDEN int sp_labels_neon8(const uint8_t commitment[32], uint32_t n, uint64_t start, size_t count, uint8_t *out32);
#endif

/* AES implementations */
#define SP_DECLARE_AES(isa)                                                                                     \
    SP_HIDDEN int sp_scan_##isa(const uint8_t *keys, const uint8_t *lazy_keys, uint32_t first_group,         \
                                uint32_t ngroups, const uint8_t *labels, size_t nlabels, uint64_t base_index,  \
                                uint64_t difficulty, sp_hit *hits, size_t max_hits, size_t *nhits);            \
    SP_HIDDEN int sp_ecb_##isa(const uint8_t key[16], const uint8_t *in, uint8_t *out, size_t nblocks);
SP_DECLARE_AES(soft)
#ifdef SP_X86_64
SP_DECLARE_AES(aesni)
#endif
#ifdef SP_AARCH64
SP_DECLARE_AES(armce)
SP_DECLARE_AES(neon)
#endif

/* dispatch.c: resolve an impl id to its function (NULL when unavailable). */
SP_HIDDEN sp_labels_fn sp_dispatch_labels(int impl);
SP_HIDDEN sp_scan_fn sp_dispatch_scan(int impl);
SP_HIDDEN sp_ecb_fn sp_dispatch_ecb(int impl);

/* Shared helpers */
SP_HIDDEN void sp_keccak512_portable(const uint8_t *data, size_t len, uint8_t out[64]);

static inline uint32_t sp_load32_le(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t sp_load64_le(const uint8_t *p) {
    return (uint64_t)sp_load32_le(p) | ((uint64_t)sp_load32_le(p + 4) << 32);
}
static inline void sp_store32_le(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static inline void sp_store64_le(uint8_t *p, uint64_t v) {
    sp_store32_le(p, (uint32_t)v); sp_store32_le(p + 4, (uint32_t)(v >> 32));
}

#endif /* SMESHPOST_INTERNAL_H */
