/*
 * k2pow.c — the k2pow proof of work (post-rs src/pow/randomx.rs) on Debian's librandomx (the
 * tevador RandomX C++ library, stock Monero parameters, the same code randomx-rs builds).
 *
 * A context owns the cache keyed with "spacemesh-randomx-cache-key" and, in fast mode, the full
 * dataset (initialised in slices by init_threads threads). Both are read-only after creation, so
 * any number of threads may hash with one context: every call creates its own VM.
 */
#include <pthread.h>
#include <randomx.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define POW_LIMIT (1ull << 56) /* only the low 7 bytes of pow are part of the input */
#define CANCEL_EVERY 4         /* hashes between looks at the cancel flag */

static const char CACHE_KEY[] = "spacemesh-randomx-cache-key";

struct sp_k2pow {
    randomx_flags flags;
    randomx_cache *cache;
    randomx_dataset *dataset; /* NULL in light mode */
};

typedef struct {
    randomx_dataset *dataset;
    randomx_cache *cache;
    unsigned long start, count;
} init_slice;

static void *init_slice_run(void *arg) {
    init_slice *s = arg;
    randomx_init_dataset(s->dataset, s->cache, s->start, s->count);
    return NULL;
}

/* Fills the dataset with `threads` threads over equal slices; falls back to this thread alone for a
 * slice whose thread could not be started. */
static void init_dataset(randomx_dataset *dataset, randomx_cache *cache, unsigned threads) {
    unsigned long items = randomx_dataset_item_count();
    if (threads < 1) threads = 1;
    if (threads > 64) threads = 64;
    pthread_t tid[64];
    init_slice slices[64];
    int started[64] = {0};
    unsigned long per = items / threads;
    for (unsigned t = 0; t < threads; t++) {
        unsigned long start = per * t, count = t + 1 == threads ? items - start : per;
        slices[t] = (init_slice){dataset, cache, start, count};
        if (t + 1 < threads) started[t] = pthread_create(&tid[t], NULL, init_slice_run, &slices[t]) == 0;
    }
    for (unsigned t = 0; t < threads; t++)
        if (!started[t]) init_slice_run(&slices[t]);
    for (unsigned t = 0; t < threads; t++)
        if (started[t]) pthread_join(tid[t], NULL);
}

int sp_k2pow_new(int fast_mode, unsigned init_threads, sp_k2pow **out) {
    if (!out) return SP_ERR_INVALID;
    *out = NULL;
    sp_k2pow *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return SP_ERR_NOMEM;
    ctx->flags = randomx_get_flags();
    ctx->cache = randomx_alloc_cache(ctx->flags);
    if (!ctx->cache) { /* e.g. JIT refused by the OS: the interpreter still gives the same hashes */
        ctx->flags = (randomx_flags)(ctx->flags & ~RANDOMX_FLAG_JIT);
        ctx->cache = randomx_alloc_cache(ctx->flags);
    }
    if (!ctx->cache) {
        free(ctx);
        return SP_ERR_POW;
    }
    randomx_init_cache(ctx->cache, CACHE_KEY, sizeof CACHE_KEY - 1);
    if (fast_mode) {
        ctx->flags = (randomx_flags)(ctx->flags | RANDOMX_FLAG_FULL_MEM);
        ctx->dataset = randomx_alloc_dataset(ctx->flags);
        if (!ctx->dataset) {
            sp_k2pow_free(ctx);
            return SP_ERR_NOMEM;
        }
        init_dataset(ctx->dataset, ctx->cache, init_threads);
    }
    *out = ctx;
    return SP_OK;
}

void sp_k2pow_free(sp_k2pow *ctx) {
    if (!ctx) return;
    if (ctx->dataset) randomx_release_dataset(ctx->dataset);
    if (ctx->cache) randomx_release_cache(ctx->cache);
    free(ctx);
}

static randomx_vm *new_vm(const sp_k2pow *ctx) { return randomx_create_vm(ctx->flags, ctx->cache, ctx->dataset); }

int sp_k2pow_hash(sp_k2pow *ctx, const uint8_t input[SP_K2POW_INPUT_SIZE], uint8_t out[32]) {
    if (!ctx || !input || !out) return SP_ERR_INVALID;
    randomx_vm *vm = new_vm(ctx);
    if (!vm) return SP_ERR_POW;
    randomx_calculate_hash(vm, input, SP_K2POW_INPUT_SIZE, out);
    randomx_destroy_vm(vm);
    return SP_OK;
}

void sp_k2pow_input(uint64_t pow, uint8_t group, const uint8_t challenge[32], const uint8_t miner_id[32],
                    uint8_t out[SP_K2POW_INPUT_SIZE]) {
    for (int i = 0; i < 7; i++) out[i] = (uint8_t)(pow >> (8 * i));
    out[7] = group;
    memcpy(out + 8, challenge, 8);
    memcpy(out + 16, miner_id, 32);
}

int sp_k2pow_search(sp_k2pow *ctx, uint8_t group, const uint8_t challenge[32], const uint8_t miner_id[32],
                    const uint8_t difficulty[32], uint64_t start, uint64_t count, const volatile int *cancel,
                    uint64_t *pow, int *found) {
    if (!ctx || !challenge || !miner_id || !difficulty || !pow || !found) return SP_ERR_INVALID;
    *found = 0;
    if (start > POW_LIMIT || count > POW_LIMIT - start) return SP_ERR_INVALID;
    if (count == 0) return SP_OK;
    randomx_vm *vm = new_vm(ctx);
    if (!vm) return SP_ERR_POW;
    uint8_t input[SP_K2POW_INPUT_SIZE], hash[32];
    int rc = SP_OK;
    for (uint64_t i = 0; i < count; i++) {
        if (cancel && i % CANCEL_EVERY == 0 && *cancel) {
            rc = SP_ERR_CANCELLED;
            break;
        }
        sp_k2pow_input(start + i, group, challenge, miner_id, input);
        randomx_calculate_hash(vm, input, sizeof input, hash);
        if (memcmp(hash, difficulty, 32) < 0) {
            *pow = start + i;
            *found = 1;
            break;
        }
    }
    randomx_destroy_vm(vm);
    return rc;
}

int sp_k2pow_verify(sp_k2pow *ctx, uint64_t pow, uint8_t group, const uint8_t challenge[32],
                    const uint8_t miner_id[32], const uint8_t difficulty[32]) {
    if (!ctx || !challenge || !miner_id || !difficulty) return SP_ERR_INVALID;
    uint8_t input[SP_K2POW_INPUT_SIZE], hash[32];
    sp_k2pow_input(pow, group, challenge, miner_id, input); /* the upper byte of pow is ignored, as in post-rs */
    int rc = sp_k2pow_hash(ctx, input, hash);
    if (rc != SP_OK) return rc;
    return memcmp(hash, difficulty, 32) < 0 ? 1 : 0;
}
