/*
 * aes_common.h — what the AES files (aes_*.c) and scan.c share; nothing here is public.
 *
 * Each implementation only knows how to expand keys and encrypt: argument checks, allocation, the
 * scan order, the difficulty tests and the hit bookkeeping (post-rs Prover8_56) live once in scan.c.
 * An implementation is described by an sp_aes_impl; its scan body runs the chunk -> group loop and
 * hands the groups that hold a candidate byte (<= difficulty msb) to sp_cands_add(). AES-NI and
 * ARMv8 CE have their own body (AES pipeline and compare in registers); the bitsliced ones use
 * sp_scan_body_generic().
 */
#ifndef SP_AES_COMMON_H
#define SP_AES_COMMON_H

#include "internal.h"

#define SP_CHUNK_LABELS 8                                /* labels per post-rs chunk (128 bytes) */
#define SP_CHUNK_BYTES (SP_CHUNK_LABELS * SP_LABEL_SIZE) /* 128 */
#define SP_MAX_GROUPS (1u << 28)                         /* nonce = group * 16 + j must fit a u32 */
#define SP_LSB_MASK 0x00FFFFFFFFFFFFFFull

/* The arguments of one sp_scan() call, validated by scan.c before any implementation runs. */
typedef struct {
    const uint8_t *keys;      /* ngroups * 16 */
    const uint8_t *lazy_keys; /* ngroups * 256 */
    uint32_t first_group;
    uint32_t ngroups;
    const uint8_t *labels;
    size_t nchunks; /* floor(nlabels / 8) */
    uint64_t base_index;
    uint64_t difficulty;
    sp_hit *hits;
    size_t max_hits;
    size_t nhits; /* hits written so far */
} sp_scan_job;

typedef struct sp_scan_ws sp_scan_ws;

/* Lazy lsb values of n <= 8 blocks: out[i] = LE64(AES(L_{first_group*16 + nonce_off[i]}, in[i])[0..8])
 * masked to 56 bits. Implementations pipeline the n blocks (each with its own key). */
typedef void (*sp_lazy8_fn)(sp_scan_ws *ws, size_t n, const uint32_t nonce_off[8], const uint8_t *const in[8],
                            uint64_t out[8]);
/* Key schedule of one key into `sched` (sched_size bytes, 16-byte aligned). */
typedef void (*sp_expand_fn)(const uint8_t key[16], void *sched);
/* Encrypts the 8 blocks of a chunk with one group's schedule (bitsliced implementations). */
typedef void (*sp_encrypt8_fn)(const void *sched, const uint8_t in[128], uint8_t out[128]);
/* The chunk -> group loop of an implementation; returns SP_OK, SP_ERR_OVERFLOW or SP_ERR_NOMEM. */
typedef int (*sp_scan_body_fn)(sp_scan_job *job, sp_scan_ws *ws);

typedef struct {
    size_t sched_size;          /* bytes of one group key schedule (and of one lazy schedule slot) */
    sp_expand_fn expand;        /* group keys */
    sp_expand_fn lazy_expand;   /* lazy keys, into a sched_size slot (may be a smaller format) */
    sp_lazy8_fn lazy8;
    sp_scan_body_fn body;
    sp_encrypt8_fn encrypt8;    /* for sp_scan_body_generic only */
} sp_aes_impl;

/* Candidates (output bytes <= msb) in post-rs order. Those with byte == msb need the lazy test; they
 * are batched so the lazy AES runs 8 blocks at a time, then the good ones are appended in order. */
typedef struct {
    const uint8_t *label;
    uint64_t index;
    uint32_t nonce_off;
    uint32_t lazy; /* 1: byte == msb, decided by the lazy test; 0: byte < msb, good */
} sp_cand;

#define SP_CANDS_MAX 1024
typedef struct {
    size_t n;
    sp_cand c[SP_CANDS_MAX];
} sp_cands;

/* Everything one scan call allocates (scan.c), shared by the body and the lazy callbacks. */
struct sp_scan_ws {
    const sp_aes_impl *impl;
    sp_scan_job *job;
    uint8_t *sched;      /* ngroups * sched_size: group schedules, filled before the body runs */
    uint8_t *lazy_sched; /* ngroups * 16 * sched_size: per-nonce schedules, filled on first use */
    uint8_t *lazy_ready; /* ngroups * 16 flags */
    uint8_t *outs;       /* ngroups * 128: one chunk's AES output per group */
    uint32_t *list;      /* ngroups + 1: groups of the current chunk holding a candidate */
    sp_cands *cs;
};

static inline const void *sp_ws_sched(const sp_scan_ws *ws, uint32_t group_off) {
    return ws->sched + (size_t)group_off * ws->impl->sched_size;
}

/* The lazy schedule of nonce first_group * 16 + nonce_off, expanded on first use (a nonce needs one
 * only when one of its bytes equals msb). */
