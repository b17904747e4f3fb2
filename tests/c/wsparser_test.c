/*
 * wsparser_test.c --
 *
 *      Unit tests of the message parser of nswebsocket/wsframe.c
 *      (WsParserCreate, WsParserFeed and the rest): single-frame and
 *      fragmented messages, control frames between fragments, every
 *      protocol error with its close code and reason, text validation
 *      across frames, message size limits, close frames, zero-copy
 *      delivery and what the parser buffers.  Every case is fed whole,
 *      split in two at every byte, a byte at a time and in random pieces,
 *      and must give the same events each time; an error must be reported
 *      exactly when the byte that reveals it has been fed.  Every piece is
 *      copied to the end of a buffer followed by a PROT_NONE guard page,
 *      so reading one byte too far crashes the test.  Frames are encoded
 *      by the test itself, independently of the code under test (the
 *      frame layer is tested in wsframe_test.c).  Build with
 *      -fsanitize=address,undefined.  Prints "wsparser_test: N passed, M
 *      failed" and exits non-zero when anything failed.
 */

#define UNITTEST_NAME "wsparser_test"

#include "wsframe.h"
#include "unittest.h"
#include "utf8cases.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "No error expected" for Case.failAt. */
#define NO_FAIL     SIZE_MAX

/* Payloads up to this length are logged as text, longer ones by hash. */
#define LOG_INLINE  40

#define FIN         0x80u

/* A growable byte string. */
typedef struct Bytes {
    uint8_t *data;
    size_t   len;
    size_t   cap;
} Bytes;

/* A parser test: the stream, the events it must give, where it must fail. */
typedef struct Case {
    const char *name;
    bool        isServer;
    uint64_t    maxSize;
    Bytes       stream;
    Bytes       expected;   /* the event log, one line per event */
    size_t      failAt;     /* index of the byte that reveals the error, or NO_FAIL */
    unsigned    maskSeed;   /* varies the masking keys of the frames */
} Case;

/* What the parser callbacks saw. */
typedef struct Recorder {
    Bytes          log;
    bool           ended;       /* a close or an error was reported */
    bool           sawError;
    int            lateCalls;   /* callbacks after the end: must stay 0 */
    int            badText;     /* text messages that were not valid UTF-8 */
    int            inPlace;     /* messages handed over from inside the fed piece */
    int            messages;
    const uint8_t *pieceStart;  /* the piece being fed */
    const uint8_t *pieceEnd;
} Recorder;

