/*
 * wsload_drop.c --
 *
 *      Mode drop: connections upgraded, then dropped without a close
 *      frame, in three ways by place k in their wave (k % 3): 0 cleanly (FIN, nothing
 *      unread), 1 in the middle of a frame (a frame header announcing 125
 *      bytes and 10 of them, then FIN), 2 with unread input, so that the
 *      kernel answers close() with a reset (a text frame is sent to the
 *      echo service, and the socket closed as soon as the echo is there,
 *      unread).  In waves of -wave connections open at once; before each
 *      wave is dropped it says "open N" and waits for "drop" on stdin.
 */

#include "wsload.h"

#include <stdio.h>
#include <string.h>

typedef struct DropCounts {
    int fin;        /* closed with nothing unread */
    int partial;    /* closed after part of a frame */
    int reset;      /* closed with input unread */
} DropCounts;

/*
 *----------------------------------------------------------------------
 * OpenWave --
 *
 *      Upgrade connections first .. last-1, "parallel" at a time.
 *
 * Results:
 *      false when the run timed out.
 *----------------------------------------------------------------------
 */
static bool
OpenWave(int first, int last, int parallel)
{
    int started = first;

    for (;;) {
        int pending = 0;

        for (int i = first; i < started; i++) {
            pending += ConnPending(&load.conns[i]);
        }
        while (pending < parallel && started < last) {
            ConnStart(&load.conns[started++]);
            pending++;
        }
        if (started == last && pending == 0) {
            return true;
        }
        if (LoadTimedOut()) {
            printf("timeout opening: %d started, %d pending\n", started - first, pending);
            return false;
        }
        (void)LoadPoll(100);
    }
}

/*
 *----------------------------------------------------------------------
 * DropWave --
 *
 *      Drop the open connections first .. last-1, each its way, and wait
 *      until those waiting for the echo are closed too.
 *
 * Results:
 *      false when the run timed out.
 *----------------------------------------------------------------------
 */
static bool
DropWave(int first, int last, DropCounts *countsPtr)
{
    bool done;

    memset(countsPtr, 0, sizeof(*countsPtr));
    for (int i = first; i < last; i++) {
        Conn   *connPtr = &load.conns[i];
        uint8_t frame[6 + 125];
        char    payload[125];

        if (connPtr->state != CONN_OPEN) {
            continue;
        }
        switch ((i - first) % 3) {
        case 0:
            ConnFinish(connPtr);
            countsPtr->fin++;
            break;
        case 1:
            memset(payload, 'p', sizeof(payload));
            (void)WsEncodeFrame(frame, 1, payload, sizeof(payload));
            if (ConnSend(connPtr, frame, 6 + 10)) {
                countsPtr->partial++;
            }
            ConnFinish(connPtr);
            break;
        default:
            if (ConnSend(connPtr, frame, WsEncodeFrame(frame, 1, "reset", 5))) {
                /* LoadPoll closes it, unread, when the echo comes. */
                connPtr->abortOnInput = true;
            } else {
                ConnFinish(connPtr);
            }
            break;
        }
    }
    do {
        done = true;
        for (int i = first; i < last && done; i++) {
            done = !ConnLive(&load.conns[i]);
        }
        if (!done) {
            if (LoadTimedOut()) {
                printf("timeout dropping\n");
                return false;
            }
            (void)LoadPoll(100);
        }
    } while (!done);
    for (int i = first; i < last; i++) {
        countsPtr->reset += ((i - first) % 3 == 2 && load.conns[i].reset);
    }
    return true;
}

/*
 *----------------------------------------------------------------------
 * RunDrop --
 *
 *      Open and drop the connections wave by wave.  Lines: "open N" for
 *      each wave (N of them upgraded), then after the word "drop" on
 *      stdin, "dropped N fin=A partial=B reset=C"; at the end "done N".
 *
 * Results:
 *      The exit status.
 *----------------------------------------------------------------------
 */
int
RunDrop(const Options *optsPtr)
{
    int wave = (optsPtr->wave > 0) ? optsPtr->wave : optsPtr->n, total = 0;

    LoadWatchInput();
    for (int first = 0; first < optsPtr->n; first += wave) {
        int        last = (first + wave < optsPtr->n) ? first + wave : optsPtr->n, open = 0;
        char       line[WSL_LINE_MAX];
        DropCounts counts;

        if (!OpenWave(first, last, optsPtr->parallel)) {
            return 2;
        }
        for (int i = first; i < last; i++) {
            open += (load.conns[i].state == CONN_OPEN);
        }
        printf("open %d\n", open);
        while (!LoadInputLine(line, sizeof(line))) {
            if (LoadTimedOut()) {
                printf("timeout waiting for \"drop\"\n");
                return 2;
            }
            (void)LoadPoll(100);
        }
        if (strcmp(line, "drop") != 0) {
            printf("stopped: \"%s\" instead of \"drop\"\n", line);
            return 2;
        }
        if (!DropWave(first, last, &counts)) {
            return 2;
        }
        printf("dropped %d fin=%d partial=%d reset=%d\n",
               counts.fin + counts.partial + counts.reset, counts.fin, counts.partial,
               counts.reset);
        total += counts.fin + counts.partial + counts.reset;
    }
    printf("done %d\n", total);
    return LoadFinishErrors();
}