static inline const void *sp_ws_lazy_sched(sp_scan_ws *ws, uint32_t nonce_off) {
    uint8_t *slot = ws->lazy_sched + (size_t)nonce_off * ws->impl->sched_size;
    if (!ws->lazy_ready[nonce_off]) {
        ws->impl->lazy_expand(ws->job->lazy_keys + 16 * (size_t)nonce_off, slot);
        ws->lazy_ready[nonce_off] = 1;
    }
    return slot;
}

/* Decides the pending candidates and appends the good ones to the job's hits. Call at the end. */
SP_HIDDEN int sp_cands_flush(sp_scan_ws *ws);

/* Adds the candidates of chunk `chunk`, group `group_off` from its 128 output bytes; bit o of
 * (hi:lo) is set where output byte o may be <= msb (a superset is fine). Flushes when the buffer
 * could overflow. Returns SP_OK or SP_ERR_OVERFLOW (from a flush). Inline: it runs for ~40% of
 * the 8-block groups at mainnet difficulty (msb 0). */
static inline int sp_cands_add(sp_scan_ws *ws, size_t chunk, uint32_t group_off, const uint8_t out[128], uint64_t lo,
                               uint64_t hi) {
    sp_cands *cs = ws->cs;
    if (cs->n > SP_CANDS_MAX - SP_CHUNK_BYTES) {
        int rc = sp_cands_flush(ws);
        if (rc != SP_OK) return rc;
    }
    const sp_scan_job *job = ws->job;
    uint8_t msb = (uint8_t)(job->difficulty >> 56);
    const uint8_t *labels = job->labels + chunk * SP_CHUNK_BYTES;
    uint64_t index0 = job->base_index + (uint64_t)chunk * SP_CHUNK_LABELS;
    for (unsigned half = 0; half < 2; half++) {
        /* set bits in ascending order = post-rs byte order */
        for (uint64_t m = half ? hi : lo; m; m &= m - 1) {
            unsigned o = 64 * half + (unsigned)__builtin_ctzll(m), b = o / 16, j = o % 16;
            if (out[o] > msb) continue;
            cs->c[cs->n++] = (sp_cand){labels + 16 * b, index0 + b, group_off * SP_NONCES_PER_AES + j, out[o] == msb};
        }
    }
    return SP_OK;
}

/* The listed groups of a chunk (ws->list[0..nl)) whose outputs are in ws->outs: compute each one's
 * candidate bitmap with `masks` and add its candidates. */
typedef void (*sp_masks_fn)(const uint8_t out[128], uint8_t msb, uint64_t m[2]);
SP_HIDDEN int sp_cands_add_listed(sp_scan_ws *ws, size_t chunk, size_t nl, sp_masks_fn masks);

/* sp_scan() for one implementation: checks, allocation, group key schedules, body, cleanup. */
SP_HIDDEN int sp_scan_run(const sp_aes_impl *impl, const uint8_t *keys, const uint8_t *lazy_keys,
                          uint32_t first_group, uint32_t ngroups, const uint8_t *labels, size_t nlabels,
                          uint64_t base_index, uint64_t difficulty, sp_hit *hits, size_t max_hits, size_t *nhits);

/* The scan body of implementations without an in-register compare (uses impl->encrypt8). */
SP_HIDDEN int sp_scan_body_generic(sp_scan_job *job, sp_scan_ws *ws);

/* Fills a job from sp_scan()'s arguments; SP_ERR_INVALID on bad ones. */
SP_HIDDEN int sp_scan_job_init(sp_scan_job *job, const uint8_t *keys, const uint8_t *lazy_keys,
                               uint32_t first_group, uint32_t ngroups, const uint8_t *labels, size_t nlabels,
                               uint64_t base_index, uint64_t difficulty, sp_hit *hits, size_t max_hits,
                               size_t *nhits);

/* Constant-time AES-128 key expansion (bitsliced S-box), standard byte order rk[round * 16 + byte]. */
SP_HIDDEN void sp_aes128_expand_ct(const uint8_t key[16], uint8_t rk[176]);

/* Bitsliced (uint64_t, 4 blocks per pass) helpers of aes_soft.c, reused by aes_neon.c: the byte <->
 * word gather (missing blocks read as zero), the sliced schedule and the lazy path (a one-block job
 * is cheaper on the 4-wide scalar core than on the 8-wide vector one). */
#define SP_SOFT_SCHEDULE_WORDS 88 /* 11 round keys x 8 planes */
SP_HIDDEN void sp_soft_gather4(const uint8_t *in, size_t nblocks, uint64_t x[8]);
SP_HIDDEN void sp_soft_scatter4(const uint64_t x[8], uint8_t *out, size_t nblocks);
SP_HIDDEN void sp_soft_schedule(const uint8_t key[16], void *sk);
SP_HIDDEN void sp_soft_encrypt4(const uint64_t sk[SP_SOFT_SCHEDULE_WORDS], const uint8_t *in, uint8_t *out,
                                size_t nblocks);
SP_HIDDEN void sp_soft_lazy8(sp_scan_ws *ws, size_t n, const uint32_t nonce_off[8], const uint8_t *const in[8],
                             uint64_t out[8]);

#endif /* SP_AES_COMMON_H */