static void BytesAppend(Bytes *b, const void *data, size_t len);
static void BytesPrintf(Bytes *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void BytesFree(Bytes *b);
static uint32_t Hash(const uint8_t *data, size_t len);
static void Describe(Bytes *b, const uint8_t *data, size_t len);
static void CaseInit(Case *c, const char *name, bool isServer, uint64_t maxSize);
static size_t AddHeader(Case *c, unsigned int byte0, uint64_t length, bool masked,
                        uint8_t key[4]);
static size_t AddFrameEx(Case *c, unsigned int byte0, const void *payload, size_t len,
                         bool masked);
static size_t AddFrame(Case *c, unsigned int byte0, const void *payload, size_t len);
static void Expect(Case *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ExpectData(Case *c, const char *kind, const void *payload, size_t len);
static void RecMessage(void *arg, unsigned int opcode, uint8_t *data, size_t len);
static void RecPing(void *arg, uint8_t *data, size_t len);
static void RecPong(void *arg, uint8_t *data, size_t len);
static void RecClose(void *arg, int code, const uint8_t *reason, size_t len);
static void RecError(void *arg, int code, const char *reason);
static size_t FeedPieces(const Case *c, const size_t *cuts, size_t numCuts, Recorder *recPtr,
                         bool *errorAfterFirstPtr);
static void RunCase(Case *c);
static void TestParserBasics(void);
static void TestParserFragments(void);
static void TestParserProtocolErrors(void);
static void TestParserUtf8(void);
static void TestParserLimits(void);
static void TestParserClose(void);
static void TestParserZeroCopyAndBuffered(void);

static const WsParserCallbacks recCallbacks = {
    RecMessage, RecPing, RecPong, RecClose, RecError
};


/*
 *----------------------------------------------------------------------
 *
 * BytesAppend, BytesPrintf, BytesFree --
 *
 *      A growable byte string for streams and event logs; always kept
 *      NUL-terminated so that logs print as strings.
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      Allocates; exits when memory is short.
 *
 *----------------------------------------------------------------------
 */

static void
BytesAppend(Bytes *b, const void *data, size_t len)
{
    if (b->len + len + 1 > b->cap) {
        size_t cap = (b->cap > 0) ? b->cap : 256;

        while (cap < b->len + len + 1) {
            cap *= 2;
        }
        b->data = realloc(b->data, cap);
        if (b->data == NULL) {
            fprintf(stderr, UNITTEST_NAME ": out of memory\n");
            exit(2);
        }
        b->cap = cap;
    }
    if (len > 0) {
        memcpy(b->data + b->len, data, len);
    }
    b->len += len;
    b->data[b->len] = 0;
}

static void
BytesPrintf(Bytes *b, const char *fmt, ...)
{
    char    buf[512];
    va_list ap;
    int     n;

    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    BytesAppend(b, buf, (n < 0) ? 0 : ((size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1));
}

static void
BytesFree(Bytes *b)
{
    free(b->data);
    memset(b, 0, sizeof(*b));
}


/*
 *----------------------------------------------------------------------
 *
 * Hash, Describe --
 *
 *      FNV-1a, and the log form of a payload: quoted with escapes when
 *      short, length and hash when long.
 *
 * Results:
 *      Hash: the hash.
 *
 * Side effects:
 *      Describe appends to b.
 *
 *----------------------------------------------------------------------
 */

static uint32_t
Hash(const uint8_t *data, size_t len)
{
    uint32_t h = 2166136261u;
    size_t   i;

    for (i = 0; i < len; i++) {
        h = (h ^ data[i]) * 16777619u;
    }
    return h;
}

static void
Describe(Bytes *b, const uint8_t *data, size_t len)
{
    size_t i;

    if (len > LOG_INLINE) {
        BytesPrintf(b, "#%08x", Hash(data, len));
        return;
    }
    BytesAppend(b, "\"", 1);
    for (i = 0; i < len; i++) {
        if (data[i] >= 0x20 && data[i] < 0x7f && data[i] != '"' && data[i] != '\\') {
            BytesAppend(b, &data[i], 1);
        } else {
            BytesPrintf(b, "\\x%02x", data[i]);
        }
    }
    BytesAppend(b, "\"", 1);
}


/*
 *----------------------------------------------------------------------
 *
 * CaseInit, AddHeader, AddFrameEx, AddFrame, Expect, ExpectData --
 *
 *      Build a parser case: frames are encoded here independently of the
 *      code under test (each with its own masking key when masked), and
 *      the expected events are written in the log format of the Rec*
 *      callbacks.
 *
 * Results:
 *      AddHeader, AddFrameEx, AddFrame: the offset of the payload in the
 *      stream, for failAt.
 *
 * Side effects:
 *      Grows the case's buffers.
 *
 *----------------------------------------------------------------------
 */

static void
CaseInit(Case *c, const char *name, bool isServer, uint64_t maxSize)
{
    memset(c, 0, sizeof(*c));
    c->name = name;
    c->isServer = isServer;
    c->maxSize = maxSize;
    c->failAt = NO_FAIL;
    BytesAppend(&c->stream, "", 0);
    BytesAppend(&c->expected, "", 0);
}

static size_t
AddHeader(Case *c, unsigned int byte0, uint64_t length, bool masked, uint8_t key[4])
{
    uint8_t h[WS_MAX_HEADER_LENGTH];
    size_t  n = 0, i;

    h[n++] = (uint8_t)byte0;
    if (length < 126) {
        h[n++] = (uint8_t)((masked ? 0x80 : 0) | length);
    } else if (length < 65536) {
        h[n++] = (uint8_t)((masked ? 0x80 : 0) | 126);
        h[n++] = (uint8_t)(length >> 8);
        h[n++] = (uint8_t)length;
    } else {
        h[n++] = (uint8_t)((masked ? 0x80 : 0) | 127);
        for (i = 0; i < 8; i++) {
            h[n++] = (uint8_t)(length >> (56 - 8 * i));
        }
    }
    if (masked) {
        c->maskSeed++;
        key[0] = (uint8_t)(0x37 + 31 * c->maskSeed);
        key[1] = (uint8_t)(0xfa ^ (c->maskSeed * 7));
        key[2] = (uint8_t)(0x21 + c->maskSeed);
        key[3] = (uint8_t)(0x3d * (c->maskSeed | 1));
        memcpy(h + n, key, 4);
        n += 4;
    }
    BytesAppend(&c->stream, h, n);
    return c->stream.len;
}

static size_t
AddFrameEx(Case *c, unsigned int byte0, const void *payload, size_t len, bool masked)
{
    uint8_t key[4];
    size_t  start = AddHeader(c, byte0, len, masked, key);

    BytesAppend(&c->stream, payload, len);
    if (masked) {
        RefMask(c->stream.data + start, len, key, 0);
    }
    return start;
}

static size_t
AddFrame(Case *c, unsigned int byte0, const void *payload, size_t len)
{
    return AddFrameEx(c, byte0, payload, len, c->isServer);
}

static void
Expect(Case *c, const char *fmt, ...)
{
    char    buf[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    BytesPrintf(&c->expected, "%s\n", buf);
}

static void
ExpectData(Case *c, const char *kind, const void *payload, size_t len)
{
    BytesPrintf(&c->expected, "%s(%zu) ", kind, len);
    Describe(&c->expected, payload, len);
    BytesAppend(&c->expected, "\n", 1);
}


/*
 *----------------------------------------------------------------------
 *
 * RecMessage, RecPing, RecPong, RecClose, RecError --
 *
 *      The parser callbacks of the tests: log each event, note calls after
 *      the end, text that is not valid UTF-8, and data handed over from
 *      inside the fed piece.
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      Update the Recorder.
 *
 *----------------------------------------------------------------------
 */

static void
RecMessage(void *arg, unsigned int opcode, uint8_t *data, size_t len)
{
    Recorder *recPtr = arg;

    recPtr->lateCalls += recPtr->ended;
    recPtr->messages++;
    if (len > 0 && data >= recPtr->pieceStart && data + len <= recPtr->pieceEnd) {
        recPtr->inPlace++;
    }
    if (opcode == WS_OP_TEXT && WsUtf8Step(WS_UTF8_ACCEPT, data, len) != WS_UTF8_ACCEPT) {
        recPtr->badText++;
    }
    BytesPrintf(&recPtr->log, "%s(%zu) ", opcode == WS_OP_TEXT ? "text"
                : opcode == WS_OP_BINARY ? "binary" : "opcode?", len);
    Describe(&recPtr->log, data, len);
    BytesAppend(&recPtr->log, "\n", 1);
}

static void
RecPing(void *arg, uint8_t *data, size_t len)
{
    Recorder *recPtr = arg;

    recPtr->lateCalls += recPtr->ended;
    BytesPrintf(&recPtr->log, "ping(%zu) ", len);
    Describe(&recPtr->log, data, len);
    BytesAppend(&recPtr->log, "\n", 1);
}

static void
RecPong(void *arg, uint8_t *data, size_t len)
{
    Recorder *recPtr = arg;

    recPtr->lateCalls += recPtr->ended;
    BytesPrintf(&recPtr->log, "pong(%zu) ", len);
    Describe(&recPtr->log, data, len);
    BytesAppend(&recPtr->log, "\n", 1);
}

static void
RecClose(void *arg, int code, const uint8_t *reason, size_t len)
{
    Recorder *recPtr = arg;

    recPtr->lateCalls += recPtr->ended;
    recPtr->ended = true;
    if (WsUtf8Step(WS_UTF8_ACCEPT, reason, len) != WS_UTF8_ACCEPT) {
        recPtr->badText++;
    }
    BytesPrintf(&recPtr->log, "close %d ", code);
    Describe(&recPtr->log, reason, len);
    BytesAppend(&recPtr->log, "\n", 1);
}

static void
RecError(void *arg, int code, const char *reason)
{
    Recorder *recPtr = arg;

    recPtr->lateCalls += recPtr->ended;
    recPtr->ended = true;
    recPtr->sawError = true;
    BytesPrintf(&recPtr->log, "error %d %s\n", code, reason);
}


/*
 *----------------------------------------------------------------------
 *
 * FeedPieces --
 *
 *      Run a fresh parser over the case's stream cut at the given
 *      offsets (ascending), each piece copied against the guard page
 *      (over the previous one, so a parser that kept a pointer into an
 *      old piece would see garbage).  Once the parser has stopped, the
 *      remaining pieces must be refused.
 *
 * Results:
 *      Total bytes consumed; *recPtr holds the events.
 *      *errorAfterFirstPtr: whether an error was out after the first piece.
 *
 * Side effects:
 *      Counts a check when a stopped parser consumes more.
 *
 *----------------------------------------------------------------------
 */

static size_t
FeedPieces(const Case *c, const size_t *cuts, size_t numCuts, Recorder *recPtr,
           bool *errorAfterFirstPtr)
{
    WsParser *parserPtr = WsParserCreate(c->isServer, c->maxSize);
    size_t    total = 0, from = 0, i;
    bool      refused = true;

    memset(recPtr, 0, sizeof(*recPtr));
    BytesAppend(&recPtr->log, "", 0);
    *errorAfterFirstPtr = false;
    for (i = 0; i <= numCuts; i++) {
        size_t   to = (i < numCuts) ? cuts[i] : c->stream.len;
        uint8_t *piece = Guarded(c->stream.data + from, to - from);
        bool     wasClosed = WsParserClosed(parserPtr);
        size_t   n;

        recPtr->pieceStart = piece;
        recPtr->pieceEnd = piece + (to - from);
        n = WsParserFeed(parserPtr, piece, to - from, &recCallbacks, recPtr);
        if (n > to - from || (wasClosed && n != 0)
            || (!WsParserClosed(parserPtr) && n != to - from)) {
            refused = false;
        }
        total += n;
        if (i == 0) {
            *errorAfterFirstPtr = recPtr->sawError;
        }
        from = to;
    }
    if (WsParserClosed(parserPtr)) {
        uint8_t more[3] = {0x81, 0x00, 0x89};

        if (WsParserFeed(parserPtr, Guarded(more, 3), 3, &recCallbacks, recPtr) != 0
            || WsParserBuffered(parserPtr) != 0) {
            refused = false;
        }
    }
    if (!refused) {
        CHECK(false, "%s: bytes consumed beyond the rules", c->name);
    }
    WsParserDestroy(parserPtr);
    return total;
}


/*
 *----------------------------------------------------------------------
 *
 * RunCase --
 *
 *      Feed a case whole, in two pieces cut at every byte (at selected
 *      bytes for long streams), a byte at a time, and in random pieces.
 *      Each run must log exactly the expected events, call nothing after
 *      a close or an error, deliver only valid text, and (without an
 *      error) consume the same bytes.  With failAt, the two-piece runs
 *      must show the error after the first piece exactly when that piece
 *      holds the byte at failAt.
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      Counts checks; frees the case.
 *
 *----------------------------------------------------------------------
 */

static void
RunCase(Case *c)
{
    size_t   len = c->stream.len, wholeConsumed, k, n, edge, stride, cutsCap;
    size_t  *cuts;
    bool     heavy;
    Recorder rec;
    bool     errorAfterFirst;
    size_t   splitBad = 0, firstBadSplit = SIZE_MAX, timingBad = 0, firstTimingBad = SIZE_MAX;
    uint64_t seed = 0x2545f4914f6cdd1du;
    int      randomBad = 0, run;

    /* Huge streams get fewer runs: each one parses and hashes megabytes. */
    heavy = len > (1u << 20);
    edge = heavy ? 4 : 40;
    stride = heavy ? len / 4 : 997;
    cutsCap = heavy ? 65536 : len + 1;
    cuts = malloc(cutsCap * sizeof(size_t));

    wholeConsumed = FeedPieces(c, NULL, 0, &rec, &errorAfterFirst);
    CHECK(strcmp((char *)rec.log.data, (char *)c->expected.data) == 0,
          "%s: whole:\n--- got\n%s--- want\n%s", c->name, rec.log.data, c->expected.data);
    CHECK(rec.lateCalls == 0 && rec.badText == 0, "%s: whole: %d late calls, %d bad texts",
          c->name, rec.lateCalls, rec.badText);
    CHECK(rec.ended || wholeConsumed == len, "%s: whole: consumed %zu of %zu", c->name,
          wholeConsumed, len);
    BytesFree(&rec.log);

    /* Two pieces, cut at every byte of short streams, at selected ones of long ones. */
    for (k = 0; k <= len; k++) {
        if (len > 3000 && k > edge && k + edge < len && k % stride != 0 && k != c->failAt
            && k != c->failAt + 1) {
            continue;
        }
        cuts[0] = k;
        n = FeedPieces(c, cuts, 1, &rec, &errorAfterFirst);
        if (strcmp((char *)rec.log.data, (char *)c->expected.data) != 0 || rec.lateCalls != 0
            || rec.badText != 0 || (!rec.sawError && n != wholeConsumed)) {
            splitBad++;
            if (firstBadSplit == SIZE_MAX) {
                firstBadSplit = k;
                fprintf(stderr, "%s: split at %zu:\n--- got\n%s", c->name, k,
                        (char *)rec.log.data);
            }
        }
        if (c->failAt != NO_FAIL && errorAfterFirst != (k > c->failAt)) {
            timingBad++;
            if (firstTimingBad == SIZE_MAX) {
                firstTimingBad = k;
            }
        }
        BytesFree(&rec.log);
    }
    CHECK(splitBad == 0, "%s: %zu two-piece runs differ, first at %zu", c->name, splitBad,
          firstBadSplit);
    if (c->failAt != NO_FAIL) {
        CHECK(timingBad == 0, "%s: error not reported right at byte %zu (first wrong cut %zu)",
              c->name, c->failAt, firstTimingBad);
    }

    /* A byte at a time. */
    if (!heavy) {
        for (k = 0; k < len; k++) {
            cuts[k] = k + 1;
        }
        n = FeedPieces(c, cuts, len > 0 ? len - 1 : 0, &rec, &errorAfterFirst);
        CHECK(strcmp((char *)rec.log.data, (char *)c->expected.data) == 0 && rec.lateCalls == 0
              && rec.badText == 0 && (rec.sawError || n == wholeConsumed),
              "%s: a byte at a time:\n--- got\n%s", c->name, rec.log.data);
        BytesFree(&rec.log);
    }

    /* Random pieces: mostly short, some long. */
    for (run = 0; run < (heavy ? 3 : 20); run++) {
        size_t numCuts = 0, at = 0;

        for (;;) {
            uint64_t r = NextRandom(&seed);
            size_t   step = (r & 3) ? 1 + (size_t)(r >> 8) % 16 : 1 + (size_t)(r >> 8) % 70000;

            at += step;
            if (at >= len || numCuts == cutsCap) {
                break;
            }
            cuts[numCuts++] = at;
        }
        n = FeedPieces(c, cuts, numCuts, &rec, &errorAfterFirst);
        if (strcmp((char *)rec.log.data, (char *)c->expected.data) != 0 || rec.lateCalls != 0
            || rec.badText != 0 || (!rec.sawError && n != wholeConsumed)) {
            randomBad++;
        }
        BytesFree(&rec.log);
    }
    CHECK(randomBad == 0, "%s: %d random-piece runs differ", c->name, randomBad);

    free(cuts);
    BytesFree(&c->stream);
    BytesFree(&c->expected);
}


/*
 *----------------------------------------------------------------------
 *
 * TestParserBasics --
 *
 *      Single-frame messages of every length boundary, empty messages,
 *      pings and pongs, several messages in one stream, the client side.
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      Counts checks.
 *
 *----------------------------------------------------------------------
 */

static void
TestParserBasics(void)
{
    static const size_t sizes[] = {0, 1, 125, 126, 127, 65535, 65536, 16u * 1024u * 1024u};
    uint8_t            *big;
    size_t              i;
    Case                c;
    char                name[64];

    big = malloc(16u * 1024u * 1024u);
    for (i = 0; i < 16u * 1024u * 1024u; i++) {
        big[i] = (uint8_t)('a' + i % 26);
    }

    CaseInit(&c, "text Hello", true, 0);
    AddFrame(&c, FIN | WS_OP_TEXT, "Hello", 5);
    Expect(&c, "text(5) \"Hello\"");
    RunCase(&c);

    CaseInit(&c, "binary", true, 0);
    AddFrame(&c, FIN | WS_OP_BINARY, "\x00\xff\x80", 3);
    Expect(&c, "binary(3) \"\\x00\\xff\\x80\"");
    RunCase(&c);

    CaseInit(&c, "empty text, empty binary", true, 0);
    AddFrame(&c, FIN | WS_OP_TEXT, "", 0);
    AddFrame(&c, FIN | WS_OP_BINARY, "", 0);
    Expect(&c, "text(0) \"\"");
    Expect(&c, "binary(0) \"\"");
    RunCase(&c);

    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        snprintf(name, sizeof(name), "text of %zu bytes", sizes[i]);
        CaseInit(&c, name, true, 0);
        AddFrame(&c, FIN | WS_OP_TEXT, big, sizes[i]);
        ExpectData(&c, "text", big, sizes[i]);
        RunCase(&c);
    }

    CaseInit(&c, "ping, pong, empty ping", true, 0);
    AddFrame(&c, FIN | WS_OP_PING, "are you there?", 14);
    AddFrame(&c, FIN | WS_OP_PONG, "yes", 3);
    AddFrame(&c, FIN | WS_OP_PING, "", 0);
    AddFrame(&c, FIN | WS_OP_PONG, "", 0);
    Expect(&c, "ping(14) \"are you there?\"");
    Expect(&c, "pong(3) \"yes\"");
    Expect(&c, "ping(0) \"\"");
    Expect(&c, "pong(0) \"\"");
    RunCase(&c);

    CaseInit(&c, "ping of 125 bytes", true, 0);
    AddFrame(&c, FIN | WS_OP_PING, big, 125);
    ExpectData(&c, "ping", big, 125);
    RunCase(&c);

    CaseInit(&c, "messages and pings in a row", true, 0);
    AddFrame(&c, FIN | WS_OP_TEXT, "a", 1);
    AddFrame(&c, FIN | WS_OP_PING, "p", 1);
    AddFrame(&c, FIN | WS_OP_BINARY, "bb", 2);
    AddFrame(&c, FIN | WS_OP_TEXT, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5", 11);
    AddFrame(&c, FIN | WS_OP_CLOSE, "\x03\xe8" "bye", 5);
    Expect(&c, "text(1) \"a\"");
    Expect(&c, "ping(1) \"p\"");
    Expect(&c, "binary(2) \"bb\"");
    Expect(&c, "text(11) \"\\xce\\xba\\xe1\\xbd\\xb9\\xcf\\x83\\xce\\xbc\\xce\\xb5\"");
    Expect(&c, "close 1000 \"bye\"");
    RunCase(&c);

    CaseInit(&c, "non-minimal length", true, 0);
    {
        uint8_t key[4];
        size_t  at;

        /* AddHeader encodes minimally, so write this header by hand. */
        BytesAppend(&c.stream, "\x82\xfe\x00\x03", 4);
        memcpy(key, "\x01\x02\x03\x04", 4);
        BytesAppend(&c.stream, key, 4);
        at = c.stream.len;
        BytesAppend(&c.stream, "xyz", 3);
        RefMask(c.stream.data + at, 3, key, 0);
    }
    Expect(&c, "binary(3) \"xyz\"");
    RunCase(&c);

    CaseInit(&c, "client side: unmasked frames", false, 0);
    AddFrame(&c, FIN | WS_OP_TEXT, "from server", 11);
    AddFrame(&c, FIN | WS_OP_PING, "x", 1);
    AddFrame(&c, FIN | WS_OP_CLOSE, "\x03\xe9", 2);
    Expect(&c, "text(11) \"from server\"");
    Expect(&c, "ping(1) \"x\"");
    Expect(&c, "close 1001 \"\"");
    RunCase(&c);

    free(big);
}


/*
 *----------------------------------------------------------------------
 *
 * TestParserFragments --
 *
 *      Fragmented messages, with control frames between the fragments,
 *      with empty fragments, and large ones.
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      Counts checks.
 *
 *----------------------------------------------------------------------
 */

static void
TestParserFragments(void)
{
    Case     c;
    uint8_t *big = malloc(200000);
    size_t   i;

    for (i = 0; i < 200000; i++) {
        big[i] = (uint8_t)(i * 31 + 7);
    }

    CaseInit(&c, "fragmented text with ping and pong between", true, 0);
    AddFrame(&c, WS_OP_TEXT, "Hel", 3);
    AddFrame(&c, FIN | WS_OP_PING, "p1", 2);
    AddFrame(&c, WS_OP_CONTINUATION, "lo ", 3);
    AddFrame(&c, FIN | WS_OP_PONG, "x", 1);
    AddFrame(&c, FIN | WS_OP_PING, "", 0);
    AddFrame(&c, FIN | WS_OP_CONTINUATION, "World", 5);
    AddFrame(&c, FIN | WS_OP_TEXT, "next", 4);
    Expect(&c, "ping(2) \"p1\"");
    Expect(&c, "pong(1) \"x\"");
    Expect(&c, "ping(0) \"\"");
    Expect(&c, "text(11) \"Hello World\"");
    Expect(&c, "text(4) \"next\"");
    RunCase(&c);

    CaseInit(&c, "fragmented binary of empty fragments", true, 0);
    AddFrame(&c, WS_OP_BINARY, "", 0);
    AddFrame(&c, WS_OP_CONTINUATION, "", 0);
    AddFrame(&c, FIN | WS_OP_CONTINUATION, "", 0);
    Expect(&c, "binary(0) \"\"");
    RunCase(&c);

    CaseInit(&c, "empty first fragments, data in the last", true, 0);
    AddFrame(&c, WS_OP_TEXT, "", 0);
    AddFrame(&c, FIN | WS_OP_CONTINUATION, "abc", 3);
    Expect(&c, "text(3) \"abc\"");
    RunCase(&c);

    CaseInit(&c, "one byte per fragment", true, 0);
    AddFrame(&c, WS_OP_TEXT, "f", 1);
    AddFrame(&c, WS_OP_CONTINUATION, "r", 1);
    AddFrame(&c, WS_OP_CONTINUATION, "a", 1);
    AddFrame(&c, WS_OP_CONTINUATION, "g", 1);
    AddFrame(&c, FIN | WS_OP_CONTINUATION, "s", 1);
    Expect(&c, "text(5) \"frags\"");
    RunCase(&c);

    CaseInit(&c, "large fragments with a close between", true, 0);
    AddFrame(&c, WS_OP_BINARY, big, 70000);
    AddFrame(&c, FIN | WS_OP_PING, "mid", 3);
    AddFrame(&c, WS_OP_CONTINUATION, big + 70000, 65536);
    AddFrame(&c, FIN | WS_OP_CONTINUATION, big + 135536, 64464);
    AddFrame(&c, FIN | WS_OP_BINARY, big, 300);
    AddFrame(&c, WS_OP_BINARY, big, 10);
    AddFrame(&c, FIN | WS_OP_CLOSE, "\x0b\xb8", 2);
    AddFrame(&c, FIN | WS_OP_CONTINUATION, big, 10);
    Expect(&c, "ping(3) \"mid\"");
    ExpectData(&c, "binary", big, 200000);
    ExpectData(&c, "binary", big, 300);
    Expect(&c, "close 3000 \"\"");
    RunCase(&c);

    CaseInit(&c, "client side fragments", false, 0);
    AddFrame(&c, WS_OP_BINARY, "ab", 2);
    AddFrame(&c, FIN | WS_OP_CONTINUATION, "cd", 2);
    Expect(&c, "binary(4) \"abcd\"");
    RunCase(&c);

    free(big);
}


/*
 *----------------------------------------------------------------------
 *
 * TestParserProtocolErrors --
 *
 *      Every 1002 rule, with its reason, and the byte at which it must be
 *      reported: the last byte of the offending header.
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      Counts checks.
 *
 *----------------------------------------------------------------------
 */

static void
TestParserProtocolErrors(void)
{
    static const unsigned int badOpcodes[] = {3, 4, 5, 6, 7, 11, 12, 13, 14, 15};
    Case                      c;
    char                      name[64];
    unsigned int              rsv;
    size_t                    i, at;
    uint8_t                   payload[126];

    memset(payload, 'p', sizeof(payload));
    for (rsv = 1; rsv < 8; rsv++) {
        snprintf(name, sizeof(name), "text with RSV %u", rsv);
        CaseInit(&c, name, true, 0);
        AddFrame(&c, FIN | WS_OP_TEXT, "ok", 2);
        at = AddFrame(&c, FIN | (rsv << 4) | WS_OP_TEXT, "Hello", 5);
        AddFrame(&c, FIN | WS_OP_TEXT, "never", 5);
        Expect(&c, "text(2) \"ok\"");
        Expect(&c, "error 1002 reserved bits set");
        c.failAt = at - 1;
        RunCase(&c);
    }
    CaseInit(&c, "ping with RSV", true, 0);
    c.failAt = AddFrame(&c, FIN | 0x40 | WS_OP_PING, "x", 1) - 1;
    Expect(&c, "error 1002 reserved bits set");
    RunCase(&c);

    for (i = 0; i < sizeof(badOpcodes) / sizeof(badOpcodes[0]); i++) {
        snprintf(name, sizeof(name), "opcode %u", badOpcodes[i]);
        CaseInit(&c, name, true, 0);
        c.failAt = AddFrame(&c, FIN | badOpcodes[i], "", 0) - 1;
        AddFrame(&c, FIN | WS_OP_PING, "", 0);
        Expect(&c, "error 1002 unknown opcode %u", badOpcodes[i]);
        RunCase(&c);
    }

    CaseInit(&c, "ping of 126 bytes", true, 0);
    c.failAt = AddFrame(&c, FIN | WS_OP_PING, payload, 126) - 1;
    Expect(&c, "error 1002 control frame too long");
    RunCase(&c);

    CaseInit(&c, "close of 126 bytes", true, 0);
    memcpy(payload, "\x03\xe8", 2);
    c.failAt = AddFrame(&c, FIN | WS_OP_CLOSE, payload, 126) - 1;
    Expect(&c, "error 1002 control frame too long");
    RunCase(&c);

    CaseInit(&c, "fragmented ping", true, 0);
    AddFrame(&c, WS_OP_TEXT, "a", 1);
    c.failAt = AddFrame(&c, WS_OP_PING, "x", 1) - 1;
    AddFrame(&c, FIN | WS_OP_CONTINUATION, "b", 1);
    Expect(&c, "error 1002 fragmented control frame");
    RunCase(&c);

    CaseInit(&c, "unmasked client frame", true, 0);
    AddFrame(&c, FIN | WS_OP_PING, "ok", 2);
    c.failAt = AddFrameEx(&c, FIN | WS_OP_TEXT, "Hello", 5, false) - 1;
    Expect(&c, "ping(2) \"ok\"");
    Expect(&c, "error 1002 unmasked client frame");
    RunCase(&c);

    CaseInit(&c, "masked server frame", false, 0);
    c.failAt = AddFrameEx(&c, FIN | WS_OP_TEXT, "Hello", 5, true) - 1;
    Expect(&c, "error 1002 masked server frame");
    RunCase(&c);

    CaseInit(&c, "continuation without a message", true, 0);
    c.failAt = AddFrame(&c, FIN | WS_OP_CONTINUATION, "x", 1) - 1;
    Expect(&c, "error 1002 continuation frame without a message");
    RunCase(&c);

    CaseInit(&c, "continuation after a final frame", true, 0);
    AddFrame(&c, FIN | WS_OP_TEXT, "a", 1);
    c.failAt = AddFrame(&c, WS_OP_CONTINUATION, "b", 1) - 1;
    Expect(&c, "text(1) \"a\"");
    Expect(&c, "error 1002 continuation frame without a message");
    RunCase(&c);

    CaseInit(&c, "text inside a fragmented text", true, 0);
    AddFrame(&c, WS_OP_TEXT, "a", 1);
    AddFrame(&c, FIN | WS_OP_PING, "", 0);
    c.failAt = AddFrame(&c, FIN | WS_OP_TEXT, "b", 1) - 1;
    Expect(&c, "ping(0) \"\"");
    Expect(&c, "error 1002 data frame inside a fragmented message");
    RunCase(&c);

    CaseInit(&c, "binary inside a fragmented text", true, 0);
    AddFrame(&c, WS_OP_TEXT, "a", 1);
    c.failAt = AddFrame(&c, WS_OP_BINARY, "b", 1) - 1;
    Expect(&c, "error 1002 data frame inside a fragmented message");
    RunCase(&c);

    CaseInit(&c, "64-bit length with the top bit", true, 0);
    AddFrame(&c, FIN | WS_OP_TEXT, "a", 1);
    at = c.stream.len;
    BytesAppend(&c.stream, "\x82\xff\x80\x00\x00\x00\x00\x00\x00\x00\x01\x02\x03\x04", 14);
    c.failAt = at + 2;
    Expect(&c, "text(1) \"a\"");
    Expect(&c, "error 1002 frame length out of range");
    RunCase(&c);
}


/*
 *----------------------------------------------------------------------
 *
 * TestParserUtf8 --
 *
 *      Text validation across frames: characters split between fragments
 *      are fine; invalid bytes fail with 1007 at the byte (Autobahn 6.4:
 *      before the rest of the frame or message has arrived); a message
 *      that ends inside a character fails at its last byte; every entry of
 *      the UTF-8 table as a message, whole and a byte per fragment.
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      Counts checks.
 *
 *----------------------------------------------------------------------
 */

static void
TestParserUtf8(void)
{
    static const char kosme[] = "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5";
    Case              c;
    size_t            numCases, i, j, at;
    char              name[128];
    const Utf8Case   *utf8Cases = Utf8Cases(&numCases);

    CaseInit(&c, "character split between fragments", true, 0);
    AddFrame(&c, WS_OP_TEXT, "\xce", 1);
    AddFrame(&c, FIN | WS_OP_PING, "", 0);
    AddFrame(&c, FIN | WS_OP_CONTINUATION, "\xba", 1);
    Expect(&c, "ping(0) \"\"");
    Expect(&c, "text(2) \"\\xce\\xba\"");
    RunCase(&c);

    CaseInit(&c, "6.4.1 invalid in the second fragment", true, 0);
    AddFrame(&c, WS_OP_TEXT, kosme, 11);
    at = AddFrame(&c, WS_OP_CONTINUATION, "\xf4\x90\x80\x80", 4);
    AddFrame(&c, FIN | WS_OP_CONTINUATION, "edited", 6);
    c.failAt = at + 1;
    Expect(&c, "error 1007 invalid UTF-8 in text message");
    RunCase(&c);

    CaseInit(&c, "6.4.3 invalid in the middle of one frame", true, 0);
    at = AddFrame(&c, FIN | WS_OP_TEXT, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"
                  "\xf4\x90\x80\x80\x65\x64\x69\x74\x65\x64", 21);
    c.failAt = at + 12;
    Expect(&c, "error 1007 invalid UTF-8 in text message");
    RunCase(&c);

    CaseInit(&c, "invalid in a big frame, found early", true, 0);
    {
        uint8_t *big = malloc(100000);

        memset(big, 'x', 100000);
        big[5000] = 0xff;
        at = AddFrame(&c, FIN | WS_OP_TEXT, big, 100000);
        free(big);
    }
    c.failAt = at + 5000;
    Expect(&c, "error 1007 invalid UTF-8 in text message");
    RunCase(&c);

    CaseInit(&c, "text ends inside a character", true, 0);
    at = AddFrame(&c, FIN | WS_OP_TEXT, "ab\xe2\x82", 4);
    c.failAt = at + 3;
    Expect(&c, "error 1007 incomplete UTF-8 sequence at the end of a text message");
    RunCase(&c);

    CaseInit(&c, "fragmented text ends inside a character with an empty frame", true, 0);
    AddFrame(&c, WS_OP_TEXT, "ab\xe2\x82", 4);
    c.failAt = AddFrame(&c, FIN | WS_OP_CONTINUATION, "", 0) - 1;
    Expect(&c, "error 1007 incomplete UTF-8 sequence at the end of a text message");
    RunCase(&c);

    CaseInit(&c, "binary is not validated", true, 0);
    AddFrame(&c, FIN | WS_OP_BINARY, "\xff\xfe", 2);
    Expect(&c, "binary(2) \"\\xff\\xfe\"");
    RunCase(&c);

    for (i = 0; i < numCases; i++) {
        const Utf8Case *casePtr = &utf8Cases[i];
        int             fragmented;

        if (casePtr->len > LOG_INLINE) {
            continue;
        }
        for (fragmented = 0; fragmented < 2; fragmented++) {
            snprintf(name, sizeof(name), "utf-8 %s%s", casePtr->name,
                     fragmented ? ", a byte per frame" : "");
            CaseInit(&c, name, true, 0);
            if (!fragmented || casePtr->len == 0) {
                at = AddFrame(&c, FIN | WS_OP_TEXT, casePtr->bytes, casePtr->len);
                if (casePtr->expect >= 0) {
                    c.failAt = at + (size_t)casePtr->expect;
                } else if (casePtr->expect == U8_INCOMPLETE) {
                    c.failAt = at + casePtr->len - 1;
                }
            } else {
                for (j = 0; j < casePtr->len; j++) {
                    at = AddFrame(&c, (j == casePtr->len - 1 ? FIN : 0u)
                                  | (j == 0 ? WS_OP_TEXT : WS_OP_CONTINUATION),
                                  casePtr->bytes + j, 1);
                    if (casePtr->expect >= 0 && j == (size_t)casePtr->expect) {
                        c.failAt = at;
                    }
                    AddFrame(&c, FIN | WS_OP_PONG, "", 0);
                    if (casePtr->expect >= 0 && j < (size_t)casePtr->expect) {
                        Expect(&c, "pong(0) \"\"");
                    } else if (casePtr->expect < 0 && j < casePtr->len - 1) {
                        Expect(&c, "pong(0) \"\"");
                    }
                }
                if (casePtr->expect == U8_INCOMPLETE) {
                    c.failAt = at;
                }
            }
            if (casePtr->expect == U8_VALID) {
                ExpectData(&c, "text", casePtr->bytes, casePtr->len);
                if (fragmented && casePtr->len > 0) {
                    Expect(&c, "pong(0) \"\"");
                }
            } else if (casePtr->expect == U8_INCOMPLETE) {
                Expect(&c, "error 1007 incomplete UTF-8 sequence at the end of a text message");
            } else {
                Expect(&c, "error 1007 invalid UTF-8 in text message");
            }
            RunCase(&c);
        }
    }
}


/*
 *----------------------------------------------------------------------
 *
 * TestParserLimits --
 *
 *      1009 as soon as an announced length makes the message too big,
 *      single-frame and fragmented; exactly the limit is fine; the hard
 *      limit applies without a limit of our own; the limit can change.
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      Counts checks.
 *
 *----------------------------------------------------------------------
 */

static void
TestParserLimits(void)
{
    uint8_t data[200];
    uint8_t key[4];
    Case    c;

    memset(data, 'z', sizeof(data));

    CaseInit(&c, "exactly the limit", true, 100);
    AddFrame(&c, FIN | WS_OP_TEXT, data, 100);
    ExpectData(&c, "text", data, 100);
    RunCase(&c);

    CaseInit(&c, "one over the limit", true, 100);
    c.failAt = AddFrame(&c, FIN | WS_OP_BINARY, data, 101) - 1;
    Expect(&c, "error 1009 message too big");
    RunCase(&c);

    CaseInit(&c, "fragments up to the limit", true, 100);
    AddFrame(&c, WS_OP_TEXT, data, 60);
    AddFrame(&c, FIN | WS_OP_PING, data, 125);
    AddFrame(&c, FIN | WS_OP_CONTINUATION, data, 40);
    ExpectData(&c, "ping", data, 125);
    ExpectData(&c, "text", data, 100);
    RunCase(&c);

    CaseInit(&c, "fragments over the limit", true, 100);
    AddFrame(&c, WS_OP_TEXT, data, 60);
    c.failAt = AddFrame(&c, FIN | WS_OP_CONTINUATION, data, 41) - 1;
    Expect(&c, "error 1009 message too big");
    RunCase(&c);

    CaseInit(&c, "announced 2^40 bytes, none sent", true, 1u << 20);
    c.failAt = AddHeader(&c, FIN | WS_OP_BINARY, UINT64_C(1) << 40, true, key) - 1;
    Expect(&c, "error 1009 message too big");
    RunCase(&c);

    CaseInit(&c, "no limit of our own: 2^31 is too big", true, 0);
    c.failAt = AddHeader(&c, FIN | WS_OP_BINARY, UINT64_C(1) << 31, true, key) - 1;
    Expect(&c, "error 1009 message too big");
    RunCase(&c);

    CaseInit(&c, "control frames do not count", true, 10);
    AddFrame(&c, WS_OP_BINARY, data, 5);
    AddFrame(&c, FIN | WS_OP_PING, data, 100);
    AddFrame(&c, FIN | WS_OP_CONTINUATION, data, 5);
    ExpectData(&c, "ping", data, 100);
    ExpectData(&c, "binary", data, 10);
    RunCase(&c);

    {
        WsParser *parserPtr = WsParserCreate(true, 10);
        Recorder  rec;
        uint8_t   frame[64];
        size_t    n;

        memset(&rec, 0, sizeof(rec));
        n = WsFrameEncode(frame, sizeof(frame), true, WS_OP_BINARY, data, 10,
                          (const uint8_t *)"abcd");
        WsParserFeed(parserPtr, frame, n, &recCallbacks, &rec);
        WsParserSetMaxMessageSize(parserPtr, 5);
        n = WsFrameEncode(frame, sizeof(frame), true, WS_OP_BINARY, data, 6,
                          (const uint8_t *)"abcd");
        WsParserFeed(parserPtr, frame, n, &recCallbacks, &rec);
        CHECK(strcmp((char *)rec.log.data, "binary(10) \"zzzzzzzzzz\"\n"
                     "error 1009 message too big\n") == 0,
              "lowered limit:\n%s", rec.log.data);
        BytesFree(&rec.log);
        WsParserDestroy(parserPtr);
    }
    {
        /* The largest allowed length is only an announcement: nothing is allocated. */
        WsParser *parserPtr = WsParserCreate(true, 0);
        Recorder  rec;
        uint8_t   frame[WS_MAX_HEADER_LENGTH];
        size_t    n;

        memset(&rec, 0, sizeof(rec));
        n = WsFrameEncodeHeader(frame, true, WS_OP_BINARY, UINT64_C(0x7fffffff),
                                (const uint8_t *)"abcd");
        CHECK(WsParserFeed(parserPtr, Guarded(frame, n), n, &recCallbacks, &rec) == n
              && rec.log.len == 0 && !WsParserClosed(parserPtr)
              && WsParserBuffered(parserPtr) == 0, "2^31-1 announced: accepted, no events");
        CHECK(WsParserFeed(parserPtr, Guarded(data, 100), 100, &recCallbacks, &rec) == 100
              && WsParserBuffered(parserPtr) == 100, "then buffered as it comes");
        BytesFree(&rec.log);
        WsParserDestroy(parserPtr);
    }
}


/*
 *----------------------------------------------------------------------
 *
 * TestParserClose --
 *
 *      Close frames: empty (1005), code only, code and reason; every code
 *      Autobahn 7.7 and 7.9 send; a 1-byte payload; a reason that is not
 *      valid UTF-8; nothing is processed after a close.
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      Counts checks.
 *
 *----------------------------------------------------------------------
 */

static void
TestParserClose(void)
{
    static const int valid[] = {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012,
                                1013, 1014, 3000, 3999, 4000, 4999};
    static const int invalid[] = {0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999,
                                  5000, 65535};
    uint8_t          payload[WS_MAX_CONTROL_PAYLOAD];
    Case             c;
    char             name[64];
    size_t           i, at;

    CaseInit(&c, "empty close", true, 0);
    AddFrame(&c, FIN | WS_OP_CLOSE, "", 0);
    Expect(&c, "close 1005 \"\"");
    RunCase(&c);

    CaseInit(&c, "close then more frames", true, 0);
    AddFrame(&c, FIN | WS_OP_TEXT, "before", 6);
    AddFrame(&c, FIN | WS_OP_CLOSE, "\x03\xe8" "done", 6);
    AddFrame(&c, FIN | WS_OP_TEXT, "after", 5);
    AddFrame(&c, FIN | WS_OP_PING, "after", 5);
    Expect(&c, "text(6) \"before\"");
    Expect(&c, "close 1000 \"done\"");
    RunCase(&c);

    CaseInit(&c, "close in the middle of a fragmented message", true, 0);
    AddFrame(&c, WS_OP_TEXT, "part", 4);
    AddFrame(&c, FIN | WS_OP_CLOSE, "\x03\xe9", 2);
    AddFrame(&c, FIN | WS_OP_CONTINUATION, "rest", 4);
    Expect(&c, "close 1001 \"\"");
    RunCase(&c);

    CaseInit(&c, "close with a 123-byte reason", true, 0);
    memset(payload, 'r', sizeof(payload));
    memcpy(payload, "\x0f\xa0", 2);
    memcpy(payload + 100, "\xce\xba", 2);
    AddFrame(&c, FIN | WS_OP_CLOSE, payload, 125);
    BytesPrintf(&c.expected, "close 4000 ");
    Describe(&c.expected, payload + 2, 123);
    BytesAppend(&c.expected, "\n", 1);
    RunCase(&c);

    for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
        snprintf(name, sizeof(name), "close code %d", valid[i]);
        CaseInit(&c, name, true, 0);
        payload[0] = (uint8_t)(valid[i] >> 8);
        payload[1] = (uint8_t)valid[i];
        AddFrame(&c, FIN | WS_OP_CLOSE, payload, 2);
        Expect(&c, "close %d \"\"", valid[i]);
        RunCase(&c);
    }
    for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
        snprintf(name, sizeof(name), "invalid close code %d", invalid[i]);
        CaseInit(&c, name, true, 0);
        payload[0] = (uint8_t)(invalid[i] >> 8);
        payload[1] = (uint8_t)invalid[i];
        memcpy(payload + 2, "why", 3);
        c.failAt = AddFrame(&c, FIN | WS_OP_CLOSE, payload, 5) + 4;
        Expect(&c, "error 1002 invalid close code");
        RunCase(&c);
    }

    CaseInit(&c, "close with a 1-byte payload", true, 0);
    c.failAt = AddFrame(&c, FIN | WS_OP_CLOSE, "\x03", 1) - 1;
    Expect(&c, "error 1002 close frame with a 1-byte payload");
    RunCase(&c);

    CaseInit(&c, "7.5.1 close reason not UTF-8", true, 0);
    at = AddFrame(&c, FIN | WS_OP_CLOSE, "\x03\xe8\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"
                  "\xed\xa0\x80\x65\x64\x69\x74\x65\x64", 22);
    c.failAt = at + 21;
    Expect(&c, "error 1007 invalid UTF-8 in close reason");
    RunCase(&c);

    CaseInit(&c, "close reason cut inside a character", true, 0);
    at = AddFrame(&c, FIN | WS_OP_CLOSE, "\x03\xe8" "ab\xe2\x82", 6);
    c.failAt = at + 5;
    Expect(&c, "error 1007 invalid UTF-8 in close reason");
    RunCase(&c);

    CaseInit(&c, "client side close", false, 0);
    AddFrame(&c, FIN | WS_OP_CLOSE, "\x03\xe8" "server going", 14);
    AddFrame(&c, FIN | WS_OP_TEXT, "late", 4);
    Expect(&c, "close 1000 \"server going\"");
    RunCase(&c);
}


/*
 *----------------------------------------------------------------------
 *
 * TestParserZeroCopyAndBuffered --
 *
 *      A final frame that starts a message and lies wholly in the fed
 *      bytes is handed over from there; anything else comes from the
 *      parser's buffer.  WsParserBuffered counts what is held.  NULL
 *      callbacks are allowed.
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      Counts checks.
 *
 *----------------------------------------------------------------------
 */

static void
TestParserZeroCopyAndBuffered(void)
{
    static const uint8_t key[4] = {9, 8, 7, 6};
    static const WsParserCallbacks noCallbacks = {NULL, NULL, NULL, NULL, NULL};
    uint8_t              stream[256];
    uint8_t             *g;
    size_t               n, n2;
    WsParser            *parserPtr;
    Recorder             rec;

    memset(&rec, 0, sizeof(rec));
    parserPtr = WsParserCreate(true, 0);
    n = WsFrameEncode(stream, sizeof(stream), true, WS_OP_TEXT, (const uint8_t *)"in place",
                      8, key);
    n += WsFrameEncode(stream + n, sizeof(stream) - n, true, WS_OP_BINARY,
                       (const uint8_t *)"second", 6, key);
    g = Guarded(stream, n);
    rec.pieceStart = g;
    rec.pieceEnd = g + n;
    CHECK(WsParserFeed(parserPtr, g, n, &recCallbacks, &rec) == n && rec.inPlace == 2
          && rec.messages == 2, "whole frames delivered in place: %d of %d", rec.inPlace,
          rec.messages);
    CHECK(memcmp(g + 6, "in place", 8) == 0, "unmasked in the caller's buffer");

    /* Header in one feed, the payload whole in the next: still in place. */
    rec.inPlace = rec.messages = 0;
    n = WsFrameEncode(stream, sizeof(stream), true, WS_OP_TEXT, (const uint8_t *)"later", 5,
                      key);
    CHECK(n == 11, "masked 5-byte frame");
    g = Guarded(stream, 6);
    WsParserFeed(parserPtr, g, 6, &recCallbacks, &rec);
    CHECK(WsParserBuffered(parserPtr) == 0, "a complete header is not held");
    g = Guarded(stream + 6, 5);
    rec.pieceStart = g;
    rec.pieceEnd = g + 5;
    WsParserFeed(parserPtr, g, 5, &recCallbacks, &rec);
    CHECK(rec.inPlace == 1 && rec.messages == 1, "payload whole in the second feed");

    /* A split header and payload are held, and counted. */
    rec.inPlace = rec.messages = 0;
    n = WsFrameEncode(stream, sizeof(stream), true, WS_OP_BINARY,
                      (const uint8_t *)"0123456789", 10, key);
    WsParserFeed(parserPtr, Guarded(stream, 3), 3, &recCallbacks, &rec);
    CHECK(WsParserBuffered(parserPtr) == 3, "3 header bytes held: %zu",
          WsParserBuffered(parserPtr));
    WsParserFeed(parserPtr, Guarded(stream + 3, 4), 4, &recCallbacks, &rec);
    CHECK(WsParserBuffered(parserPtr) == 1, "1 payload byte held: %zu",
          WsParserBuffered(parserPtr));
    WsParserFeed(parserPtr, Guarded(stream + 7, n - 7), n - 7, &recCallbacks, &rec);
    CHECK(WsParserBuffered(parserPtr) == 0 && rec.messages == 1 && rec.inPlace == 0,
          "split frame delivered from the buffer");

    /* So is a split control frame. */
    rec.messages = 0;
    n = WsFrameEncode(stream, sizeof(stream), true, WS_OP_PING, (const uint8_t *)"abc", 3, key);
    WsParserFeed(parserPtr, Guarded(stream, 8), 8, &recCallbacks, &rec);
    CHECK(WsParserBuffered(parserPtr) == 2, "2 ping bytes held: %zu",
          WsParserBuffered(parserPtr));
    WsParserFeed(parserPtr, Guarded(stream + 8, n - 8), n - 8, &recCallbacks, &rec);
    CHECK(WsParserBuffered(parserPtr) == 0 && strstr((char *)rec.log.data, "ping(3) \"abc\"")
          != NULL, "split ping delivered");

    /* A fragment is held until the message is complete. */
    rec.inPlace = rec.messages = 0;
    n = WsFrameEncode(stream, sizeof(stream), false, WS_OP_TEXT, (const uint8_t *)"abc", 3, key);
    n2 = WsFrameEncode(stream + n, sizeof(stream) - n, true, WS_OP_PING,
                       (const uint8_t *)"pp", 2, key);
    g = Guarded(stream, n + n2);
    WsParserFeed(parserPtr, g, n + n2, &recCallbacks, &rec);
    CHECK(WsParserBuffered(parserPtr) == 3, "fragment held: %zu", WsParserBuffered(parserPtr));
    n = WsFrameEncode(stream, sizeof(stream), false, WS_OP_CONTINUATION,
                      (const uint8_t *)"def", 3, key);
    n += WsFrameEncode(stream + n, sizeof(stream) - n, true, WS_OP_PING, NULL, 0, key);
    WsParserFeed(parserPtr, Guarded(stream, 7), 7, &recCallbacks, &rec);
    CHECK(WsParserBuffered(parserPtr) == 4, "fragment and a bit held: %zu",
          WsParserBuffered(parserPtr));
    n2 = WsFrameEncode(stream + n, sizeof(stream) - n, true, WS_OP_CONTINUATION, NULL, 0, key);
    g = Guarded(stream + 7, n + n2 - 7);
    rec.pieceStart = g;
    rec.pieceEnd = g + n + n2 - 7;
    WsParserFeed(parserPtr, g, n + n2 - 7, &recCallbacks, &rec);
    CHECK(WsParserBuffered(parserPtr) == 0 && rec.messages == 1 && rec.inPlace == 0
          && rec.badText == 0,
          "fragmented message delivered from the buffer");
    CHECK(strstr((char *)rec.log.data, "text(6) \"abcdef\"") != NULL, "log:\n%s",
          rec.log.data);
    BytesFree(&rec.log);
    WsParserDestroy(parserPtr);

    /* NULL callbacks: events are dropped, the stream still ends. */
    parserPtr = WsParserCreate(false, 0);
    n = WsFrameEncode(stream, sizeof(stream), true, WS_OP_TEXT, (const uint8_t *)"x", 1, NULL);
    n += WsFrameEncode(stream + n, sizeof(stream) - n, true, WS_OP_PING, NULL, 0, NULL);
    n += WsFrameEncode(stream + n, sizeof(stream) - n, true, WS_OP_PONG, NULL, 0, NULL);
    n += WsFrameEncode(stream + n, sizeof(stream) - n, true, WS_OP_CLOSE, NULL, 0, NULL);
    n2 = n;
    n += WsFrameEncode(stream + n, sizeof(stream) - n, true, WS_OP_TEXT, NULL, 0, NULL);
    CHECK(WsParserFeed(parserPtr, Guarded(stream, n), n, &noCallbacks, NULL) == n2
          && WsParserClosed(parserPtr), "NULL callbacks");
    WsParserDestroy(parserPtr);
    parserPtr = WsParserCreate(false, 0);
    CHECK(WsParserFeed(parserPtr, Guarded("\x83\x00", 2), 2, &noCallbacks, NULL) == 2
          && WsParserClosed(parserPtr), "NULL error callback");
    WsParserDestroy(parserPtr);
    WsParserDestroy(NULL);
}


int
main(void)
{
    SetupArena();
    TestParserBasics();
    TestParserFragments();
    TestParserProtocolErrors();
    TestParserUtf8();
    TestParserLimits();
    TestParserClose();
    TestParserZeroCopyAndBuffered();
    return UnitReport();
}
