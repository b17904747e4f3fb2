/*
 * fuzz_wsframe.c --
 *
 *      libFuzzer harness for nswebsocket/wsframe.c.  The first two bytes of
 *      an input choose the side (server or client), the message size limit
 *      and a seed for split points; the rest is the byte stream.  The
 *      stream goes through one parser whole and through another in pieces
 *      cut at pseudo-random points, and both must report the same events.
 *      Checked on the way: no feed consumes more than it was given, or less
 *      while the stream is open; nothing is called or consumed after a
 *      close or an error; text messages and close reasons are valid UTF-8;
 *      close and error codes are ones the parser may report; messages
 *      respect the limit and control payloads 125 bytes.  Every short
 *      message is re-encoded with WsFrameEncode and must parse back to
 *      itself.  A broken property aborts, so libFuzzer reports it like a
 *      crash.
 *
 *      clang -g -O1 -fsanitize=fuzzer,address,undefined -Inswebsocket \
 *          nswebsocket/wsframe.c tests/c/fuzz_wsframe.c -o /tmp/fuzz_wsframe
 *      /tmp/fuzz_wsframe -max_total_time=60 CORPUS   (a copy of tests/fuzz/wsframe)
 *
 *      The engine needs nothing from Tcl; adding the Tcl flags does no harm.
 */

#include "wsframe.h"

#define FUZZ_NAME "fuzz_wsframe"
#include "fuzzcheck.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Message size limits to pick from; 0 is the parser's own hard limit. */
static const uint64_t limits[8] = {0, 1, 7, 125, 126, 1000, 65536, 3};

/* Messages up to this size are re-encoded and parsed again. */
#define ROUND_TRIP_MAX 1024

/* One parser run: its events, hashed in order, and what the checks need. */
typedef struct Run {
    uint64_t maxSize;       /* effective limit of the parser */
    bool     ended;         /* a close or an error was reported */
    bool     closeSeen;     /* it was a close */
    uint64_t digest;        /* hash of all events so far */
    unsigned events;
    bool     roundTrip;     /* re-encode messages (one run is enough) */
} Run;

/* What the round trip's own parser saw. */
typedef struct Echo {
    unsigned     messages;
    unsigned int opcode;
    size_t       len;
    uint64_t     hash;
    bool         other;     /* any other event */
} Echo;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void Note(Run *runPtr, unsigned int kind, int code, const uint8_t *data, size_t len);
static void OnMessage(void *arg, unsigned int opcode, uint8_t *data, size_t len);
static void OnPing(void *arg, uint8_t *data, size_t len);
static void OnPong(void *arg, uint8_t *data, size_t len);
static void OnClose(void *arg, int code, const uint8_t *reason, size_t len);
static void OnError(void *arg, int code, const char *reason);
static void EchoMessage(void *arg, unsigned int opcode, uint8_t *data, size_t len);
static void EchoOther(void *arg, uint8_t *data, size_t len);
static void EchoClose(void *arg, int code, const uint8_t *reason, size_t len);
static void EchoError(void *arg, int code, const char *reason);
static void RoundTrip(unsigned int opcode, const uint8_t *data, size_t len);
static size_t FeedAll(WsParser *parserPtr, uint8_t *buf, size_t len, const size_t *cuts,
                      size_t numCuts, Run *runPtr);

static const WsParserCallbacks runCallbacks = {OnMessage, OnPing, OnPong, OnClose, OnError};
static const WsParserCallbacks echoCallbacks = {EchoMessage, EchoOther, EchoOther, EchoClose,
                                                EchoError};


/*
 *----------------------------------------------------------------------
 *
 * Note --
 *
 *      Fold one event into a run's digest (fuzzcheck.h has Require and
 *      HashBytes).
 *
 * Side effects:
 *      Updates *runPtr; may abort.
 *
 *----------------------------------------------------------------------
 */

static void
Note(Run *runPtr, unsigned int kind, int code, const uint8_t *data, size_t len)
{
    uint8_t head[16];

    Require(!runPtr->ended, "no callback after a close or an error");
    Require(len == 0 || data != NULL, "data for a non-empty payload");
    memcpy(head, &kind, sizeof(kind));
    memcpy(head + 4, &code, sizeof(code));
    memcpy(head + 8, &len, sizeof(len) < 8 ? sizeof(len) : 8);
    runPtr->digest = HashBytes(runPtr->digest, head, sizeof(head));
    runPtr->digest = HashBytes(runPtr->digest, data, len);
    runPtr->events++;
}


