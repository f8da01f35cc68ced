/* k2pow.c — STUB: RandomX k2pow (to be implemented with Debian's librandomx). */
#include <stdlib.h>
#include "internal.h"
struct sp_k2pow { int fast; };
int sp_k2pow_new(int fast_mode, unsigned init_threads, sp_k2pow **out) { (void)fast_mode; (void)init_threads; *out = NULL; return SP_ERR_UNSUPPORTED; }
void sp_k2pow_free(sp_k2pow *ctx) { free(ctx); }
int sp_k2pow_hash(sp_k2pow *ctx, const uint8_t input[SP_K2POW_INPUT_SIZE], uint8_t out[32]) { (void)ctx; (void)input; (void)out; return SP_ERR_UNSUPPORTED; }
void sp_k2pow_input(uint64_t pow, uint8_t group, const uint8_t challenge[32], const uint8_t miner_id[32], uint8_t out[SP_K2POW_INPUT_SIZE]) {
    for (int i = 0; i < 7; i++) out[i] = (uint8_t)(pow >> (8 * i));
    out[7] = group;
    for (int i = 0; i < 8; i++) out[8 + i] = challenge[i];
    for (int i = 0; i < 32; i++) out[16 + i] = miner_id[i];
}
int sp_k2pow_search(sp_k2pow *ctx, uint8_t group, const uint8_t challenge[32], const uint8_t miner_id[32],
                    const uint8_t difficulty[32], uint64_t start, uint64_t count, const volatile int *cancel,
                    uint64_t *pow, int *found) {
    (void)ctx; (void)group; (void)challenge; (void)miner_id; (void)difficulty; (void)start; (void)count; (void)cancel; (void)pow; (void)found;
    return SP_ERR_UNSUPPORTED;
}
int sp_k2pow_verify(sp_k2pow *ctx, uint64_t pow, uint8_t group, const uint8_t challenge[32], const uint8_t miner_id[32], const uint8_t difficulty[32]) {
    (void)ctx; (void)pow; (void)group; (void)challenge; (void)miner_id; (void)difficulty;
    return SP_ERR_UNSUPPORTED;
}
