/*
 * test_scan.c — the proving scan, the label test and raw AES-128 of every AES implementation this
 * CPU has, against native/tests/vectors/scan.json (FIPS-197 / SP 800-38A known answers, post-rs
 * proving_vector, random scan cases with hits from an independent Python model, label-test cases)
 * and against each other on random data (soft is the reference). Also: overflow, bad arguments,
 * and the SMESHPOST_AES override.
 *
 * Usage: test_scan [vectors-dir]        (default $SMESHPOST_VECTORS, else vectors/ beside this file)
 *        test_scan --bench [MiB [difficulty-hex]]   scan rate vs raw ECB per implementation (no checks)
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "smeshpost.h"
#include "test_scan_json.h"

static int impls[SP_AES_COUNT], nimpls;

/* ---------------------------------------------------------------- known answers */

static void test_aes_kat(const jv *root) {
    const jv *kat = jv_get(root, "aes_kat");
    CHECK(kat && kat->nkids >= 2, "aes_kat vectors present");
    for (int k = 0; k < nimpls; k++)
        for (size_t i = 0; kat && i < kat->nkids; i++) {
            size_t nk, np, nc;
            uint8_t *key = jv_hex(jv_get(&kat->kids[i], "key"), &nk);
            uint8_t *pt = jv_hex(jv_get(&kat->kids[i], "plaintext"), &np);
            uint8_t *ct = jv_hex(jv_get(&kat->kids[i], "ciphertext"), &nc);
            uint8_t out[16];
            int rc = sp_aes128_ecb(impls[k], key, pt, out, 1);
            CHECK(rc == SP_OK && nk == 16 && np == 16 && memcmp(out, ct, 16) == 0, "%s: AES KAT %zu",
                  sp_aes_name(impls[k]), i);
            free(key); free(pt); free(ct);
        }
}

/* Multi-block ECB of every impl equals soft for every length 0..40 (covers the 4/8-block tails). */
static void test_ecb_cross(void) {
    uint8_t key[16], in[40 * 16], ref[40 * 16], out[40 * 16];
    for (size_t n = 0; n <= 40; n++) {
        fill(key, 16);
        fill(in, n * 16);
        CHECK(sp_aes128_ecb(SP_AES_SOFT, key, in, ref, n) == SP_OK, "soft ecb n=%zu", n);
        for (int k = 0; k < nimpls; k++) {
            memset(out, 0xA5, sizeof out);
            int rc = sp_aes128_ecb(impls[k], key, in, out, n);
            CHECK(rc == SP_OK && memcmp(out, ref, n * 16) == 0 && out[n * 16 - (n == 40)] == (n == 40 ? out[n * 16 - 1] : 0xA5),
                  "%s: ecb of %zu blocks equals soft and writes nothing past the end", sp_aes_name(impls[k]), n);
        }
    }
}

/* ---------------------------------------------------------------- scan against the Python model */

static void test_scan_cases(const jv *root) {
    const jv *cases = jv_get(root, "scan_cases");
    CHECK(cases && cases->nkids >= 1, "scan_cases present");
    for (size_t c = 0; cases && c < cases->nkids; c++) {
        const jv *v = &cases->kids[c];
        size_t nkeys, nlazy, nbytes;
        uint8_t *keys = jv_hex(jv_get(v, "keys"), &nkeys);
        uint8_t *lazy = jv_hex(jv_get(v, "lazy_keys"), &nlazy);
        uint8_t *labels = jv_hex(jv_get(v, "labels"), &nbytes);
        const jv *want = jv_get(v, "hits");
        uint32_t first = (uint32_t)jv_u64(jv_get(v, "first_group")), ngroups = (uint32_t)(nkeys / 16);
        CHECK(nlazy == nkeys * 16, "case %zu: 16 lazy keys per group", c);
        for (int k = 0; k < nimpls; k++) {
            sp_hit hits[512];
            size_t n = 999;
            int rc = sp_scan(impls[k], keys, lazy, first, ngroups, labels, nbytes / 16, jv_u64(jv_get(v, "base_index")),
                             jv_u64(jv_get(v, "difficulty")), hits, 512, &n);
            int same = rc == SP_OK && want && n == want->nkids;
            for (size_t i = 0; same && i < n; i++)
                same = hits[i].nonce == jv_u64(&want->kids[i].kids[0]) && hits[i].index == jv_u64(&want->kids[i].kids[1]);
            CHECK(same, "%s: scan case %zu gives the model's %zu hits (rc %d, got %zu)", sp_aes_name(impls[k]), c,
                  want ? want->nkids : 0, rc, n);
        }
        free(keys); free(lazy); free(labels);
    }
}

