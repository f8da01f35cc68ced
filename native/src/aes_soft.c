/* aes_soft.c — STUB: to be implemented (portable constant-time). */
#include "internal.h"

int sp_scan_soft(const uint8_t *keys, const uint8_t *lazy_keys, uint32_t first_group, uint32_t ngroups,
                  const uint8_t *labels, size_t nlabels, uint64_t base_index, uint64_t difficulty,
                  sp_hit *hits, size_t max_hits, size_t *nhits) {
    (void)keys; (void)lazy_keys; (void)first_group; (void)ngroups; (void)labels; (void)nlabels;
    (void)base_index; (void)difficulty; (void)hits; (void)max_hits; (void)nhits;
    return SP_ERR_UNSUPPORTED;
}
int sp_ecb_soft(const uint8_t key[16], const uint8_t *in, uint8_t *out, size_t nblocks) {
    (void)key; (void)in; (void)out; (void)nblocks;
    return SP_ERR_UNSUPPORTED;
}

