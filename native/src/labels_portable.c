/* labels_portable.c — STUB: to be implemented (ROMix for any CPU). */
#include "internal.h"

int sp_labels_portable(const uint8_t commitment[32], uint32_t n, uint64_t start, size_t count, uint8_t *out32) {
    (void)commitment; (void)n; (void)start; (void)count; (void)out32;
    return SP_ERR_UNSUPPORTED;
}

