/*
 * pbkdf2.c — HMAC-Keccak-512 (block 72) and PBKDF2 with one iteration, as scrypt-jane's
 * scrypt-jane-pbkdf2.h, plus the PBKDF2 prologue/epilogue every label implementation shares.
 */
#include <string.h>

#include "labels_impl.h"

void sp_hmac_init(sp_hmac *h, const uint8_t *key, size_t key_len) {
    uint8_t pad[SP_KECCAK_RATE] = {0};
    if (key_len > SP_KECCAK_RATE) {
        sp_keccak512_portable(key, key_len, pad); /* long keys are hashed first (64 < 72 bytes) */
    } else if (key_len) {
        memcpy(pad, key, key_len);
    }
    for (int i = 0; i < SP_KECCAK_RATE; i++) pad[i] ^= 0x36;
    sp_keccak_init(&h->inner);
    sp_keccak_absorb(&h->inner, pad, sizeof pad);
    for (int i = 0; i < SP_KECCAK_RATE; i++) pad[i] ^= 0x36 ^ 0x5c;
    sp_keccak_init(&h->outer);
    sp_keccak_absorb(&h->outer, pad, sizeof pad);
}

void sp_pbkdf2_1(const sp_hmac *h, const uint8_t *salt, size_t salt_len, uint8_t *out, size_t out_len) {
    for (uint32_t block = 1; out_len; block++) {
        uint8_t be[4] = {(uint8_t)(block >> 24), (uint8_t)(block >> 16), (uint8_t)(block >> 8), (uint8_t)block};
        uint8_t digest[SP_KECCAK_DIGEST];
        sp_keccak k = h->inner;
        sp_keccak_absorb(&k, salt, salt_len);
        sp_keccak_absorb(&k, be, sizeof be);
        sp_keccak_final(&k, digest);
        k = h->outer;
        sp_keccak_absorb(&k, digest, sizeof digest);
        sp_keccak_final(&k, digest);
        size_t take = out_len < sizeof digest ? out_len : sizeof digest;
        memcpy(out, digest, take);
        out += take;
        out_len -= take;
    }
}

void sp_label_begin(const uint8_t commitment[32], uint64_t index, sp_hmac *h, uint32_t x[SP_ROMIX_WORDS]) {
    uint8_t password[72] = {0};
    uint8_t bytes[4 * SP_ROMIX_WORDS];
    memcpy(password, commitment, 32);
    sp_store64_le(password + 32, index);
    sp_hmac_init(h, password, sizeof password);
    sp_pbkdf2_1(h, NULL, 0, bytes, sizeof bytes);
    for (int i = 0; i < SP_ROMIX_WORDS; i++) x[i] = sp_load32_le(bytes + 4 * i);
}

void sp_label_end(const sp_hmac *h, const uint32_t x[SP_ROMIX_WORDS], uint8_t out32[SP_FULL_LABEL_SIZE]) {
    uint8_t bytes[4 * SP_ROMIX_WORDS];
    for (int i = 0; i < SP_ROMIX_WORDS; i++) sp_store32_le(bytes + 4 * i, x[i]);
    sp_pbkdf2_1(h, bytes, sizeof bytes, out32, SP_FULL_LABEL_SIZE);
}
