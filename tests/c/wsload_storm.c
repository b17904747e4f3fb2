/*
 * wsload_storm.c --
 *
 *      Mode storm: N slots subscribed to a stream the server multicasts,
 *      each slot a series of sessions (connections), every one checked to
 *      get a gap-free, in-order run of messages from its first one.
 *
 *        slots 0 .. K-1          slow consumers (-slowpath): they read
 *                                -slowrate bytes a second; when the server
 *                                closes one, it rejoins
 *        the next D slots        droppers: each session takes a number of
 *                                messages (between M/30 and M/5, by its
 *                                number), then drops (even sessions after
 *                                a close frame 1001, odd ones without),
 *                                and the slot rejoins at once
 *        the others              fast consumers that stay
 *
 *      Once a message with index -calm or later came, nobody drops or
 *      rejoins any more, so that every session live at the end was there
 *      for the last messages.  On the word "drain" (stdin: the server has
 *      sent the last message) every live session reads at full speed and
 *      sends a ping; its pong comes after everything sent before, so it
 *      must have message M-1 by then.  Then every session is reported,
 *      and the live ones close with the close handshake.
 */

#include "wsload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REFILL_MS   10      /* how often slow consumers get their next bytes */
#define BURST_MS    100     /* the most reading a slow consumer saves up */

typedef enum { KIND_SLOW, KIND_DROPPER, KIND_FAST } SlotKind;

static const char *const kindNames[] = {"slow", "dropper", "fast"};

/* What a session was, for the report at the end. */
typedef struct Session {
    long     id;
    int      slot;
    SlotKind kind;
    long     first, last, count;   /* its messages: indexes and number (-1: none) */
    bool     ordered;
    char     end[24];               /* drop, pong, close-CODE, eof, reset */
} Session;

static SlotKind *kinds;             /* by slot */
static bool     *pinged;            /* by slot: the drain ping is out */
static Session  *sessions;
static size_t    nsessions, sessionsSize;
static long      nextSession;

/*
 *----------------------------------------------------------------------
 * Lifetime --
 *
 *      How many messages a dropping session takes, from its number
 *      (scattered, so that the drops are spread over the stream).
 *----------------------------------------------------------------------
 */
static long
Lifetime(long session, long messages)
{
    unsigned long h = (unsigned long)session * 2654435761UL;
    long          least = messages / 30 + 1, span = messages / 5 - messages / 30;

    return least + (long)((h >> 8) % (unsigned long)(span > 0 ? span : 1));
}

/*
 *----------------------------------------------------------------------
 * StartSession --
 *
 *      A new session in a slot: a fresh connection with the next number.
 *----------------------------------------------------------------------
 */
static void
StartSession(Conn *connPtr, const Options *optsPtr)
{
    SlotKind kind = kinds[connPtr->index];

    connPtr->session = nextSession++;
    ConnSetRequest(connPtr, kind == KIND_SLOW ? optsPtr->slowPath : optsPtr->path,
                   connPtr->session);
    connPtr->budget = (kind == KIND_SLOW) ? 0 : -1;
    connPtr->lifetime = (kind == KIND_DROPPER) ? Lifetime(connPtr->session, optsPtr->messages)
                                               : -1;
    pinged[connPtr->index] = false;
    ConnStart(connPtr);
}

/*
 *----------------------------------------------------------------------
 * EndSession --
 *
 *      Note how the session of a slot ended (end: "drop", "pong"; NULL:
 *      from the connection, the server's close frame or its end) and
 *      leave the slot idle.
 *----------------------------------------------------------------------
 */
