/*
 * test_scan_json.h — a tiny JSON reader for the C tests of the proving scan (objects, arrays,
 * strings without escapes, integers, true/false/null). Enough for the JSON files in native/tests/vectors;
 * not a general parser. Header-only so each test binary stays one .c file.
 */
#ifndef TEST_SCAN_JSON_H
#define TEST_SCAN_JSON_H

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct jv {
    char type; /* 'o' object, 'a' array, 's' string, 'n' number, 'l' literal */
    const char *str; size_t len; /* string body, number text or literal text */
    struct jv *kids; const char **keys; size_t nkids;
} jv;

static const char *jv_ws(const char *p) { while (isspace((unsigned char)*p)) p++; return p; }

static const char *jv_parse(const char *p, jv *out);

static const char *jv_list(const char *p, jv *out, char close, int with_keys) {
    size_t cap = 8;
    out->kids = malloc(cap * sizeof *out->kids);
    out->keys = malloc(cap * sizeof *out->keys);
    out->nkids = 0;
    p = jv_ws(p + 1);
    if (*p == close) return p + 1;
    for (;;) {
        if (out->nkids == cap) {
            cap *= 2;
            out->kids = realloc(out->kids, cap * sizeof *out->kids);
            out->keys = realloc(out->keys, cap * sizeof *out->keys);
        }
        out->keys[out->nkids] = NULL;
        if (with_keys) {
            jv key;
            p = jv_parse(p, &key);
            if (!p || key.type != 's') return NULL;
            char *k = malloc(key.len + 1);
            memcpy(k, key.str, key.len);
            k[key.len] = 0;
            out->keys[out->nkids] = k;
            p = jv_ws(p);
            if (*p++ != ':') return NULL;
        }
        p = jv_parse(p, &out->kids[out->nkids++]);
        if (!p) return NULL;
        p = jv_ws(p);
        if (*p == ',') { p++; continue; }
        return *p == close ? p + 1 : NULL;
    }
}

static const char *jv_parse(const char *p, jv *out) {
    memset(out, 0, sizeof *out);
    p = jv_ws(p);
    if (*p == '{') { out->type = 'o'; return jv_list(p, out, '}', 1); }
    if (*p == '[') { out->type = 'a'; return jv_list(p, out, ']', 0); }
    if (*p == '"') {
        const char *end = strchr(p + 1, '"');
        if (!end) return NULL;
        out->type = 's'; out->str = p + 1; out->len = (size_t)(end - p - 1);
        return end + 1;
    }
    const char *s = p;
    out->type = (*p == '-' || isdigit((unsigned char)*p)) ? 'n' : 'l';
    while (*p && (isalnum((unsigned char)*p) || *p == '-' || *p == '+' || *p == '.')) p++;
    if (p == s) return NULL;
    out->str = s; out->len = (size_t)(p - s);
    return p;
}

static void jv_free(jv *v) {
    for (size_t i = 0; i < v->nkids; i++) {
        jv_free(&v->kids[i]);
        free((void *)v->keys[i]);
    }
    free(v->kids);
    free(v->keys);
    v->kids = NULL;
    v->keys = NULL;
    v->nkids = 0;
}

/* Member of an object (NULL when absent or not an object). */
static const jv *jv_get(const jv *o, const char *key) {
    if (!o || o->type != 'o') return NULL;
    for (size_t i = 0; i < o->nkids; i++) if (strcmp(o->keys[i], key) == 0) return &o->kids[i];
    return NULL;
}

static uint64_t jv_u64(const jv *v) { return v ? strtoull(v->str, NULL, 10) : 0; }
static int64_t jv_i64(const jv *v) { return v ? strtoll(v->str, NULL, 10) : 0; }

/* Decodes a hex string into a fresh buffer; *n = its length in bytes. */
static uint8_t *jv_hex(const jv *v, size_t *n) {
    *n = v && v->type == 's' ? v->len / 2 : 0;
    uint8_t *out = calloc(*n + 16, 1); /* never smaller than one AES block */
    for (size_t i = 0; i < *n; i++) {
        char b[3] = {v->str[2 * i], v->str[2 * i + 1], 0};
        out[i] = (uint8_t)strtoul(b, NULL, 16);
    }
    return out;
}

/* Reads a whole file into a NUL-terminated buffer (NULL on failure). */
static char *jv_read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)size + 1);
    size_t got = fread(buf, 1, (size_t)size, f);
    fclose(f);
    buf[got] = 0;
    return buf;
}

#endif /* TEST_SCAN_JSON_H */
