/*
 * test_labels.c — the label implementations of the PoST core.
 *
 * Usage:
 *   test_labels [selftest [ROUNDS]]   every available implementation against portable on pseudo-random
 *                                     commitments / indices / counts (tails, N = 2..8192), the lane
 *                                     kernel against the general-r scrypt-jane path, out16/out32, the
 *                                     VRF-minimum search, bad arguments, threads. Exit 0 iff all pass.
 *   test_labels info                  "selected NAME" then "available NAME..." (SMESHPOST_LABELS honoured)
 *   test_labels labels IMPL COMMITMENT_HEX N START COUNT    one full 32-byte label per line (hex);
 *                                     IMPL is a name or "auto"
 *   test_labels scrypt PASSWORD_HEX SALT_HEX N R P DKLEN    sp_scrypt_jane output (hex)
 *   test_labels keccak MESSAGE_HEX                          sp_keccak512 digest (hex)
 * The print modes let tests/native/test_labels_vectors.py check native/tests/vectors/labels.json,
 * the same file the Python tests read.
 */
#include <pthread.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "smeshpost.h"

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

/* ---------------------------------------------------------------- argument parsing (print modes) */

static uint8_t *parse_hex(const char *s, size_t *len) {
    size_t n = strlen(s);
    if (n % 2) return NULL;
    uint8_t *out = xmalloc(n / 2);
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1) {
            free(out);
            return NULL;
        }
        out[i] = (uint8_t)v;
    }
    *len = n / 2;
    return out;
}

static int parse_u64(const char *s, uint64_t *v) {
    char *end;
    *v = strtoull(s, &end, 0);
    return *s && *end == '\0';
}

static int impl_by_name(const char *name) {
    if (strcmp(name, "auto") == 0) return SP_LABELS_AUTO;
    for (int i = 1; i < SP_LABELS_COUNT; i++)
        if (strcmp(sp_labels_name(i), name) == 0) return i;
    return -1;
}

static void print_hex(const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++) printf("%02x", p[i]);
    printf("\n");
}

static int usage(void) {
    fprintf(stderr, "usage: test_labels [selftest [ROUNDS] | info | labels IMPL COMMITMENT N START COUNT |"
                    " scrypt PASSWORD SALT N R P DKLEN | keccak MESSAGE]\n");
    return 2;
}

static int mode_labels(char **argv) {
    size_t clen;
    uint64_t n, start, count;
    int impl = impl_by_name(argv[0]);
    uint8_t *commitment = parse_hex(argv[1], &clen);
    if (impl < 0 || !commitment || clen != 32 || !parse_u64(argv[2], &n) || !parse_u64(argv[3], &start) ||
        !parse_u64(argv[4], &count) || n > UINT32_MAX) {
        free(commitment);
        return usage();
    }
    uint8_t *out = xmalloc(count * 32);
    int rc = sp_labels(impl, commitment, (uint32_t)n, start, count, NULL, out, NULL, NULL, NULL);
    if (rc == SP_OK)
        for (uint64_t i = 0; i < count; i++) print_hex(out + i * 32, 32);
    else
        fprintf(stderr, "sp_labels: %d\n", rc);
    free(out);
    free(commitment);
    return rc == SP_OK ? 0 : 1;
}

static int mode_scrypt(char **argv) {
    size_t plen, slen;
    uint64_t n, r, p, dklen;
    uint8_t *pw = parse_hex(argv[0], &plen), *salt = parse_hex(argv[1], &slen);
    if (!pw || !salt || !parse_u64(argv[2], &n) || !parse_u64(argv[3], &r) || !parse_u64(argv[4], &p) ||
        !parse_u64(argv[5], &dklen) || n > UINT32_MAX || r > UINT32_MAX || p > UINT32_MAX) {
        free(pw);
        free(salt);
        return usage();
    }
    uint8_t *out = xmalloc(dklen);
    int rc = sp_scrypt_jane(pw, plen, salt, slen, (uint32_t)n, (uint32_t)r, (uint32_t)p, out, dklen);
    if (rc == SP_OK)
        print_hex(out, dklen);
    else
        fprintf(stderr, "sp_scrypt_jane: %d\n", rc);
    free(out);
    free(pw);
    free(salt);
    return rc == SP_OK ? 0 : 1;
}

static int mode_keccak(char **argv) {
    size_t len;
    uint8_t *msg = parse_hex(argv[0], &len), digest[64];
    if (!msg) return usage();
    sp_keccak512(msg, len, digest);
    print_hex(digest, sizeof digest);
    free(msg);
    return 0;
}

