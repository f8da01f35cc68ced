/*
 * scan.c — the public proving-scan API (sp_scan, sp_label_test, sp_aes128_ecb) and the parts of the
 * scan every AES implementation shares: argument checks, the post-rs Prover8_56 walk over one chunk's
 * AES output (msb test, lazy lsb test, hit order) and the generic chunk -> group driver.
 */
#include <stdlib.h>
#include <string.h>

#include "aes_common.h"


int sp_scan_job_init(sp_scan_job *job, const uint8_t *keys, const uint8_t *lazy_keys, uint32_t first_group,
                     uint32_t ngroups, const uint8_t *labels, size_t nlabels, uint64_t base_index,
                     uint64_t difficulty, sp_hit *hits, size_t max_hits, size_t *nhits) {
    if (!nhits) return SP_ERR_INVALID;
    *nhits = 0;
    if (!keys || !lazy_keys || (nlabels && !labels) || (max_hits && !hits)) return SP_ERR_INVALID;
    if (ngroups > SP_MAX_GROUPS || first_group > SP_MAX_GROUPS - ngroups) return SP_ERR_INVALID;
    size_t nchunks = nlabels / SP_CHUNK_LABELS;
    /* The last scanned index must fit a u64. */
    if (nchunks && (uint64_t)(nchunks * SP_CHUNK_LABELS - 1) > UINT64_MAX - base_index) return SP_ERR_INVALID;
    *job = (sp_scan_job){keys,     lazy_keys,  first_group, ngroups, labels, nchunks, base_index,
                         difficulty, hits,     max_hits,    0};
    return SP_OK;
}

int sp_cands_flush(sp_scan_ws *ws) {
    sp_scan_job *job = ws->job;
    sp_cands *cs = ws->cs;
    uint64_t lsb = job->difficulty & SP_LSB_MASK, low[8];
    uint32_t offs[8];
    const uint8_t *in[8];
    size_t pos[8], k = 0;
    /* Decide the lazy candidates 8 at a time: lazy := 2 (good) or 3 (bad). */
    for (size_t i = 0; i <= cs->n; i++) {
        if (i < cs->n && cs->c[i].lazy) {
            offs[k] = cs->c[i].nonce_off;
            in[k] = cs->c[i].label;
            pos[k++] = i;
        }
        if (k == 8 || (i == cs->n && k)) {
            ws->impl->lazy8(ws, k, offs, in, low);
            for (size_t m = 0; m < k; m++) cs->c[pos[m]].lazy = low[m] < lsb ? 2 : 3;
            k = 0;
        }
    }
    size_t n = cs->n;
    cs->n = 0;
    for (size_t i = 0; i < n; i++) {
        if (cs->c[i].lazy == 3) continue;
        if (job->nhits == job->max_hits) return SP_ERR_OVERFLOW;
        job->hits[job->nhits++] =
            (sp_hit){job->first_group * SP_NONCES_PER_AES + cs->c[i].nonce_off, 0, cs->c[i].index};
    }
    return SP_OK;
}

int sp_cands_add_listed(sp_scan_ws *ws, size_t chunk, size_t nl, sp_masks_fn masks) {
    uint8_t msb = (uint8_t)(ws->job->difficulty >> 56);
    for (size_t i = 0; i < nl; i++) {
        uint64_t m[2];
        const uint8_t *out = ws->outs + SP_CHUNK_BYTES * (size_t)ws->list[i];
        masks(out, msb, m);
        int rc = sp_cands_add(ws, chunk, ws->list[i], out, m[0], m[1]);
        if (rc != SP_OK) return rc;
    }
    return SP_OK;
}

/* 1 when some byte of the 128 may be <= msb (exact for msb < 128, always 1 above). */
static int any_candidate(const uint8_t out[128], uint8_t msb) {
    if (msb >= 128) return 1;
    const uint64_t ones = 0x0101010101010101ull, n = ones * (uint64_t)(msb + 1u);
    uint64_t acc = 0;
    for (int i = 0; i < 16; i++) {
        uint64_t x;
        memcpy(&x, out + 8 * i, 8);
        acc |= (x - n) & ~x; /* high bit set in a byte < msb + 1 (classic "hasless") */
    }
    return (acc & (ones * 0x80)) != 0;
}

