/* scan.c — STUB: public proving-scan API (sp_scan, sp_label_test, sp_aes128_ecb). */
#include "internal.h"
int sp_scan(int impl, const uint8_t *keys, const uint8_t *lazy_keys, uint32_t first_group, uint32_t ngroups,
            const uint8_t *labels, size_t nlabels, uint64_t base_index, uint64_t difficulty,
            sp_hit *hits, size_t max_hits, size_t *nhits) {
    sp_scan_fn f = sp_dispatch_scan(impl);
    if (!f) return SP_ERR_UNSUPPORTED;
    return f(keys, lazy_keys, first_group, ngroups, labels, nlabels, base_index, difficulty, hits, max_hits, nhits);
}
int sp_label_test(const uint8_t key[16], const uint8_t lazy_key[16], const uint8_t label[16], uint32_t nonce, uint64_t difficulty) {
    (void)key; (void)lazy_key; (void)label; (void)nonce; (void)difficulty;
    return SP_ERR_UNSUPPORTED;
}
int sp_aes128_ecb(int impl, const uint8_t key[16], const uint8_t *in, uint8_t *out, size_t nblocks) {
    sp_ecb_fn f = sp_dispatch_ecb(impl);
    return f ? f(key, in, out, nblocks) : SP_ERR_UNSUPPORTED;
}