/*
 *----------------------------------------------------------------------
 *
 * OnMessage, OnPing, OnPong, OnClose, OnError --
 *
 *      The callbacks of the runs under test: check each event, note it.
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      Update the Run; may abort.
 *
 *----------------------------------------------------------------------
 */

static void
OnMessage(void *arg, unsigned int opcode, uint8_t *data, size_t len)
{
    Run *runPtr = arg;

    Require(opcode == WS_OP_TEXT || opcode == WS_OP_BINARY, "message opcode");
    Require(len <= runPtr->maxSize, "message within the limit");
    Require(opcode != WS_OP_TEXT || WsUtf8Step(WS_UTF8_ACCEPT, data, len) == WS_UTF8_ACCEPT,
            "text is valid UTF-8");
    Note(runPtr, opcode, 0, data, len);
    if (runPtr->roundTrip && len <= ROUND_TRIP_MAX) {
        RoundTrip(opcode, data, len);
    }
}

static void
OnPing(void *arg, uint8_t *data, size_t len)
{
    Require(len <= WS_MAX_CONTROL_PAYLOAD, "ping of at most 125 bytes");
    Note(arg, WS_OP_PING, 0, data, len);
}

static void
OnPong(void *arg, uint8_t *data, size_t len)
{
    Require(len <= WS_MAX_CONTROL_PAYLOAD, "pong of at most 125 bytes");
    Note(arg, WS_OP_PONG, 0, data, len);
}

static void
OnClose(void *arg, int code, const uint8_t *reason, size_t len)
{
    Run *runPtr = arg;

    Require(code == WS_CLOSE_NO_STATUS ? len == 0 : WsCloseCodeValid(code),
            "close code valid, or 1005 without a reason");
    Require(len <= WS_MAX_CLOSE_REASON, "close reason of at most 123 bytes");
    Require(WsUtf8Step(WS_UTF8_ACCEPT, reason, len) == WS_UTF8_ACCEPT,
            "close reason is valid UTF-8");
    Note(runPtr, WS_OP_CLOSE, code, reason, len);
    runPtr->ended = true;
    runPtr->closeSeen = true;
}

static void
OnError(void *arg, int code, const char *reason)
{
    Run *runPtr = arg;

    Require(code == WS_CLOSE_PROTOCOL_ERROR || code == WS_CLOSE_INVALID_DATA
            || code == WS_CLOSE_TOO_BIG || code == WS_CLOSE_INTERNAL_ERROR,
            "error code 1002, 1007, 1009 or 1011");
    Require(reason != NULL && strlen(reason) > 0 && strlen(reason) <= WS_MAX_CLOSE_REASON,
            "error reason fits a close frame");
    Note(runPtr, 0xEE, code, (const uint8_t *)reason, strlen(reason));
    runPtr->ended = true;
}


/*
 *----------------------------------------------------------------------
 *
 * RoundTrip and its callbacks --
 *
 *      Encode a message as one masked frame, parse it with a fresh
 *      server-side parser, and require the same message and nothing else.
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      May abort.
 *
 *----------------------------------------------------------------------
 */

static void
EchoMessage(void *arg, unsigned int opcode, uint8_t *data, size_t len)
{
    Echo *echoPtr = arg;

    echoPtr->messages++;
    echoPtr->opcode = opcode;
    echoPtr->len = len;
    echoPtr->hash = HashBytes(0, data, len);
}

static void
EchoOther(void *arg, uint8_t *data, size_t len)
{
    (void)data;
    (void)len;
    ((Echo *)arg)->other = true;
}

static void
EchoClose(void *arg, int code, const uint8_t *reason, size_t len)
{
    (void)code;
    (void)reason;
    (void)len;
    ((Echo *)arg)->other = true;
}

static void
EchoError(void *arg, int code, const char *reason)
{
    (void)code;
    (void)reason;
    ((Echo *)arg)->other = true;
}

static void
RoundTrip(unsigned int opcode, const uint8_t *data, size_t len)
{
    static const uint8_t key[4] = {0xde, 0xad, 0xbe, 0xef};
    uint8_t              frame[ROUND_TRIP_MAX + WS_MAX_HEADER_LENGTH];
    WsParser            *parserPtr = WsParserCreate(true, 0);
    Echo                 echo;
    size_t               n;

    memset(&echo, 0, sizeof(echo));
    n = WsFrameEncode(frame, sizeof(frame), true, opcode, data, len, key);
    Require(n > 0, "frame fits");
    Require(WsParserFeed(parserPtr, frame, n, &echoCallbacks, &echo) == n,
            "round trip consumed");
    Require(echo.messages == 1 && !echo.other && echo.opcode == opcode && echo.len == len
            && echo.hash == HashBytes(0, data, len), "round trip gives the message back");
    WsParserDestroy(parserPtr);
}


