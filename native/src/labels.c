/*
 * labels.c — public label API: sp_labels (dispatch, out16/out32, VRF-minimum search),
 * sp_scrypt_jane (general N, r, p), sp_keccak512, and the per-thread ROMix scratch buffer.
 */
#include <pthread.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "labels_impl.h"

/* ---------------------------------------------------------------- per-thread scratch */

#define SP_HUGE_PAGE ((size_t)2 << 20)

typedef struct {
    void *base;
    size_t size;
} scratch;

static pthread_key_t g_scratch_key;
static pthread_once_t g_scratch_once = PTHREAD_ONCE_INIT;
static _Thread_local scratch t_scratch;

static void scratch_free(void *arg) {
    scratch *s = arg;
    if (!s || !s->base) return;
    munmap(s->base, s->size);
    s->base = NULL;
    s->size = 0;
}

static void scratch_key_init(void) { (void)pthread_key_create(&g_scratch_key, scratch_free); }

void *sp_label_scratch(size_t bytes) {
    scratch *s = &t_scratch;
    if (s->base && s->size >= bytes) return s->base;
    pthread_once(&g_scratch_once, scratch_key_init);
    scratch_free(s);
    /* Whole 2 MiB pages: 1 MiB of V per lane at N=8192 would otherwise cost one TLB miss per lookup. */
    if (bytes > SIZE_MAX - 2 * SP_HUGE_PAGE) return NULL;
    size_t size = (bytes + SP_HUGE_PAGE - 1) & ~(SP_HUGE_PAGE - 1);
    /* Over-map by one huge page and trim, so the buffer starts on a 2 MiB boundary. */
    uint8_t *p = mmap(NULL, size + SP_HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
    size_t lead = (SP_HUGE_PAGE - ((uintptr_t)p & (SP_HUGE_PAGE - 1))) & (SP_HUGE_PAGE - 1);
    if (lead) munmap(p, lead);
    if (SP_HUGE_PAGE - lead) munmap(p + lead + size, SP_HUGE_PAGE - lead);
    p += lead;
#ifdef MADV_HUGEPAGE
    (void)madvise(p, size, MADV_HUGEPAGE);
#endif
    s->base = p;
    s->size = size;
    (void)pthread_setspecific(g_scratch_key, s); /* so the destructor unmaps it at thread exit */
    return p;
}

/* ---------------------------------------------------------------- sp_labels */

#define SP_LABELS_CHUNK 80 /* labels per implementation call: a multiple of every lane count (1, 4, 5, 8) */

int sp_labels(int impl, const uint8_t commitment[32], uint32_t scrypt_n, uint64_t start, size_t count,
              uint8_t *out16, uint8_t *out32, uint8_t *vrf_min32, uint64_t *vrf_index, int *vrf_found) {
    if (!commitment || scrypt_n < 2 || (scrypt_n & (scrypt_n - 1))) return SP_ERR_INVALID;
    if (vrf_min32 && (!vrf_index || !vrf_found)) return SP_ERR_INVALID;
    if (count && start + (count - 1) < start) return SP_ERR_INVALID; /* the range passes 2^64 - 1 */
    if (count && !out16 && !out32 && !vrf_min32) return SP_ERR_INVALID;
    if (impl < 0 || impl >= SP_LABELS_COUNT) return SP_ERR_INVALID;
    sp_labels_fn fn = sp_dispatch_labels(impl);
    if (!fn) return SP_ERR_UNSUPPORTED;
    uint8_t chunk[SP_LABELS_CHUNK * SP_FULL_LABEL_SIZE];
    for (size_t done = 0; done < count;) {
        size_t todo = count - done < SP_LABELS_CHUNK ? count - done : SP_LABELS_CHUNK;
        uint8_t *full = out32 ? out32 + done * SP_FULL_LABEL_SIZE : chunk;
        int rc = fn(commitment, scrypt_n, start + done, todo, full);
        if (rc != SP_OK) return rc;
        for (size_t i = 0; i < todo; i++) {
            const uint8_t *label = full + i * SP_FULL_LABEL_SIZE;
            if (out16) memcpy(out16 + (done + i) * SP_LABEL_SIZE, label, SP_LABEL_SIZE);
            if (vrf_min32 && memcmp(label, vrf_min32, SP_FULL_LABEL_SIZE) < 0) {
                memcpy(vrf_min32, label, SP_FULL_LABEL_SIZE);
                *vrf_index = start + done + i;
                *vrf_found = 1;
            }
        }
        done += todo;
    }
    return SP_OK;
}

/* ---------------------------------------------------------------- sp_scrypt_jane */

int sp_scrypt_jane(const uint8_t *password, size_t password_len, const uint8_t *salt, size_t salt_len,
                   uint32_t n, uint32_t r, uint32_t p, uint8_t *out, size_t out_len) {
    if ((!password && password_len) || (!salt && salt_len) || (!out && out_len)) return SP_ERR_INVALID;
    if (n < 2 || (n & (n - 1)) || !r || (r & (r - 1)) || !p || (p & (p - 1))) return SP_ERR_INVALID;
    if (r > (1u << 20) || p > (1u << 20) || n > (1u << 30)) return SP_ERR_INVALID;
    const size_t words = (size_t)32 * r, chunk = words * sizeof(uint32_t);
    if ((size_t)n > SIZE_MAX / chunk - 2 || (size_t)p > SIZE_MAX / chunk) return SP_ERR_INVALID;
    uint8_t *x = malloc(chunk * p);
    uint32_t *v = malloc(chunk * ((size_t)n + 2));
    if (!x || !v) {
        free(x);
        free(v);
        return SP_ERR_NOMEM;
    }
    uint32_t *b = v + (size_t)n * words, *tmp = b + words;
    sp_hmac h;
    sp_hmac_init(&h, password, password_len);
    sp_pbkdf2_1(&h, salt, salt_len, x, chunk * p);
    for (uint32_t k = 0; k < p; k++) {
        uint8_t *c = x + k * chunk;
        for (size_t w = 0; w < words; w++) b[w] = sp_load32_le(c + 4 * w);
        sp_romix_general(b, r, n, v, tmp);
        for (size_t w = 0; w < words; w++) sp_store32_le(c + 4 * w, b[w]);
    }
    sp_pbkdf2_1(&h, x, chunk * p, out, out_len);
    free(x);
    free(v);
    return SP_OK;
}

void sp_keccak512(const uint8_t *data, size_t len, uint8_t out[64]) { sp_keccak512_portable(data, len, out); }
