/*
 * fuzzcheck.h --
 *
 *      What the libFuzzer harnesses share: Require aborts when a property
 *      does not hold (libFuzzer reports it like a crash), HashBytes folds
 *      bytes into a running FNV-1a hash, to compare two runs' events.
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

#endif /* FUZZCHECK_H */