/* post-rs proving_vector: per-nonce lists in discovery order, first to reach k2 wins. */
static void test_proving_vector(const jv *root) {
    const jv *pv = jv_get(root, "proving_vector");
    CHECK(pv != NULL, "proving_vector present");
    if (!pv) return;
    size_t nk, nl = 0, n;
    uint8_t *key = jv_hex(jv_get(pv, "key"), &nk);
    uint8_t lazy[256];
    const jv *lazies = jv_get(pv, "lazy_keys");
    for (size_t i = 0; lazies && i < lazies->nkids && i < 16; i++, nl++) {
        uint8_t *k = jv_hex(&lazies->kids[i], &n);
        memcpy(lazy + 16 * i, k, 16);
        free(k);
    }
    CHECK(nl == 16 && nk == 16, "proving_vector keys");
    size_t nlabels = jv_u64(jv_get(pv, "num_labels")), k2 = jv_u64(jv_get(pv, "k2"));
    uint8_t *data = malloc(nlabels * 16);
    for (size_t i = 0; i < nlabels * 16; i++) data[i] = (uint8_t)(i % 12);
    const jv *want = jv_get(pv, "indices");
    for (int k = 0; k < nimpls; k++) {
        sp_hit hits[4096];
        size_t nhits = 0, count[16] = {0};
        uint64_t lists[16][64];
        int rc = sp_scan(impls[k], key, lazy, 0, 1, data, nlabels, 0, jv_u64(jv_get(pv, "difficulty")), hits, 4096, &nhits);
        int winner = -1;
        for (size_t i = 0; rc == SP_OK && i < nhits && winner < 0; i++) {
            uint32_t nonce = hits[i].nonce;
            if (nonce >= 16 || count[nonce] >= 64) break;
            lists[nonce][count[nonce]++] = hits[i].index;
            if (count[nonce] == k2) winner = (int)nonce;
        }
        int same = winner == (int)jv_u64(jv_get(pv, "nonce")) && want && want->nkids == k2;
        for (size_t i = 0; same && i < k2; i++) same = lists[winner][i] == jv_u64(&want->kids[i]);
        CHECK(same, "%s: proving_vector finds nonce %d with the post-rs indices (got nonce %d)", sp_aes_name(impls[k]),
              (int)jv_u64(jv_get(pv, "nonce")), winner);
    }
    free(key); free(data);
}

static void test_label_tests(const jv *root) {
    const jv *cases = jv_get(root, "label_tests");
    CHECK(cases && cases->nkids == 4, "label_tests present");
    for (size_t c = 0; cases && c < cases->nkids; c++) {
        const jv *v = &cases->kids[c];
        size_t n;
        uint8_t *key = jv_hex(jv_get(v, "key"), &n), *lazy = jv_hex(jv_get(v, "lazy_key"), &n);
        uint8_t *label = jv_hex(jv_get(v, "label"), &n);
        int got = sp_label_test(key, lazy, label, (uint32_t)jv_u64(jv_get(v, "nonce")), jv_u64(jv_get(v, "difficulty")));
        const jv *kind = jv_get(v, "kind");
        CHECK(got == (int)jv_i64(jv_get(v, "expected")), "label test %.*s: got %d", kind ? (int)kind->len : 0,
              kind ? kind->str : "", got);
        free(key); free(lazy); free(label);
    }
    uint8_t z[16] = {0};
    CHECK(sp_label_test(NULL, z, z, 0, 1) == SP_ERR_INVALID, "label test with NULL key is SP_ERR_INVALID");
}