static int mode_info(void) {
    printf("selected %s\navailable", sp_labels_name(sp_labels_selected()));
    for (int i = 1; i < SP_LABELS_COUNT; i++)
        if (sp_labels_available(i)) printf(" %s", sp_labels_name(i));
    printf("\n");
    return 0;
}

/* ---------------------------------------------------------------- self-test */

static int impls[SP_LABELS_COUNT], nimpls;

/* Every implementation against portable: random commitment, start (some near 2^64 - 1) and count
 * (tails: 1 .. 2 * 8 + 3 labels, so every lane width sees partial batches). */
static void test_cross(int rounds) {
    static const uint32_t ns[] = {2, 4, 8, 16, 32, 64, 256, 1024, 8192};
    for (size_t ni = 0; ni < sizeof ns / sizeof ns[0]; ni++) {
        uint32_t n = ns[ni];
        int reps = n >= 8192 ? 1 : rounds;
        for (int rep = 0; rep < reps; rep++) {
            uint8_t commitment[32];
            fill(commitment, sizeof commitment);
            size_t count = n >= 8192 ? 1 + rnd() % 9 : 1 + rnd() % 19;
            uint64_t start = rnd() % 4 == 0 ? UINT64_MAX - (count - 1) - rnd() % 3 : rnd() >> (rnd() % 64);
            if (start + (count - 1) < start) start = UINT64_MAX - (count - 1);
            uint8_t *ref = xmalloc(count * 32), *got = xmalloc(count * 32);
            CHECK(sp_labels(SP_LABELS_PORTABLE, commitment, n, start, count, NULL, ref, NULL, NULL, NULL) == SP_OK,
                  "portable N=%u", (unsigned)n);
            for (int k = 0; k < nimpls; k++) {
                memset(got, 0xA5, count * 32);
                int rc = sp_labels(impls[k], commitment, n, start, count, NULL, got, NULL, NULL, NULL);
                CHECK(rc == SP_OK && memcmp(ref, got, count * 32) == 0,
                      "%s != portable: N=%u start=%llu count=%zu rc=%d", sp_labels_name(impls[k]), (unsigned)n,
                      (unsigned long long)start, count, rc);
            }
            free(ref);
            free(got);
        }
    }
}

/* The lane kernel (labels_lanes.h) against the general-r ROMix of sp_scrypt_jane: two code paths. */
static void test_against_scrypt_jane(int rounds) {
    for (int rep = 0; rep < rounds; rep++) {
        uint8_t commitment[32], password[72] = {0}, want[32], got[32];
        uint32_t n = 2u << (rnd() % 10);
        uint64_t index = rnd();
        fill(commitment, 32);
        memcpy(password, commitment, 32);
        for (int i = 0; i < 8; i++) password[32 + i] = (uint8_t)(index >> (8 * i));
        CHECK(sp_scrypt_jane(password, sizeof password, NULL, 0, n, 1, 1, want, 32) == SP_OK, "scrypt_jane");
        CHECK(sp_labels(SP_LABELS_PORTABLE, commitment, n, index, 1, NULL, got, NULL, NULL, NULL) == SP_OK &&
                  memcmp(want, got, 32) == 0,
              "portable label != sp_scrypt_jane(N=%u, index=%llu)", (unsigned)n, (unsigned long long)index);
    }
}

