/*
 * dispatch.c — the one place that knows which CPU we run on.
 *
 * Detects features once (cpuid/xgetbv on x86-64, getauxval(AT_HWCAP) on aarch64: the Pi 4's
 * Cortex-A72 has NEON but no AES, the Pi 5's Cortex-A76 has both), caches the answer, honours the
 * SMESHPOST_LABELS / SMESHPOST_AES environment overrides (the test hook that forces each path) and
 * resolves "auto" best-to-worst, always ending at the portable implementation.
 * Opt-out macros: SP_NO_SSE2, SP_NO_AVX2, SP_NO_NEON, SP_NO_AESNI, SP_NO_ARMCE.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#ifdef SP_X86_64
#include <cpuid.h>
#endif
#ifdef SP_AARCH64
#include <sys/auxv.h>
#ifndef HWCAP_ASIMD
#define HWCAP_ASIMD (1 << 1)
#endif
#ifndef HWCAP_AES
#define HWCAP_AES (1 << 3)
#endif
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20)
#endif
#endif

enum { F_SSE2 = 1, F_AVX2 = 2, F_AESNI = 4, F_NEON = 8, F_ARMAES = 16, F_ARMV82 = 32, F_DETECTED = 1 << 30 };

/* The three caches below are written by whichever thread asks first. Detection and selection are
 * pure functions of the CPU and the environment, so two racing threads store the same value; C11
 * atomics make that race defined behaviour (and ThreadSanitizer-clean) at the cost of one relaxed
 * load per call. 0 means "not computed yet". */
static atomic_int g_features;

#ifdef SP_X86_64
static uint64_t xgetbv0(void) {
    uint32_t eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((uint64_t)edx << 32) | eax;
}
#endif

static int detect(void) {
    int f = F_DETECTED;
#ifdef SP_X86_64
    unsigned a, b, c, d;
    if (__get_cpuid(1, &a, &b, &c, &d)) {
        if (d & (1u << 26)) f |= F_SSE2;
        if (c & (1u << 25)) f |= F_AESNI;
        int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
        if (osxsave && avx && (xgetbv0() & 6) == 6 && __get_cpuid_max(0, 0) >= 7) {
            __cpuid_count(7, 0, a, b, c, d);
            if (b & (1u << 5)) f |= F_AVX2;
        }
    }
#endif
#ifdef SP_AARCH64
    unsigned long hw = getauxval(AT_HWCAP);
    if (hw & HWCAP_ASIMD) f |= F_NEON;
    if (hw & HWCAP_AES) f |= F_ARMAES;
    if (hw & HWCAP_ASIMDDP) f |= F_ARMV82; /* dot product: ARMv8.2 cores such as the Pi 5's A76 */
#endif
    return f;
}

/* Returns the cached value or computes, caches and returns it (relaxed is enough: the value is a
 * plain int that carries no other data with it). */
static int cached(atomic_int *cache, int (*compute)(void)) {
    int v = atomic_load_explicit(cache, memory_order_relaxed);
    if (!v) {
        v = compute();
        atomic_store_explicit(cache, v, memory_order_relaxed);
    }
    return v;
}

static int features(void) { return cached(&g_features, detect); }

/* ---------------------------------------------------------------- labels */

static const char *const LABEL_NAMES[SP_LABELS_COUNT] = {"auto", "portable", "sse2", "avx2", "neon4", "neon8"};

static sp_labels_fn labels_fn_if_supported(int impl) {
    int f = features();
    switch (impl) {
    case SP_LABELS_PORTABLE: return sp_labels_portable;
#if defined(SP_X86_64) && !defined(SP_NO_SSE2)
    case SP_LABELS_SSE2: return (f & F_SSE2) ? sp_labels_sse2 : NULL;
#endif
#if defined(SP_X86_64) && !defined(SP_NO_AVX2)
    case SP_LABELS_AVX2: return (f & F_AVX2) ? sp_labels_avx2 : NULL;
#endif
#if defined(SP_AARCH64) && !defined(SP_NO_NEON)
    case SP_LABELS_NEON4: return (f & F_NEON) ? sp_labels_neon4 : NULL;
    case SP_LABELS_NEON8: return (f & F_NEON) ? sp_labels_neon8 : NULL;
#endif
    default: (void)f; return NULL;
    }
}

static int by_name(const char *const *names, int count, const char *name) {
    for (int i = 1; name && i < count; i++)
        if (strcmp(names[i], name) == 0) return i;
    return 0;
}

static atomic_int g_labels_auto;