/* ---------------------------------------------------------------- cross-implementation, random data */

typedef struct {
    uint8_t *keys, *lazy, *labels;
    uint32_t first, ngroups;
    size_t nlabels;
    uint64_t base, difficulty;
} scan_input;

static scan_input random_input(uint32_t ngroups, size_t nlabels, uint64_t difficulty) {
    scan_input in = {malloc(ngroups * 16), malloc(ngroups * 256), malloc(nlabels * 16 + 1), (uint32_t)(rnd() % 200),
                     ngroups, nlabels, rnd() >> 8, difficulty};
    fill(in.keys, ngroups * 16);
    fill(in.lazy, ngroups * 256);
    fill(in.labels, nlabels * 16);
    return in;
}

static void free_input(scan_input *in) { free(in->keys); free(in->lazy); free(in->labels); }

static int run(int impl, const scan_input *in, sp_hit *hits, size_t max, size_t *n) {
    return sp_scan(impl, in->keys, in->lazy, in->first, in->ngroups, in->labels, in->nlabels, in->base, in->difficulty,
                   hits, max, n);
}

static void test_cross_random(void) {
    /* msb 0 with a mainnet-like lsb, small msbs, the SWAR edge 127/128 and "everything is good". */
    static const uint64_t msbs[] = {0, 1, 3, 127, 128, 255};
    enum { MAX = 200000 };
    sp_hit *ref = malloc(MAX * sizeof *ref), *got = malloc(MAX * sizeof *got);
    for (size_t d = 0; d < sizeof msbs / sizeof msbs[0]; d++) {
        size_t nlabels = msbs[d] >= 127 ? 203 : 4099; /* not a multiple of 8: the tail is ignored */
        scan_input in = random_input(msbs[d] >= 127 ? 3 : 18, nlabels, (msbs[d] << 56) | (rnd() >> 8));
        size_t nref = 0, n = 0;
        int rc = run(SP_AES_SOFT, &in, ref, MAX, &nref);
        CHECK(rc == SP_OK, "soft scan msb %llu", (unsigned long long)msbs[d]);
        for (int k = 0; k < nimpls; k++) {
            rc = run(impls[k], &in, got, MAX, &n);
            CHECK(rc == SP_OK && n == nref && memcmp(got, ref, n * sizeof *got) == 0,
                  "%s: random scan msb %llu equals soft (%zu vs %zu hits)", sp_aes_name(impls[k]),
                  (unsigned long long)msbs[d], n, nref);
        }
        if (msbs[d] == 0) CHECK(nref > 0, "msb 0 with a random lsb still finds lazy hits (%zu)", nref);
        free_input(&in);
    }
    free(ref); free(got);
}

/* More hits than the buffer: SP_ERR_OVERFLOW, exactly the first max_hits written. */
static void test_overflow(void) {
    scan_input in = random_input(2, 64, 0x20ull << 56);
    sp_hit ref[2048], got[2048];
    size_t nref = 0;
    CHECK(run(SP_AES_SOFT, &in, ref, 2048, &nref) == SP_OK && nref > 10, "enough hits for the overflow test");
    for (int k = 0; k < nimpls; k++) {
        size_t n = 0, max = nref / 2;
        memset(got, 0xEE, sizeof got);
        int rc = run(impls[k], &in, got, max, &n);
        CHECK(rc == SP_ERR_OVERFLOW && n == max && memcmp(got, ref, max * sizeof *got) == 0 && got[max].nonce == 0xEEEEEEEEu,
              "%s: overflow keeps the first %zu hits (rc %d, n %zu)", sp_aes_name(impls[k]), max, rc, n);
        rc = run(impls[k], &in, got, nref, &n);
        CHECK(rc == SP_OK && n == nref, "%s: a buffer of exactly the hit count is enough", sp_aes_name(impls[k]));
        rc = run(impls[k], &in, NULL, 0, &n);
        CHECK(rc == SP_ERR_OVERFLOW && n == 0, "%s: no buffer at all overflows at the first hit", sp_aes_name(impls[k]));
    }
    free_input(&in);
}

