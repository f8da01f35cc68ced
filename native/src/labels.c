/* labels.c — STUB: public label API (sp_labels, sp_scrypt_jane, sp_keccak512). */
#include "internal.h"
int sp_labels(int impl, const uint8_t commitment[32], uint32_t scrypt_n, uint64_t start, size_t count,
              uint8_t *out16, uint8_t *out32, uint8_t *vrf_min32, uint64_t *vrf_index, int *vrf_found) {
    (void)impl; (void)commitment; (void)scrypt_n; (void)start; (void)count; (void)out16; (void)out32;
    (void)vrf_min32; (void)vrf_index; (void)vrf_found;
    return SP_ERR_UNSUPPORTED;
}
int sp_scrypt_jane(const uint8_t *password, size_t password_len, const uint8_t *salt, size_t salt_len,
                   uint32_t n, uint32_t r, uint32_t p, uint8_t *out, size_t out_len) {
    (void)password; (void)password_len; (void)salt; (void)salt_len; (void)n; (void)r; (void)p; (void)out; (void)out_len;
    return SP_ERR_UNSUPPORTED;
}
void sp_keccak512(const uint8_t *data, size_t len, uint8_t out[64]) { sp_keccak512_portable(data, len, out); }
void sp_keccak512_portable(const uint8_t *data, size_t len, uint8_t out[64]) { (void)data; (void)len; for (int i = 0; i < 64; i++) out[i] = 0; }