static void test_outputs_and_vrf(void) {
    enum { COUNT = 37, N = 16 };
    uint8_t commitment[32], full[COUNT * 32], half[COUNT * 16], min32[32];
    uint64_t start = 1000, vrf_index = 77;
    int found = 0;
    fill(commitment, 32);
    CHECK(sp_labels(SP_LABELS_AUTO, commitment, N, start, COUNT, half, full, NULL, NULL, NULL) == SP_OK, "both");
    for (int i = 0; i < COUNT; i++) CHECK(memcmp(half + 16 * i, full + 32 * i, 16) == 0, "out16[%d] prefix", i);
    uint8_t half_only[COUNT * 16];
    CHECK(sp_labels(SP_LABELS_AUTO, commitment, N, start, COUNT, half_only, NULL, NULL, NULL, NULL) == SP_OK &&
              memcmp(half_only, half, sizeof half) == 0,
          "out16 alone");

    /* threshold = the third smallest label: the minimum must be found, strictly below */
    int order[COUNT];
    for (int i = 0; i < COUNT; i++) order[i] = i;
    for (int i = 0; i < COUNT; i++)
        for (int j = i + 1; j < COUNT; j++)
            if (memcmp(full + 32 * order[j], full + 32 * order[i], 32) < 0) {
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
    memcpy(min32, full + 32 * order[2], 32);
    CHECK(sp_labels(SP_LABELS_AUTO, commitment, N, start, COUNT, NULL, NULL, min32, &vrf_index, &found) == SP_OK,
          "vrf only");
    CHECK(found == 1 && vrf_index == start + (uint64_t)order[0] && memcmp(min32, full + 32 * order[0], 32) == 0,
          "vrf minimum: found=%d index=%llu want %llu", found, (unsigned long long)vrf_index,
          (unsigned long long)(start + (uint64_t)order[0]));
    /* equal to the minimum is not below it: unchanged */
    found = 0;
    vrf_index = 5;
    CHECK(sp_labels(SP_LABELS_AUTO, commitment, N, start, COUNT, NULL, NULL, min32, &vrf_index, &found) == SP_OK &&
              found == 0 && vrf_index == 5 && memcmp(min32, full + 32 * order[0], 32) == 0,
          "vrf: nothing strictly below leaves everything unchanged");
    /* the running minimum carries across calls: the second half cannot beat a lower first-half minimum */
    uint8_t all_ff[32];
    memset(all_ff, 0xff, 32);
    memcpy(min32, all_ff, 32);
    found = 0;
    CHECK(sp_labels(SP_LABELS_AUTO, commitment, N, start, 20, NULL, NULL, min32, &vrf_index, &found) == SP_OK &&
              sp_labels(SP_LABELS_AUTO, commitment, N, start + 20, COUNT - 20, NULL, NULL, min32, &vrf_index,
                        &found) == SP_OK,
          "vrf in two calls");
    CHECK(found == 1 && vrf_index == start + (uint64_t)order[0], "vrf across calls: index %llu",
          (unsigned long long)vrf_index);
}

static void test_bad_arguments(void) {
    uint8_t c[32] = {0}, out[64], min32[32] = {0};
    uint64_t idx;
    int found;
    static const uint32_t bad_n[] = {0, 1, 3, 6, 1000, 0x80000001u};
    for (size_t i = 0; i < sizeof bad_n / sizeof bad_n[0]; i++)
        CHECK(sp_labels(SP_LABELS_AUTO, c, bad_n[i], 0, 1, out, NULL, NULL, NULL, NULL) == SP_ERR_INVALID,
              "N=%u rejected", (unsigned)bad_n[i]);
    CHECK(sp_labels(SP_LABELS_AUTO, NULL, 16, 0, 1, out, NULL, NULL, NULL, NULL) == SP_ERR_INVALID, "NULL commitment");
    CHECK(sp_labels(SP_LABELS_AUTO, c, 16, 0, 1, NULL, NULL, NULL, NULL, NULL) == SP_ERR_INVALID, "no output");
    CHECK(sp_labels(SP_LABELS_AUTO, c, 16, 0, 1, NULL, NULL, min32, NULL, &found) == SP_ERR_INVALID, "vrf w/o index");
    CHECK(sp_labels(SP_LABELS_AUTO, c, 16, 0, 1, NULL, NULL, min32, &idx, NULL) == SP_ERR_INVALID, "vrf w/o found");
    CHECK(sp_labels(SP_LABELS_AUTO, c, 16, UINT64_MAX, 2, out, NULL, NULL, NULL, NULL) == SP_ERR_INVALID,
          "range past 2^64-1");
    CHECK(sp_labels(SP_LABELS_AUTO, c, 16, UINT64_MAX, 1, out, NULL, NULL, NULL, NULL) == SP_OK, "index 2^64-1");
    CHECK(sp_labels(SP_LABELS_AUTO, c, 16, 5, 0, NULL, NULL, NULL, NULL, NULL) == SP_OK, "count 0");
    CHECK(sp_labels(-1, c, 16, 0, 1, out, NULL, NULL, NULL, NULL) == SP_ERR_INVALID, "impl -1");
    CHECK(sp_labels(SP_LABELS_COUNT, c, 16, 0, 1, out, NULL, NULL, NULL, NULL) == SP_ERR_INVALID, "impl COUNT");
    for (int i = 1; i < SP_LABELS_COUNT; i++)
        if (!sp_labels_available(i))
            CHECK(sp_labels(i, c, 16, 0, 1, out, NULL, NULL, NULL, NULL) == SP_ERR_UNSUPPORTED, "%s unsupported",
                  sp_labels_name(i));
    CHECK(sp_labels_name(SP_LABELS_COUNT) == NULL && sp_labels_name(-1) == NULL, "names out of range");
    CHECK(sp_labels_available(0) == 0 && sp_labels_available(SP_LABELS_COUNT) == 0, "available out of range");
    CHECK(sp_scrypt_jane(c, 32, c, 0, 16, 3, 1, out, 32) == SP_ERR_INVALID, "scrypt r=3");
    CHECK(sp_scrypt_jane(c, 32, c, 0, 16, 1, 0, out, 32) == SP_ERR_INVALID, "scrypt p=0");
    CHECK(sp_scrypt_jane(c, 32, c, 0, 12, 1, 1, out, 32) == SP_ERR_INVALID, "scrypt N=12");
    CHECK(sp_scrypt_jane(NULL, 32, c, 0, 16, 1, 1, out, 32) == SP_ERR_INVALID, "scrypt NULL password");
    CHECK(sp_scrypt_jane(c, 32, c, 0, 16, 1, 1, NULL, 32) == SP_ERR_INVALID, "scrypt NULL out");
}

/* Threads with different N and implementations at once: the per-thread scratch buffers must not mix. */
typedef struct {
    int impl;
    uint32_t n;
    uint8_t commitment[32];
    uint8_t out[24 * 32];
    int rc;
} job;

static void *run_job(void *arg) {
    job *j = arg;
    for (int rep = 0; rep < 3 && j->rc == SP_OK; rep++)
        j->rc = sp_labels(j->impl, j->commitment, j->n << rep, 7, 24, NULL, j->out, NULL, NULL, NULL);
    return NULL;
}

static void test_threads(void) {
    enum { T = 4 };
    job jobs[T];
    pthread_t th[T];
    for (int t = 0; t < T; t++) {
        jobs[t].impl = impls[t % nimpls];
        jobs[t].n = 64u << t;
        jobs[t].rc = SP_OK;
        fill(jobs[t].commitment, 32);
        CHECK(pthread_create(&th[t], NULL, run_job, &jobs[t]) == 0, "pthread_create");
    }
    for (int t = 0; t < T; t++) {
        uint8_t want[24 * 32];
        pthread_join(th[t], NULL);
        CHECK(sp_labels(SP_LABELS_PORTABLE, jobs[t].commitment, jobs[t].n << 2, 7, 24, NULL, want, NULL, NULL,
                        NULL) == SP_OK &&
                  jobs[t].rc == SP_OK && memcmp(want, jobs[t].out, sizeof want) == 0,
              "thread %d (%s) rc=%d", t, sp_labels_name(jobs[t].impl), jobs[t].rc);
    }
}

/* Out of memory is an error code, not a crash: a child with a 2 GiB address-space limit asks every
 * implementation for N = 2^25 (4 GiB of V per lane). Skipped under ASan (its shadow needs far more
 * address space) and on aarch64 (qemu-user's own reservations share the limit). */
static void test_out_of_memory(void) {
#if !defined(__SANITIZE_ADDRESS__) && !defined(__aarch64__)
    pid_t pid = fork();
    if (pid == 0) {
        struct rlimit lim = {2ull << 30, 2ull << 30};
        uint8_t c[32] = {0}, out[32];
        int bad = setrlimit(RLIMIT_AS, &lim) != 0;
        for (int k = 0; k < nimpls; k++)
            bad |= sp_labels(impls[k], c, 1u << 25, 0, 1, NULL, out, NULL, NULL, NULL) != SP_ERR_NOMEM;
        _exit(bad);
    }
    int status = 0;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "N=2^25 under a 2 GiB limit returns SP_ERR_NOMEM for every implementation (status %d)", status);
#endif
}

