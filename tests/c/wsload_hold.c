/*
 * wsload_hold.c --
 *
 *      Mode hold: N connections upgraded and kept open, reading, until the
 *      server ends every one of them (a server shutdown): what each got
 *      at the end, the server's close frame and its code, or none.
 */

#include "wsload.h"

#include <stdio.h>
#include <stdlib.h>

/*
 *----------------------------------------------------------------------
 * CompareInts --
 *
 *      For qsort.
 *----------------------------------------------------------------------
 */
static int
CompareInts(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;

    return (x > y) - (x < y);
}

/*
 *----------------------------------------------------------------------
 * RunHold --
 *
 *      Lines: "ready N" once N are upgraded; when all have ended,
 *      "ended N", then "code C K" for each close code C that K got (-1:
 *      a close frame without a code), and "noclose K reset R": K ended
 *      without a close frame, R of all with an error (ECONNRESET).
 *
 * Results:
 *      The exit status.
 *----------------------------------------------------------------------
 */
int
RunHold(const Options *optsPtr)
{
    int  started = 0, n = optsPtr->n, ended = 0, noClose = 0, reset = 0;
    int *codes;
    bool ready = false;

    for (;;) {
        int pending = 0, live = 0, open = 0;

        for (int i = 0; i < started; i++) {
            pending += ConnPending(&load.conns[i]);
            live += ConnLive(&load.conns[i]);
            open += (load.conns[i].state == CONN_OPEN);
        }
        while (pending < optsPtr->parallel && started < n) {
            ConnStart(&load.conns[started++]);
            pending++;
            live++;
        }
        if (!ready && started == n && pending == 0) {
            printf("ready %d\n", open);
            ready = true;
        }
        if (ready && live == 0) {
            break;
        }
        if (LoadTimedOut()) {
            printf("timeout: %d pending, %d open, %d live\n", pending, open, live);
            return 2;
        }
        (void)LoadPoll(100);
    }
    codes = calloc((size_t)n, sizeof(int));
    for (int i = 0; i < n; i++) {
        const Conn *connPtr = &load.conns[i];

        ended++;
        codes[i] = connPtr->closeCode;
        noClose += (connPtr->closeCode == 0);
        reset += connPtr->reset;
    }
    qsort(codes, (size_t)n, sizeof(int), CompareInts);
    printf("ended %d\n", ended);
    for (int i = 0; i < n;) {
        int j = i;

        while (j < n && codes[j] == codes[i]) {
            j++;
        }
        if (codes[i] != 0) {
            printf("code %d %d\n", codes[i], j - i);
        }
        i = j;
    }
    printf("noclose %d reset %d\n", noClose, reset);
    free(codes);
    return LoadFinishErrors();
}