int sp_scan_body_generic(sp_scan_job *job, sp_scan_ws *ws) {
    uint8_t msb = (uint8_t)(job->difficulty >> 56), out[SP_CHUNK_BYTES];
    for (size_t chunk = 0; chunk < job->nchunks; chunk++) {
        const uint8_t *in = job->labels + chunk * SP_CHUNK_BYTES;
        for (uint32_t g = 0; g < job->ngroups; g++) {
            ws->impl->encrypt8(sp_ws_sched(ws, g), in, out);
            if (!any_candidate(out, msb)) continue; /* the bitsliced AES dwarfs a mispredict here */
            uint64_t m[2] = {0, 0};
            for (unsigned o = 0; o < SP_CHUNK_BYTES; o++) m[o / 64] |= (uint64_t)(out[o] <= msb) << (o % 64);
            int rc = sp_cands_add(ws, chunk, g, out, m[0], m[1]);
            if (rc != SP_OK) return rc;
        }
    }
    return sp_cands_flush(ws);
}

int sp_scan_run(const sp_aes_impl *impl, const uint8_t *keys, const uint8_t *lazy_keys, uint32_t first_group,
                uint32_t ngroups, const uint8_t *labels, size_t nlabels, uint64_t base_index, uint64_t difficulty,
                sp_hit *hits, size_t max_hits, size_t *nhits) {
    sp_scan_job job;
    int rc = sp_scan_job_init(&job, keys, lazy_keys, first_group, ngroups, labels, nlabels, base_index, difficulty,
                              hits, max_hits, nhits);
    if (rc != SP_OK) return rc;
    size_t ng = (size_t)ngroups + 1, nn = ng * SP_NONCES_PER_AES; /* +1: no zero-size allocations */
    sp_scan_ws ws = {impl,
                     &job,
                     malloc(ng * impl->sched_size),
                     malloc(nn * impl->sched_size),
                     calloc(nn, 1),
                     malloc(ng * SP_CHUNK_BYTES),
                     malloc(ng * sizeof(uint32_t)),
                     malloc(sizeof(sp_cands))};
    if (!ws.sched || !ws.lazy_sched || !ws.lazy_ready || !ws.outs || !ws.list || !ws.cs) {
        rc = SP_ERR_NOMEM;
    } else {
        ws.cs->n = 0;
        for (uint32_t g = 0; g < ngroups; g++) impl->expand(keys + 16 * (size_t)g, ws.sched + g * impl->sched_size);
        rc = impl->body(&job, &ws);
    }
    free(ws.sched);
    free(ws.lazy_sched);
    free(ws.lazy_ready);
    free(ws.outs);
    free(ws.list);
    free(ws.cs);
    *nhits = job.nhits;
    return rc;
}

/* ---------------------------------------------------------------- public API */

int sp_scan(int impl, const uint8_t *keys, const uint8_t *lazy_keys, uint32_t first_group, uint32_t ngroups,
            const uint8_t *labels, size_t nlabels, uint64_t base_index, uint64_t difficulty, sp_hit *hits,
            size_t max_hits, size_t *nhits) {
    sp_scan_job job;
    int rc = sp_scan_job_init(&job, keys, lazy_keys, first_group, ngroups, labels, nlabels, base_index, difficulty,
                              hits, max_hits, nhits);
    if (rc != SP_OK) return rc;
    sp_scan_fn f = sp_dispatch_scan(impl);
    if (!f) return SP_ERR_UNSUPPORTED;
    return f(keys, lazy_keys, first_group, ngroups, labels, nlabels, base_index, difficulty, hits, max_hits, nhits);
}

int sp_label_test(const uint8_t key[16], const uint8_t lazy_key[16], const uint8_t label[16], uint32_t nonce,
                  uint64_t difficulty) {
    if (!key || !lazy_key || !label) return SP_ERR_INVALID;
    sp_ecb_fn ecb = sp_dispatch_ecb(SP_AES_AUTO);
    uint8_t c[16];
    int rc = ecb(key, label, c, 1);
    if (rc != SP_OK) return rc;
    uint8_t msb = (uint8_t)(difficulty >> 56), b = c[nonce % SP_NONCES_PER_AES];
    if (b < msb) return 1;
    if (b > msb) return 0;
    rc = ecb(lazy_key, label, c, 1);
    if (rc != SP_OK) return rc;
    return (sp_load64_le(c) & SP_LSB_MASK) < (difficulty & SP_LSB_MASK) ? 1 : SP_TEST_BAD_LSB;
}

int sp_aes128_ecb(int impl, const uint8_t key[16], const uint8_t *in, uint8_t *out, size_t nblocks) {
    if (!key || (nblocks && (!in || !out))) return SP_ERR_INVALID;
    sp_ecb_fn f = sp_dispatch_ecb(impl);
    return f ? f(key, in, out, nblocks) : SP_ERR_UNSUPPORTED;
}