static void
EndSession(Conn *connPtr, const char *end)
{
    Session *sessionPtr;

    if (nsessions == sessionsSize) {
        sessionsSize = sessionsSize * 2 + 256;
        sessions = realloc(sessions, sessionsSize * sizeof(Session));
        if (sessions == NULL) {
            fprintf(stderr, "wsload: out of memory\n");
            exit(1);
        }
    }
    sessionPtr = &sessions[nsessions++];
    sessionPtr->id = connPtr->session;
    sessionPtr->slot = connPtr->index;
    sessionPtr->kind = kinds[connPtr->index];
    sessionPtr->first = connPtr->first;
    sessionPtr->last = (connPtr->count > 0) ? connPtr->next - 1 : -1;
    sessionPtr->count = connPtr->count;
    sessionPtr->ordered = connPtr->ordered;
    if (end != NULL) {
        snprintf(sessionPtr->end, sizeof(sessionPtr->end), "%s", end);
    } else if (connPtr->closeCode != 0) {
        snprintf(sessionPtr->end, sizeof(sessionPtr->end), "close-%d", connPtr->closeCode);
    } else {
        snprintf(sessionPtr->end, sizeof(sessionPtr->end), "%s",
                 connPtr->reset ? "reset" : "eof");
    }
    if (end == NULL || strcmp(end, "pong") != 0) {
        ConnFinish(connPtr);
        connPtr->state = CONN_IDLE;
    }
}

/*
 *----------------------------------------------------------------------
 * Drop --
 *
 *      A dropper's session leaves: even sessions after a close frame
 *      1001 (not waiting for the answer), odd ones without one.
 *----------------------------------------------------------------------
 */
static void
Drop(Conn *connPtr)
{
    if (connPtr->session % 2 == 0) {
        ConnSendFrame(connPtr, 8, "\x03\xe9", 2);
    }
    EndSession(connPtr, "drop");
}

/*
 *----------------------------------------------------------------------
 * Report --
 *
 *      One line per session, then the totals.
 *----------------------------------------------------------------------
 */
static void
Report(void)
{
    long total = 0;

    for (size_t i = 0; i < nsessions; i++) {
        const Session *s = &sessions[i];

        printf("session %ld slot %d kind %s first %ld last %ld count %ld ordered %d end %s\n",
               s->id, s->slot, kindNames[s->kind], s->first, s->last, s->count,
               s->ordered ? 1 : 0, s->end);
        total += s->count;
    }
    printf("sessions %zu messages %ld\n", nsessions, total);
}

/*
 *----------------------------------------------------------------------
 * Refill --
 *
 *      Give the open slow consumers the bytes they may read since the last
 *      refill (at most BURST_MS worth saved up).
 *----------------------------------------------------------------------
 */
static void
Refill(long rate, long elapsedMs)
{
    long grant = rate * elapsedMs / 1000, most = rate * BURST_MS / 1000;

    for (int i = 0; i < load.nconns; i++) {
        Conn *connPtr = &load.conns[i];

        if (kinds[i] != KIND_SLOW || connPtr->state != CONN_OPEN || connPtr->budget < 0) {
            continue;
        }
        ConnSetBudget(connPtr, (connPtr->budget + grant < most) ? connPtr->budget + grant : most);
    }
}

/*
 *----------------------------------------------------------------------
 * RunStorm --
 *
 *      Phases: 0 the stream (sessions start, drop, lag and rejoin; "ready
 *      N" once all N slots are upgraded the first time), 1 draining (after
 *      "drain" on stdin), 2 closing.  Lines: ready, then after the drain
 *      one line per session ("session ID slot S kind K first F last L
 *      count C ordered 0|1 end E"), "sessions S messages T", "closed C"
 *      (live sessions closed with the close handshake), "done errors=E".
 *
 * Results:
 *      The exit status.
 *----------------------------------------------------------------------
 */
