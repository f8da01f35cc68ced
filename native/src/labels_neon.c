/* labels_neon.c — STUB: to be implemented (aarch64 NEON, 4 and 8 lanes). */
#include "internal.h"
#ifdef SP_AARCH64
int sp_labels_neon4(const uint8_t commitment[32], uint32_t n, uint64_t start, size_t count, uint8_t *out32) {
    (void)commitment; (void)n; (void)start; (void)count; (void)out32;
    return SP_ERR_UNSUPPORTED;
}
int sp_labels_neon8(const uint8_t commitment[32], uint32_t n, uint64_t start, size_t count, uint8_t *out32) {
    return sp_labels_neon4(commitment, n, start, count, out32);
}
#endif
