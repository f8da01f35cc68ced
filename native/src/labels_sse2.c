/* labels_sse2.c — STUB: to be implemented (ROMix for x86-64 SSE2, 4 lanes). */
#include "internal.h"
#ifdef SP_X86_64
int sp_labels_sse2(const uint8_t commitment[32], uint32_t n, uint64_t start, size_t count, uint8_t *out32) {
    (void)commitment; (void)n; (void)start; (void)count; (void)out32;
    return SP_ERR_UNSUPPORTED;
}
#endif
