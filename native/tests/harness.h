/*
 * harness.h — what every native/tests/test_*.c shares: the CHECK counter macro and a seeded
 * splitmix64 generator (reproducible pseudo-random inputs). Header-only; include once per test file.
 */
#ifndef SMESHPOST_TEST_HARNESS_H
#define SMESHPOST_TEST_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

static int failures, checks;

/* Counts a check; on failure prints file:line and the printf-style message, and keeps going. */
#define CHECK(cond, ...)                                                                                      \
    do {                                                                                                      \
        checks++;                                                                                             \
        if (!(cond)) {                                                                                        \
            failures++;                                                                                       \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);                                                       \
            printf(__VA_ARGS__);                                                                              \
            printf("\n");                                                                                     \
        }                                                                                                     \
    } while (0)

static uint64_t rng_state = 0x1ABE15EEDull;

static inline uint64_t rnd(void) { /* splitmix64 */
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static inline void fill(uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++) p[i] = (uint8_t)rnd();
}

#endif /* SMESHPOST_TEST_HARNESS_H */
