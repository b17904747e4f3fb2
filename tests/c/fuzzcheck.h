/*
 * fuzzcheck.h --
 *
 *      What the libFuzzer harnesses share: Require aborts when a property
 *      does not hold (libFuzzer reports it like a crash), HashBytes folds
 *      bytes into a running FNV-1a hash, to compare two runs' events, and
 *      SplitPoints cuts an input into pieces.
 *      Define FUZZ_NAME (the harness's name) before including it.
 */

#ifndef FUZZCHECK_H
#define FUZZCHECK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static inline void
Require(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "%s: property broken: %s\n", FUZZ_NAME, what);
        abort();
    }
}

static inline uint64_t
HashBytes(uint64_t h, const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        h = (h ^ data[i]) * UINT64_C(0x100000001b3);
    }
    return h;
}

/*
 * Where to cut a stream of len bytes into pieces, from a seed: mostly
 * short pieces, sometimes empty ones, sometimes long.  cuts must hold
 * len + 1 offsets; returns how many it got, in increasing order.
 */
static inline size_t
SplitPoints(uint64_t seed, size_t len, size_t *cuts)
{
    size_t at = 0, numCuts = 0;

    for (;;) {
        size_t step;

        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        step = (seed & 7) == 0 ? 0 : (seed & 7) == 1 ? (size_t)(seed >> 8) % 512
                                                     : (size_t)(seed >> 8) % 9;
        if (at + step >= len) {
            break;
        }
        at += step;
        cuts[numCuts++] = at;
        if (numCuts == len + 1) {
            break;
        }
    }
    return numCuts;
}

#endif /* FUZZCHECK_H */