/*
 *----------------------------------------------------------------------
 *
 * FeedAll --
 *
 *      Feed buf[0..len) cut at the given ascending offsets, checking what
 *      each feed consumes, and once more after the end.
 *
 * Results:
 *      Total bytes consumed.
 *
 * Side effects:
 *      Calls the run's callbacks; may abort.
 *
 *----------------------------------------------------------------------
 */

static size_t
FeedAll(WsParser *parserPtr, uint8_t *buf, size_t len, const size_t *cuts, size_t numCuts,
        Run *runPtr)
{
    size_t from = 0, total = 0, i;

    for (i = 0; i <= numCuts; i++) {
        size_t to = (i < numCuts) ? cuts[i] : len;
        bool   wasClosed = WsParserClosed(parserPtr);
        size_t n = WsParserFeed(parserPtr, buf + from, to - from, &runCallbacks, runPtr);

        Require(n <= to - from, "consumed <= len");
        Require(!wasClosed || n == 0, "nothing consumed after the end");
        Require(WsParserClosed(parserPtr) || n == to - from, "everything consumed while open");
        Require(WsParserClosed(parserPtr) == runPtr->ended, "closed exactly after an end event");
        total += n;
        Require(WsParserBuffered(parserPtr) <= total, "holds no more than it consumed");
        from = to;
    }
    if (WsParserClosed(parserPtr)) {
        Require(WsParserBuffered(parserPtr) == 0, "holds nothing after the end");
    }
    return total;
}


/*
 *----------------------------------------------------------------------
 *
 * LLVMFuzzerTestOneInput --
 *
 *      One fuzzing round on data[0..size).
 *
 * Results:
 *      0 (the input is always acceptable to the fuzzer).
 *
 * Side effects:
 *      Aborts when a property is broken.
 *
 *----------------------------------------------------------------------
 */

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bool      isServer;
    uint64_t  maxSize, seed;
    size_t    len, numCuts, wholeUsed, splitUsed;
    size_t   *cuts;
    uint8_t  *whole, *split;
    WsParser *wholeParser, *splitParser;
    Run       wholeRun, splitRun;

    if (size < 2) {
        return 0;
    }
    isServer = (data[0] & 1) != 0;
    maxSize = limits[(data[0] >> 1) & 7];
    seed = ((uint64_t)data[0] << 8 | data[1]) * UINT64_C(0x9e3779b97f4a7c15) + 1;
    len = size - 2;

    /* Separate copies of exactly len bytes: the parser unmasks in place. */
    whole = malloc(len + 1);
    split = malloc(len + 1);
    cuts = malloc((len + 1) * sizeof(size_t));
    Require(whole != NULL && split != NULL && cuts != NULL, "memory");
    if (len > 0) {
        memcpy(whole, data + 2, len);
        memcpy(split, data + 2, len);
    }

    numCuts = SplitPoints(seed, len, cuts);

    memset(&wholeRun, 0, sizeof(wholeRun));
    memset(&splitRun, 0, sizeof(splitRun));
    wholeRun.maxSize = splitRun.maxSize = (maxSize == 0) ? 0x7fffffff : maxSize;
    wholeRun.roundTrip = true;
    wholeParser = WsParserCreate(isServer, maxSize);
    splitParser = WsParserCreate(isServer, maxSize);
    Require(wholeParser != NULL && splitParser != NULL, "parsers");

    wholeUsed = FeedAll(wholeParser, whole, len, NULL, 0, &wholeRun);
    splitUsed = FeedAll(splitParser, split, len, cuts, numCuts, &splitRun);

    Require(wholeRun.events == splitRun.events && wholeRun.digest == splitRun.digest,
            "the same events whole and in pieces");
    Require(WsParserClosed(wholeParser) == WsParserClosed(splitParser), "the same end");
    /* Open streams were taken whole (FeedAll checked); a close ends at the same byte. */
    if (wholeRun.closeSeen) {
        Require(splitUsed == wholeUsed, "a close frame ends the stream at the same byte");
    }
    if (!WsParserClosed(wholeParser)) {
        Require(WsParserBuffered(wholeParser) == WsParserBuffered(splitParser),
                "the same bytes held");
    }

    WsParserDestroy(wholeParser);
    WsParserDestroy(splitParser);
    free(whole);
    free(split);
    free(cuts);
    return 0;
}
