/*
 * wsload_multicast.c --
 *
 *      Mode multicast: N connections that must each get every one of the
 *      M messages the server multicasts, in order; the first K are slow
 *      consumers that read nothing until the others have everything.
 *      Lines: ready, done, one per slow one, closed (see wsload.c).
 */

#include "wsload.h"

#include <stdio.h>

/*
 *----------------------------------------------------------------------
 * RunMulticast --
 *
 *      Phases: 0 upgrading (at most "parallel" handshakes at a time, so
 *      the listen backlog never overflows), 1 counting the multicast, 2
 *      the slow consumers read, with a ping whose pong tells where what
 *      was kept for them ends, 3 closing with the close handshake.
 *
 * Results:
 *      The exit status.
 *----------------------------------------------------------------------
 */
int
RunMulticast(const Options *optsPtr)
{
    int  phase = 0, started = 0, nconns = optsPtr->n, nslow = optsPtr->slow;
    long messages = optsPtr->messages;

    for (int i = nslow; i < nconns; i++) {
        load.conns[i].fromZero = true;
    }
    for (int i = 0; i < nslow; i++) {
        Conn *connPtr = &load.conns[i];

        connPtr->slow = true;
        connPtr->gapsAllowed = true;
        connPtr->budget = 0;        /* nothing after the 101 until phase 2 */
        connPtr->rcvbuf = 4096;
        ConnSetRequest(connPtr, optsPtr->slowPath, -1);
    }
    while (phase < 4) {
        int pending = 0, open = 0, fastDone = 0, slowDone = 0, live = 0;

        for (int i = 0; i < nconns; i++) {
            const Conn *c = &load.conns[i];

            pending += ConnPending(c);
            open += (c->state == CONN_OPEN);
            fastDone += (!c->slow && (c->count >= messages || c->state == CONN_DONE));
            slowDone += (c->slow && (c->pong || c->closeCode != 0 || c->state == CONN_DONE));
            live += ConnLive(c);
        }
        if (phase == 0) {
            while (pending < optsPtr->parallel && started < nconns) {
                ConnStart(&load.conns[started++]);
                pending++;
            }
            if (started == nconns && pending == 0) {
                printf("ready %d\n", open);
                phase = 1;
                continue;
            }
        } else if (phase == 1 && fastDone == nconns - nslow) {
            long total = 0;

            for (int i = 0; i < nconns; i++) {
                total += load.conns[i].slow ? 0 : load.conns[i].count;
            }
            printf("done fast=%d messages=%ld errors=%d\n", nconns - nslow, total, load.errors);
            phase = 2;
            for (int i = 0; i < nslow; i++) {
                Conn *c = &load.conns[i];

                if (c->state == CONN_OPEN) {
                    ConnSetBudget(c, -1);
                    ConnSendFrame(c, 9, "drain", 5);
                    ConnParse(c);
                }
            }
            continue;
        } else if (phase == 2 && slowDone == nslow) {
            for (int i = 0; i < nslow; i++) {
                const Conn *c = &load.conns[i];
                char        end[32];

                if (c->pong) {
                    snprintf(end, sizeof(end), "pong");
                } else if (c->closeCode != 0) {
                    snprintf(end, sizeof(end), "close %d", c->closeCode);
                } else {
                    snprintf(end, sizeof(end), "eof");
                }
                printf("slow %d messages=%ld ordered=%d end=%s\n", i, c->count,
                       c->ordered ? 1 : 0, end);
            }
            for (int i = 0; i < nconns; i++) {
                if (load.conns[i].state == CONN_OPEN) {
                    ConnSendFrame(&load.conns[i], 8, "\x03\xe8", 2);
                }
            }
            phase = 3;
            continue;
        } else if (phase == 3 && live == 0) {
            printf("closed %d\n", LoadClosedNormally(nconns));
            phase = 4;
            continue;
        }
        if (LoadTimedOut()) {
            printf("timeout in phase %d: %d pending, %d open, %d fast done, %d slow done\n",
                   phase, pending, open, fastDone, slowDone);
            return 2;
        }
        (void)LoadPoll(100);
    }
    return LoadFinishErrors();
}