static int choose_labels(void) {
    int forced = by_name(LABEL_NAMES, SP_LABELS_COUNT, getenv("SMESHPOST_LABELS"));
    if (forced && labels_fn_if_supported(forced)) return forced;
    /* Best to worst. On the in-order-ish Cortex-A72 (Pi 4), NEON8's two independent chains hide
     * latency (llvm-mca: 70 vs 90 cycles per ChaCha call per lane); on ARMv8.2 cores such as the
     * Pi 5's A76 the wider out-of-order core runs NEON4 faster (66 vs 78 on the N1 model). */
    static const int order[] = {SP_LABELS_AVX2, SP_LABELS_SSE2, SP_LABELS_NEON8, SP_LABELS_NEON4, SP_LABELS_PORTABLE};
    static const int order_v82[] = {SP_LABELS_NEON4, SP_LABELS_NEON8, SP_LABELS_PORTABLE};
    const int *best = (features() & F_ARMV82) ? order_v82 : order;
    size_t n = (features() & F_ARMV82) ? sizeof order_v82 / sizeof order_v82[0] : sizeof order / sizeof order[0];
    for (size_t i = 0; i < n; i++)
        if (labels_fn_if_supported(best[i])) return best[i];
    return SP_LABELS_PORTABLE;
}

int sp_labels_selected(void) { return cached(&g_labels_auto, choose_labels); }

int sp_labels_available(int impl) { return impl > 0 && impl < SP_LABELS_COUNT && labels_fn_if_supported(impl) != NULL; }

const char *sp_labels_name(int impl) { return impl >= 0 && impl < SP_LABELS_COUNT ? LABEL_NAMES[impl] : NULL; }

sp_labels_fn sp_dispatch_labels(int impl) {
    if (impl == SP_LABELS_AUTO) impl = sp_labels_selected();
    return impl > 0 && impl < SP_LABELS_COUNT ? labels_fn_if_supported(impl) : NULL;
}

/* ---------------------------------------------------------------- AES */

static const char *const AES_NAMES[SP_AES_COUNT] = {"auto", "soft", "aesni", "armce", "neon"};

typedef struct {
    sp_scan_fn scan;
    sp_ecb_fn ecb;
} aes_impl;

static aes_impl aes_if_supported(int impl) {
    int f = features();
    aes_impl none = {NULL, NULL};
    switch (impl) {
    case SP_AES_SOFT: return (aes_impl){sp_scan_soft, sp_ecb_soft};
#if defined(SP_X86_64) && !defined(SP_NO_AESNI)
    case SP_AES_AESNI: return (f & F_AESNI) ? (aes_impl){sp_scan_aesni, sp_ecb_aesni} : none;
#endif
#if defined(SP_AARCH64) && !defined(SP_NO_ARMCE)
    case SP_AES_ARMCE: return (f & F_ARMAES) ? (aes_impl){sp_scan_armce, sp_ecb_armce} : none;
#endif
#if defined(SP_AARCH64) && !defined(SP_NO_NEON)
    case SP_AES_NEON: return (f & F_NEON) ? (aes_impl){sp_scan_neon, sp_ecb_neon} : none;
#endif
    default: (void)f; return none;
    }
}

static atomic_int g_aes_auto;

static int choose_aes(void) {
    int forced = by_name(AES_NAMES, SP_AES_COUNT, getenv("SMESHPOST_AES"));
    if (forced && aes_if_supported(forced).scan) return forced;
    static const int order[] = {SP_AES_AESNI, SP_AES_ARMCE, SP_AES_NEON, SP_AES_SOFT};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        if (aes_if_supported(order[i]).scan) return order[i];
    return SP_AES_SOFT;
}

int sp_aes_selected(void) { return cached(&g_aes_auto, choose_aes); }

int sp_aes_available(int impl) { return impl > 0 && impl < SP_AES_COUNT && aes_if_supported(impl).scan != NULL; }

const char *sp_aes_name(int impl) { return impl >= 0 && impl < SP_AES_COUNT ? AES_NAMES[impl] : NULL; }

sp_scan_fn sp_dispatch_scan(int impl) {
    if (impl == SP_AES_AUTO) impl = sp_aes_selected();
    return impl > 0 && impl < SP_AES_COUNT ? aes_if_supported(impl).scan : NULL;
}

sp_ecb_fn sp_dispatch_ecb(int impl) {
    if (impl == SP_AES_AUTO) impl = sp_aes_selected();
    return impl > 0 && impl < SP_AES_COUNT ? aes_if_supported(impl).ecb : NULL;
}

const char *sp_version(void) { return SMESHPOST_VERSION; }