int
RunStorm(const Options *optsPtr)
{
    int  n = optsPtr->n, phase = 0, liveAtEnd = 0;
    long lastRefill = LoadNow(), seen = -1;
    bool ready = false, calm = false;
    char line[WSL_LINE_MAX];

    kinds = calloc((size_t)n, sizeof(SlotKind));
    pinged = calloc((size_t)n, sizeof(bool));
    for (int i = 0; i < n; i++) {
        Conn *connPtr = &load.conns[i];

        kinds[i] = (i < optsPtr->slow) ? KIND_SLOW
                   : (i < optsPtr->slow + optsPtr->droppers) ? KIND_DROPPER : KIND_FAST;
        connPtr->rcvbuf = (kinds[i] == KIND_SLOW) ? 4096 : 0;
    }
    LoadWatchInput();
    while (phase < 3) {
        int  pending = 0, open = 0, settled = 0, live = 0;
        long now = LoadNow();

        for (int i = 0; i < n; i++) {
            if (load.conns[i].count > 0 && load.conns[i].next - 1 > seen) {
                seen = load.conns[i].next - 1;
            }
        }
        if (optsPtr->calm >= 0 && seen >= optsPtr->calm) {
            calm = true;
        }
        for (int i = 0; i < n; i++) {
            Conn *connPtr = &load.conns[i];

            if (connPtr->state == CONN_DONE && phase < 2) {
                EndSession(connPtr, NULL);
            } else if (phase == 0 && kinds[i] == KIND_DROPPER && !calm
                       && connPtr->state == CONN_OPEN && connPtr->count >= connPtr->lifetime) {
                Drop(connPtr);
            } else if (kinds[i] == KIND_SLOW && connPtr->closeCode != 0) {
                /* Closing: read to the end. */
                ConnSetBudget(connPtr, -1);
            }
            if (phase == 1 && connPtr->state == CONN_OPEN && !pinged[i]) {
                ConnSetBudget(connPtr, -1);
                ConnSendFrame(connPtr, 9, "drain", 5);
                pinged[i] = true;
            }
            pending += ConnPending(connPtr);
            open += (connPtr->state == CONN_OPEN);
            live += ConnLive(connPtr);
            settled += (connPtr->state == CONN_IDLE && (ready || phase > 0))
                       || (connPtr->state == CONN_OPEN && connPtr->pong);
        }
        if (phase == 0) {
            for (int i = 0; i < n && pending < optsPtr->parallel; i++) {
                if (load.conns[i].state == CONN_IDLE && (!ready || !calm)) {
                    StartSession(&load.conns[i], optsPtr);
                    pending++;
                }
            }
            if (!ready && open == n) {
                printf("ready %d\n", n);
                ready = true;
            }
            if (now - lastRefill >= REFILL_MS) {
                Refill(optsPtr->slowRate, now - lastRefill);
                lastRefill = now;
            }
            if (LoadInputLine(line, sizeof(line))) {
                if (strcmp(line, "drain") != 0) {
                    printf("stopped: \"%s\" instead of \"drain\"\n", line);
                    return 2;
                }
                phase = 1;
                continue;
            }
        } else if (phase == 1 && settled == n) {
            for (int i = 0; i < n; i++) {
                Conn *connPtr = &load.conns[i];

                if (connPtr->state == CONN_OPEN) {
                    if (connPtr->count == 0 || connPtr->next != optsPtr->messages) {
                        LoadFail(connPtr, "session %ld, live at the end, has up to %ld of %ld",
                                 connPtr->session, connPtr->next - 1, optsPtr->messages);
                    }
                    EndSession(connPtr, "pong");
                    ConnSendFrame(connPtr, 8, "\x03\xe8", 2);
                    liveAtEnd++;
                }
            }
            Report();
            phase = 2;
            continue;
        } else if (phase == 2 && live == 0) {
            printf("closed %d of %d\n", LoadClosedNormally(n), liveAtEnd);
            phase = 3;
            continue;
        }
        if (LoadTimedOut()) {
            printf("timeout in phase %d: %d pending, %d open, %d settled, %d live\n",
                   phase, pending, open, settled, live);
            Report();
            return 2;
        }
        (void)LoadPoll(phase == 0 ? REFILL_MS : 100);
    }
    printf("done errors=%d\n", load.errors);
    return LoadFinishErrors();
}