static void test_bad_arguments(void) {
    scan_input in = random_input(1, 16, 0);
    sp_hit h[4];
    size_t n = 77;
    for (int k = 0; k < nimpls; k++) {
        int impl = impls[k];
        CHECK(sp_scan(impl, NULL, in.lazy, 0, 1, in.labels, 16, 0, 0, h, 4, &n) == SP_ERR_INVALID && n == 0,
              "NULL keys");
        CHECK(sp_scan(impl, in.keys, NULL, 0, 1, in.labels, 16, 0, 0, h, 4, &n) == SP_ERR_INVALID, "NULL lazy keys");
        CHECK(sp_scan(impl, in.keys, in.lazy, 0, 1, NULL, 16, 0, 0, h, 4, &n) == SP_ERR_INVALID, "NULL labels");
        CHECK(sp_scan(impl, in.keys, in.lazy, 0, 1, in.labels, 16, 0, 0, NULL, 4, &n) == SP_ERR_INVALID, "NULL hits");
        CHECK(sp_scan(impl, in.keys, in.lazy, 0, 1, in.labels, 16, 0, 0, h, 4, NULL) == SP_ERR_INVALID, "NULL nhits");
        CHECK(sp_scan(impl, in.keys, in.lazy, (1u << 28), 1, in.labels, 16, 0, 0, h, 4, &n) == SP_ERR_INVALID,
              "nonce beyond u32");
        CHECK(sp_scan(impl, in.keys, in.lazy, 0, 1, in.labels, 16, UINT64_MAX - 8, 0, h, 4, &n) == SP_ERR_INVALID,
              "index beyond u64");
        CHECK(sp_scan(impl, in.keys, in.lazy, 0, 1, in.labels, 16, UINT64_MAX - 15, 0, h, 4, &n) == SP_OK,
              "last index exactly u64 max is fine");
        CHECK(sp_scan(impl, in.keys, in.lazy, 0, 0, in.labels, 16, 0, ~0ull, h, 4, &n) == SP_OK && n == 0,
              "zero groups: nothing to do");
        CHECK(sp_scan(impl, in.keys, in.lazy, 0, 1, in.labels, 7, 0, ~0ull, h, 4, &n) == SP_OK && n == 0,
              "fewer than 8 labels: nothing scanned");
        CHECK(sp_aes128_ecb(impl, NULL, in.labels, h == NULL ? NULL : (uint8_t *)h, 1) == SP_ERR_INVALID, "ecb NULL key");
    }
    CHECK(sp_scan(99, in.keys, in.lazy, 0, 1, in.labels, 16, 0, 0, h, 4, &n) == SP_ERR_UNSUPPORTED, "unknown impl");
    CHECK(sp_aes128_ecb(-1, in.keys, in.labels, (uint8_t *)h, 1) == SP_ERR_UNSUPPORTED, "unknown impl (ecb)");
    for (int impl = 1; impl < SP_AES_COUNT; impl++)
        if (!sp_aes_available(impl))
            CHECK(sp_scan(impl, in.keys, in.lazy, 0, 1, in.labels, 16, 0, 0, h, 4, &n) == SP_ERR_UNSUPPORTED,
                  "%s is not available here and says so", sp_aes_name(impl));
    free_input(&in);
}

