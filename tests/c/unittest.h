/*
 * unittest.h --
 *
 *      The helpers shared by the C unit tests of the WebSocket protocol
 *      engine (wsframe_test.c, wsparser_test.c): the CHECK macro and its
 *      pass/fail counters, the final report line, a buffer followed by a
 *      PROT_NONE guard page so that reading one byte past an input crashes
 *      the test, a fixed-seed random generator, and the byte-by-byte
 *      reference for WebSocket masking.  Static inline functions and
 *      macros only, so each test program stays a single translation unit;
 *      state lives in a function-local static.  Define UNITTEST_NAME (the
 *      program's name, as a string) before including it.
 */

#ifndef UNITTEST_H
#define UNITTEST_H

#ifndef UNITTEST_NAME
#error "define UNITTEST_NAME before including unittest.h"
#endif

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Largest input: a 16 MiB message with its header. */
#define ARENA_SIZE  (17u * 1024u * 1024u)

#define CHECK(cond, ...) Check((cond), __FILE__, __LINE__, #cond, __VA_ARGS__)

/* What a test program keeps between checks. */
typedef struct UnitState {
    int      passed;        /* checks that held */
    int      failed;        /* checks that did not */
    uint8_t *arenaEnd;      /* first byte of the guard page, once mapped */
} UnitState;

static inline void Check(int ok, const char *file, int line, const char *expr,
                         const char *fmt, ...) __attribute__((format(printf, 5, 6)));


/*
 *----------------------------------------------------------------------
 *
 * UnitGetState --
 *
 *      The program's one UnitState.
 *
 * Results:
 *      A pointer to it, zeroed at start.
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

static inline UnitState *
UnitGetState(void)
{
    static UnitState state;

    return &state;
}


/*
 *----------------------------------------------------------------------
 *
 * Check, UnitReport --
 *
 *      Count one check; print the failed ones with their context.
 *      UnitReport prints the final line, "NAME: N passed, M failed".
 *
 * Results:
 *      UnitReport: the exit status, 0 when nothing failed, else 1.
 *
 * Side effects:
 *      Updates the counters, writes to stderr on failure; UnitReport
 *      writes to stdout.
 *
 *----------------------------------------------------------------------
 */

static inline void
Check(int ok, const char *file, int line, const char *expr, const char *fmt, ...)
{
    UnitState *statePtr = UnitGetState();
    va_list    ap;

    if (ok) {
        statePtr->passed++;
        return;
    }
    statePtr->failed++;
    fprintf(stderr, "%s:%d: check failed: %s: ", file, line, expr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static inline int
UnitReport(void)
{
    UnitState *statePtr = UnitGetState();

    printf("%s: %d passed, %d failed\n", UNITTEST_NAME, statePtr->passed, statePtr->failed);
    return statePtr->failed == 0 ? 0 : 1;
}


/*
 *----------------------------------------------------------------------
 *
 * SetupArena, Guarded --
 *
 *      Map a buffer followed by an inaccessible page; Guarded copies an
 *      input so that its last byte is the last readable one.
 *
 * Results:
 *      Guarded: the copy (writable: the parser unmasks in place).
 *
 * Side effects:
 *      Maps memory once; exits when mmap fails.
 *
 *----------------------------------------------------------------------
 */

static inline void
SetupArena(void)
{
    size_t   pageSize = (size_t)sysconf(_SC_PAGESIZE);
    size_t   size = (ARENA_SIZE + pageSize - 1) / pageSize * pageSize;
    uint8_t *base;

    base = mmap(NULL, size + pageSize, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED || mprotect(base + size, pageSize, PROT_NONE) != 0) {
        perror(UNITTEST_NAME ": mmap");
        exit(2);
    }
    UnitGetState()->arenaEnd = base + size;
}

static inline uint8_t *
Guarded(const void *data, size_t len)
{
    uint8_t *copy = UnitGetState()->arenaEnd - len;

    if (len > ARENA_SIZE) {
        fprintf(stderr, UNITTEST_NAME ": input of %zu bytes is too large\n", len);
        exit(2);
    }
    if (len > 0 && copy != data) {
        memmove(copy, data, len);
    }
    return copy;
}


/*
 *----------------------------------------------------------------------
 *
 * NextRandom, RefMask --
 *
 *      A fixed-seed xorshift generator; RefMask is the obvious byte loop
 *      that WsFrameMask is checked against and that the tests mask their
 *      own frames with, starting at the given payload offset.
 *
 * Results:
 *      NextRandom: the next number.
 *
 * Side effects:
 *      NextRandom advances *statePtr; RefMask masks data in place.
 *
 *----------------------------------------------------------------------
 */

static inline uint64_t
NextRandom(uint64_t *statePtr)
{
    uint64_t x = *statePtr;

    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *statePtr = x;
    return x;
}

static inline void
RefMask(uint8_t *data, size_t len, const uint8_t mask[4], size_t offset)
{
    size_t i;

    for (i = 0; i < len; i++) {
        data[i] ^= mask[(offset + i) % 4];
    }
}

#endif /* UNITTEST_H */