static int selftest(int rounds) {
    for (int i = 1; i < SP_LABELS_COUNT; i++)
        if (sp_labels_available(i)) impls[nimpls++] = i;
    printf("implementations:");
    for (int k = 0; k < nimpls; k++) printf(" %s", sp_labels_name(impls[k]));
    printf(" (selected %s)\n", sp_labels_name(sp_labels_selected()));
    test_cross(rounds);
    test_against_scrypt_jane(rounds);
    test_outputs_and_vrf();
    test_bad_arguments();
    test_threads();
    test_out_of_memory();
    printf("%d checks, %d failures\n", checks, failures);
    return failures ? 1 : 0;
}

int main(int argc, char **argv) {
    if (argc < 2) return selftest(4);
    const char *mode = argv[1];
    if (strcmp(mode, "selftest") == 0) {
        uint64_t rounds = 4;
        if (argc > 3 || (argc == 3 && (!parse_u64(argv[2], &rounds) || rounds < 1 || rounds > 1000))) return usage();
        return selftest((int)rounds);
    }
    if (strcmp(mode, "info") == 0 && argc == 2) return mode_info();
    if (strcmp(mode, "labels") == 0 && argc == 7) return mode_labels(argv + 2);
    if (strcmp(mode, "scrypt") == 0 && argc == 8) return mode_scrypt(argv + 2);
    if (strcmp(mode, "keccak") == 0 && argc == 3) return mode_keccak(argv + 2);
    return usage();
}