/* SMESHPOST_AES forces AUTO; AUTO then behaves exactly like the named implementation. */
static void test_override(void) {
    const char *forced = getenv("SMESHPOST_AES");
    int sel = sp_aes_selected();
    printf("# selected AES implementation: %s\n", sp_aes_name(sel));
    CHECK(sp_aes_available(sel), "the selected implementation is available");
    if (forced && *forced) CHECK(strcmp(sp_aes_name(sel), forced) == 0, "SMESHPOST_AES=%s is honoured", forced);
    scan_input in = random_input(4, 256, 2ull << 56);
    sp_hit a[4096], b[4096];
    size_t na = 0, nb = 0;
    CHECK(run(SP_AES_AUTO, &in, a, 4096, &na) == SP_OK && run(sel, &in, b, 4096, &nb) == SP_OK && na == nb &&
              memcmp(a, b, na * sizeof *a) == 0,
          "auto equals the selected implementation");
    free_input(&in);
}

/* ---------------------------------------------------------------- bench */

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); /* CPU time: the build box is shared */
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Scan of `mib` MiB at 288 nonces (18 groups, mainnet difficulty: msb 0, so ~39% of the 8-block
 * outputs hold a candidate byte and need the lazy test) vs raw ECB over as many blocks (1 MiB
 * buffer reused, so both sides run from cache). Best of 3. */
static int bench(size_t mib, uint64_t difficulty) {
    size_t nlabels = mib << 16, nblocks = nlabels * 18, piece = 1 << 16;
    scan_input in = random_input(18, nlabels, difficulty);
    uint8_t *buf = malloc(piece * 16);
    fill(buf, piece * 16);
    sp_hit *hits = malloc(100000 * sizeof *hits);
    for (int k = 0; k < nimpls; k++) {
        double scan = 1e9, ecb = 1e9;
        size_t n;
        for (int rep = 0; rep < 3; rep++) {
            double t0 = now();
            run(impls[k], &in, hits, 100000, &n);
            double t1 = now();
            for (size_t done = 0; done < nblocks; done += piece) sp_aes128_ecb(impls[k], in.keys, buf, buf, piece);
            double t2 = now();
            scan = t1 - t0 < scan ? t1 - t0 : scan;
            ecb = t2 - t1 < ecb ? t2 - t1 : ecb;
        }
        printf("%-6s scan %8.1f MB/s of labels at 288 nonces (%7.1f Mblocks/s), raw ECB %7.1f Mblocks/s, ratio %.2f\n",
               sp_aes_name(impls[k]), (double)nlabels * 16 / scan / 1e6, (double)nblocks / scan / 1e6,
               (double)nblocks / ecb / 1e6, ecb / scan);
    }
    free(buf); free(hits);
    free_input(&in);
    return 0;
}

int main(int argc, char **argv) {
    for (int impl = 1; impl < SP_AES_COUNT; impl++)
        if (sp_aes_available(impl)) impls[nimpls++] = impl;
    if (argc > 1 && strcmp(argv[1], "--bench") == 0) return bench(argc > 2 ? (size_t)atoi(argv[2]) : 1, argc > 3 ? strtoull(argv[3], NULL, 16) : 0x680000000ull);

    char path[4096];
    const char *dir = argc > 1 ? argv[1] : getenv("SMESHPOST_VECTORS");
    if (dir) {
        snprintf(path, sizeof path, "%s/scan.json", dir);
    } else { /* vectors/ beside this source file */
        const char *slash = strrchr(__FILE__, '/');
        snprintf(path, sizeof path, "%.*svectors/scan.json", slash ? (int)(slash - __FILE__ + 1) : 0, __FILE__);
    }
    char *text = jv_read_file(path);
    jv root;
    if (!text || !jv_parse(text, &root) || root.type != 'o') {
        printf("FAIL cannot read the vectors %s\n", path);
        return 2;
    }
    printf("# AES implementations available:");
    for (int k = 0; k < nimpls; k++) printf(" %s", sp_aes_name(impls[k]));
    printf("\n");
    test_aes_kat(&root);
    test_ecb_cross();
    test_scan_cases(&root);
    test_proving_vector(&root);
    test_label_tests(&root);
    test_cross_random();
    test_overflow();
    test_bad_arguments();
    test_override();
    jv_free(&root);
    free(text);
    printf("%s: %d checks, %d failures\n", failures ? "FAIL" : "ok", checks, failures);
    return failures ? 1 : 0;
}
