/*
 * request_test.c --
 *
 *      Unit tests of nsd/request.c: the request-head parser (valid heads,
 *      every truncated prefix of them, hostile heads and the status each
 *      must get, limits) and the URL helpers (decode, encode, normalize).
 *      Every input is copied to the end of a buffer that is followed by a
 *      PROT_NONE guard page, so reading one byte too far crashes the test.
 *      Build with -fsanitize=address,undefined; link with request.c and
 *      Tcl only.  Prints "request_test: N passed, M failed" and exits
 *      non-zero when anything failed.
 */

#include "request.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Largest input: the 10 MB request line without a line end. */
#define ARENA_SIZE  (11u * 1024u * 1024u)
#define MAX_HEADERS 64

static int   passed, failed;
static char *arenaEnd;      /* first byte of the guard page */

#define CHECK(cond, ...) Check((cond), __FILE__, __LINE__, #cond, __VA_ARGS__)

/* The limits most tests run with. */
static const NsHttpLimits defaultLimits = {8192, MAX_HEADERS, 8192};

static void Check(int ok, const char *file, int line, const char *expr, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void SetupArena(void);
static const char *Guarded(const char *data, size_t len);
static ssize_t Parse(const char *data, size_t len, const NsHttpLimits *limits,
                     NsHttpRequest *reqPtr, NsHttpHeader *headers, size_t capacity,
                     int *statusPtr);
static bool SpanEquals(const char *p, size_t len, const char *expected);
static void TestValidHeads(void);
static void TestManyHeaders(void);
static void TestHostileHeads(void);
static void TestLimits(void);
static void TestHugeIncomplete(void);
static void TestUrlDecode(void);
static void TestUrlEncode(void);
static void TestNormalizePath(void);


/*
 *----------------------------------------------------------------------
 *
 * Check --
 *
 *      Count one check; print the failed ones with their context.
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      Updates the counters, writes to stderr on failure.
 *
 *----------------------------------------------------------------------
 */

static void
Check(int ok, const char *file, int line, const char *expr, const char *fmt, ...)
{
    va_list ap;

    if (ok) {
        passed++;
        return;
    }
    failed++;
    fprintf(stderr, "%s:%d: check failed: %s: ", file, line, expr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
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
 *      Guarded: the copy.
 *
 * Side effects:
 *      Maps memory once; exits when mmap fails.
 *
 *----------------------------------------------------------------------
 */

static void
SetupArena(void)
{
    size_t pageSize = (size_t)sysconf(_SC_PAGESIZE);
    size_t size = (ARENA_SIZE + pageSize - 1) / pageSize * pageSize;
    char  *base;

    base = mmap(NULL, size + pageSize, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED || mprotect(base + size, pageSize, PROT_NONE) != 0) {
        perror("request_test: mmap");
        exit(2);
    }
    arenaEnd = base + size;
}

static const char *
Guarded(const char *data, size_t len)
{
    char *copy = arenaEnd - len;

    if (len > ARENA_SIZE) {
        fprintf(stderr, "request_test: input of %zu bytes is too large\n", len);
        exit(2);
    }
    if (copy != data) {
        memmove(copy, data, len);
    }
    return copy;
}


/*
 *----------------------------------------------------------------------
 *
 * Parse --
 *
 *      Run NsHttpParseRequest on a guarded copy of data with a headers
 *      array of the given capacity.
 *
 * Results:
 *      What NsHttpParseRequest returns.
 *
 * Side effects:
 *      Fills in *reqPtr and headers; the pointers point into the arena.
 *
 *----------------------------------------------------------------------
 */

static ssize_t
Parse(const char *data, size_t len, const NsHttpLimits *limits, NsHttpRequest *reqPtr,
      NsHttpHeader *headers, size_t capacity, int *statusPtr)
{
    memset(reqPtr, 0, sizeof(*reqPtr));
    reqPtr->headers = headers;
    reqPtr->numHeaders = capacity;
    *statusPtr = 0;
    return NsHttpParseRequest(Guarded(data, len), len, limits, reqPtr, statusPtr);
}

static bool
SpanEquals(const char *p, size_t len, const char *expected)
{
    return p != NULL && len == strlen(expected) && memcmp(p, expected, len) == 0;
}


/*
 *----------------------------------------------------------------------
 *
 * TestValidHeads --
 *
 *      Valid heads parse into the expected parts, with and without bytes
 *      after the head, and every truncated prefix is incomplete.
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      Counts checks.
 *
 *----------------------------------------------------------------------
 */

typedef struct ValidCase {
    const char *name;
    const char *head;           /* NUL-free; ends with the empty line */
    const char *method;
    const char *target;
    int         minor;
    size_t      numHeaders;
    const char *fields[8][2];   /* expected name and value of the first fields */
} ValidCase;

static const ValidCase validCases[] = {
    {"get 1.1", "GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n",
     "GET", "/index.html", 1, 1, {{"Host", "example.com"}}},
    {"head 1.0 without fields", "HEAD / HTTP/1.0\r\n\r\n", "HEAD", "/", 0, 0, {{NULL, NULL}}},
    {"post", "POST /form?a=1 HTTP/1.1\r\nHost: h\r\nContent-Type: application/x-www-form-"
     "urlencoded\r\nContent-Length: 7\r\n\r\n",
     "POST", "/form?a=1", 1, 3,
     {{"Host", "h"}, {"Content-Type", "application/x-www-form-urlencoded"},
      {"Content-Length", "7"}}},
    {"lf only", "GET /a HTTP/1.1\nHost: h\nAccept: */*\n\n", "GET", "/a", 1, 2,
     {{"Host", "h"}, {"Accept", "*/*"}}},
    {"mixed line ends", "GET /a HTTP/1.0\r\nA: 1\nB: 2\r\n\n", "GET", "/a", 0, 2,
     {{"A", "1"}, {"B", "2"}}},
    {"white space around values", "GET / HTTP/1.1\r\nA:   x  \r\nB:\tx y\t \t\r\nC:\r\n"
     "D:    \r\nE:x\r\n\r\n", "GET", "/", 1, 5,
     {{"A", "x"}, {"B", "x y"}, {"C", ""}, {"D", ""}, {"E", "x"}}},
    {"obs-text and utf-8 in values", "GET / HTTP/1.1\r\nX-Latin: caf\xe9\r\nX-Utf8: "
     "caf\xc3\xa9 \xe2\x82\xac\r\nX-High: \xff\x80\r\n\r\n", "GET", "/", 1, 3,
     {{"X-Latin", "caf\xe9"}, {"X-Utf8", "caf\xc3\xa9 \xe2\x82\xac"}, {"X-High", "\xff\x80"}}},
    {"leading empty lines", "\r\n\nGET / HTTP/1.1\r\n\r\n", "GET", "/", 1, 0, {{NULL, NULL}}},
    {"absolute form", "GET http://example.com:8080/x?y=1 HTTP/1.1\r\nHost: example.com\r\n\r\n",
     "GET", "http://example.com:8080/x?y=1", 1, 1, {{"Host", "example.com"}}},
    {"absolute form https, any case", "GET HTTPS://example.com/ HTTP/1.1\r\n\r\n",
     "GET", "HTTPS://example.com/", 1, 0, {{NULL, NULL}}},
    {"asterisk form", "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", "OPTIONS", "*", 1, 1,
     {{"Host", "h"}}},
    {"token characters in method and name", "M-SEARCH!#$%&'*+.^_`|~ /x HTTP/1.1\r\n"
     "X-a_b.c!#$%&'*+^`|~9: v\r\n\r\n", "M-SEARCH!#$%&'*+.^_`|~", "/x", 1, 1,
     {{"X-a_b.c!#$%&'*+^`|~9", "v"}}},
    {"target with escapes and query", "GET /a%20b/c?x=%2F&y=a+b#f HTTP/1.1\r\n\r\n",
     "GET", "/a%20b/c?x=%2F&y=a+b#f", 1, 0, {{NULL, NULL}}},
    {"values with colons and inner spaces", "GET / HTTP/1.1\r\nHost: h:80\r\n"
     "X: a  b : c\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\n", "GET", "/", 1, 3,
     {{"Host", "h:80"}, {"X", "a  b : c"}, {"Date", "Sun, 06 Nov 1994 08:49:37 GMT"}}},
    {"websocket upgrade", "GET /chat HTTP/1.1\r\nHost: server.example.com\r\n"
     "Upgrade: websocket\r\nConnection: Upgrade\r\n"
     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\n"
     "Sec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Version: 13\r\n\r\n",
     "GET", "/chat", 1, 7,
     {{"Host", "server.example.com"}, {"Upgrade", "websocket"}, {"Connection", "Upgrade"},
      {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}, {"Origin", "http://example.com"},
      {"Sec-WebSocket-Protocol", "chat, superchat"}, {"Sec-WebSocket-Version", "13"}}},
    {"lowercase method is a token too", "get / HTTP/1.1\r\n\r\n", "get", "/", 1, 0,
     {{NULL, NULL}}},
};

static void
TestValidHeads(void)
{
    static const char body[] = "BODY GET / HTTP/1.1\r\n\r\n";
    size_t            i, j, prefix;

    for (i = 0; i < sizeof(validCases) / sizeof(validCases[0]); i++) {
        const ValidCase *casePtr = &validCases[i];
        size_t           headLen = strlen(casePtr->head);
        char             buf[1024];
        NsHttpHeader     headers[MAX_HEADERS];
        NsHttpRequest    req;
        int              status;
        ssize_t          n;
        int              withBody;

        for (withBody = 0; withBody < 2; withBody++) {
            size_t len = headLen;

            memcpy(buf, casePtr->head, headLen);
            if (withBody) {
                memcpy(buf + headLen, body, sizeof(body) - 1);
                len += sizeof(body) - 1;
            }
            n = Parse(buf, len, &defaultLimits, &req, headers, MAX_HEADERS, &status);
            CHECK(n == (ssize_t)headLen, "%s: returned %zd (status %d), expected %zu",
                  casePtr->name, n, status, headLen);
            if (n != (ssize_t)headLen) {
                continue;
            }
            CHECK(SpanEquals(req.method, req.methodLen, casePtr->method), "%s: method %.*s",
                  casePtr->name, (int)req.methodLen, req.method);
            CHECK(SpanEquals(req.target, req.targetLen, casePtr->target), "%s: target %.*s",
                  casePtr->name, (int)req.targetLen, req.target);
            CHECK(req.versionMajor == 1 && req.versionMinor == casePtr->minor,
                  "%s: version %d.%d", casePtr->name, req.versionMajor, req.versionMinor);
            CHECK(req.numHeaders == casePtr->numHeaders, "%s: %zu fields", casePtr->name,
                  req.numHeaders);
            for (j = 0; j < 8 && j < req.numHeaders && casePtr->fields[j][0] != NULL; j++) {
                CHECK(SpanEquals(headers[j].name, headers[j].nameLen, casePtr->fields[j][0])
                      && SpanEquals(headers[j].value, headers[j].valueLen,
                                    casePtr->fields[j][1]),
                      "%s: field %zu is \"%.*s\": \"%.*s\"", casePtr->name, j,
                      (int)headers[j].nameLen, headers[j].name,
                      (int)headers[j].valueLen, headers[j].value);
            }
        }

        /*
         * Every prefix is incomplete, never bad: the driver must be able
         * to call the parser again whenever a few more bytes arrive.  The
         * capacity stays untouched meanwhile.
         */
        for (prefix = 0; prefix < headLen; prefix++) {
            n = Parse(casePtr->head, prefix, &defaultLimits, &req, headers, MAX_HEADERS,
                      &status);
            CHECK(n == NS_HTTP_INCOMPLETE && req.numHeaders == MAX_HEADERS,
                  "%s: prefix of %zu bytes returned %zd (status %d)", casePtr->name, prefix,
                  n, status);
        }
    }
}


/*
 *----------------------------------------------------------------------
 *
 * TestManyHeaders --
 *
 *      A head with exactly the maximum number of fields parses, with
 *      every field in place and every prefix incomplete; one more is 431.
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
TestManyHeaders(void)
{
    char          buf[8192];
    NsHttpHeader  headers[MAX_HEADERS];
    NsHttpRequest req;
    int           status, i, len, allRight = 1;
    size_t        prefix;
    ssize_t       n;

    len = snprintf(buf, sizeof(buf), "GET /many HTTP/1.1\r\n");
    for (i = 0; i < MAX_HEADERS; i++) {
        len += snprintf(buf + len, sizeof(buf) - (size_t)len, "X-Field-%d: value %d  \r\n",
                        i, i);
    }
    len += snprintf(buf + len, sizeof(buf) - (size_t)len, "\r\n");

    n = Parse(buf, (size_t)len, &defaultLimits, &req, headers, MAX_HEADERS, &status);
    CHECK(n == len && req.numHeaders == MAX_HEADERS, "%d fields: returned %zd (status %d)",
          MAX_HEADERS, n, status);
    for (i = 0; n == len && i < MAX_HEADERS; i++) {
        char name[32], value[32];

        snprintf(name, sizeof(name), "X-Field-%d", i);
        snprintf(value, sizeof(value), "value %d", i);
        if (!SpanEquals(headers[i].name, headers[i].nameLen, name)
            || !SpanEquals(headers[i].value, headers[i].valueLen, value)) {
            allRight = 0;
        }
    }
    CHECK(allRight, "%s", "all fields in place, trailing spaces trimmed");

    allRight = 1;
    for (prefix = 0; prefix < (size_t)len; prefix++) {
        if (Parse(buf, prefix, &defaultLimits, &req, headers, MAX_HEADERS, &status)
            != NS_HTTP_INCOMPLETE) {
            allRight = 0;
        }
    }
    CHECK(allRight, "%s", "every prefix of the many-fields head is incomplete");

    /* One more field than allowed, detected before the head is complete. */
    len -= 2;
    len += snprintf(buf + len, sizeof(buf) - (size_t)len, "X");
    n = Parse(buf, (size_t)len, &defaultLimits, &req, headers, MAX_HEADERS, &status);
    CHECK(n == NS_HTTP_BAD && status == 431, "%d+1 fields: returned %zd status %d",
          MAX_HEADERS, n, status);
}


/*
 *----------------------------------------------------------------------
 *
 * TestHostileHeads --
 *
 *      Malformed heads get the expected status, both as given and, when
 *      the bad byte is early, before the head is complete.
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      Counts checks.
 *
 *----------------------------------------------------------------------
 */

typedef struct BadCase {
    const char *name;
    const char *raw;
    size_t      len;        /* 0: strlen(raw) (for inputs with a NUL byte) */
    int         status;
} BadCase;

#define BAD(name, raw, status) {name, raw, 0, status}
#define BADN(name, raw, status) {name, raw, sizeof(raw) - 1, status}

static const BadCase badCases[] = {
    BAD("space before colon", "GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400),
    BAD("tab before colon", "GET / HTTP/1.1\r\nHost\t: h\r\n\r\n", 400),
    BAD("obs-fold with space", "GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", 400),
    BAD("obs-fold with tab", "GET / HTTP/1.1\r\nX: a\r\n\tb\r\n\r\n", 400),
    BAD("white space before first field", "GET / HTTP/1.1\r\n Host: h\r\n\r\n", 400),
    BADN("NUL in field value", "GET / HTTP/1.1\r\nX: a\0b\r\n\r\n", 400),
    BADN("NUL in field name", "GET / HTTP/1.1\r\nX\0Y: a\r\n\r\n", 400),
    BADN("NUL in method", "G\0T / HTTP/1.1\r\n\r\n", 400),
    BADN("NUL in target", "GET /a\0b HTTP/1.1\r\n\r\n", 400),
    BADN("NUL as whole line", "GET / HTTP/1.1\r\n\0\r\n\r\n", 400),
    BAD("control byte in value", "GET / HTTP/1.1\r\nX: a\x01z\r\n\r\n", 400),
    BAD("DEL in value", "GET / HTTP/1.1\r\nX: a\x7fz\r\n\r\n", 400),
    BAD("escape in value", "GET / HTTP/1.1\r\nX: \x1b[31m\r\n\r\n", 400),
    BAD("bare CR inside value", "GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", 400),
    BAD("bare CR ends request line", "GET / HTTP/1.1\rHost: h\r\n\r\n", 400),
    BAD("bare CR ends field line", "GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n", 400),
    BAD("bare CR as empty line", "GET / HTTP/1.1\r\nHost: h\r\n\rX", 400),
    BAD("CR CR LF", "GET / HTTP/1.1\r\r\n\r\n", 400),
    BAD("bare CR before request line", "\rGET / HTTP/1.1\r\n\r\n", 400),
    BAD("version with trailing junk", "GET / HTTP/1.1x\r\n\r\n", 400),
    BAD("version with trailing space", "GET / HTTP/1.1 \r\n\r\n", 400),
    BAD("version too short", "GET / HTTP/1\r\n\r\n", 400),
    BAD("version two-digit minor", "GET / HTTP/1.10\r\n\r\n", 400),
    BAD("version two-digit major", "GET / HTTP/11.1\r\n\r\n", 400),
    BAD("version lowercase", "GET / http/1.1\r\n\r\n", 400),
    BAD("version with space", "GET / HTTP 1.1\r\n\r\n", 400),
    BAD("version letters", "GET / HTTP/a.b\r\n\r\n", 400),
    BAD("version HTTPS", "GET / HTTPS/1.1\r\n\r\n", 400),
    BAD("version missing (HTTP/0.9 form)", "GET /\r\n\r\n", 400),
    BAD("method only", "GET\r\n\r\n", 400),
    BAD("HTTP/2.0", "GET / HTTP/2.0\r\n\r\n", 505),
    BAD("HTTP/1.2", "GET / HTTP/1.2\r\n\r\n", 505),
    BAD("HTTP/0.9", "GET / HTTP/0.9\r\n\r\n", 505),
    BAD("HTTP/3.0", "GET / HTTP/3.0\r\n\r\n", 505),
    BAD("target without leading slash", "GET index.html HTTP/1.1\r\n\r\n", 400),
    BAD("target with other scheme", "GET ftp://h/x HTTP/1.1\r\n\r\n", 400),
    BAD("target asterisk and more", "OPTIONS *x HTTP/1.1\r\n\r\n", 400),
    BAD("target scheme-like prefix", "GET httpx://h/ HTTP/1.1\r\n\r\n", 400),
    BAD("8-bit bytes in target", "GET /caf\xc3\xa9 HTTP/1.1\r\n\r\n", 400),
    BAD("DEL in target", "GET /a\x7f HTTP/1.1\r\n\r\n", 400),
    BAD("tab after method", "GET\t/ HTTP/1.1\r\n\r\n", 400),
    BAD("tab after target", "GET /\tHTTP/1.1\r\n\r\n", 400),
    BAD("two spaces after method", "GET  / HTTP/1.1\r\n\r\n", 400),
    BAD("two spaces after target", "GET /  HTTP/1.1\r\n\r\n", 400),
    BAD("empty method", " / HTTP/1.1\r\n\r\n", 400),
    BAD("separator in method", "GE(T / HTTP/1.1\r\n\r\n", 400),
    BAD("8-bit byte in method", "G\xc9T / HTTP/1.1\r\n\r\n", 400),
    BAD("empty field name", "GET / HTTP/1.1\r\n: x\r\n\r\n", 400),
    BAD("field without colon", "GET / HTTP/1.1\r\nHost\r\n\r\n", 400),
    BAD("field name with space", "GET / HTTP/1.1\r\nMy Host: h\r\n\r\n", 400),
    BAD("separator in field name", "GET / HTTP/1.1\r\nX(y): h\r\n\r\n", 400),
    BAD("8-bit byte in field name", "GET / HTTP/1.1\r\nX\xe9: h\r\n\r\n", 400),
    BAD("too many leading empty lines", "\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\n\r\n", 400),
    BAD("smuggling: space in Content-Length name",
        "POST / HTTP/1.1\r\nContent-Length : 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
};

static void
TestHostileHeads(void)
{
    size_t i;

    for (i = 0; i < sizeof(badCases) / sizeof(badCases[0]); i++) {
        const BadCase *casePtr = &badCases[i];
        size_t         len = casePtr->len ? casePtr->len : strlen(casePtr->raw);
        NsHttpHeader   headers[MAX_HEADERS];
        NsHttpRequest  req;
        int            status;
        ssize_t        n;
        size_t         prefix;
        int            prefixesOk = 1;

        n = Parse(casePtr->raw, len, &defaultLimits, &req, headers, MAX_HEADERS, &status);
        CHECK(n == NS_HTTP_BAD && status == casePtr->status,
              "%s: returned %zd status %d, expected status %d", casePtr->name, n, status,
              casePtr->status);

        /*
         * A prefix is either still incomplete or already refused with the
         * same status, never accepted.
         */
        for (prefix = 0; prefix < len; prefix++) {
            n = Parse(casePtr->raw, prefix, &defaultLimits, &req, headers, MAX_HEADERS,
                      &status);
            if (n >= 0 || (n == NS_HTTP_BAD && status != casePtr->status)) {
                prefixesOk = 0;
            }
        }
        CHECK(prefixesOk, "%s: a prefix was accepted or got another status", casePtr->name);
    }
}


/*
 *----------------------------------------------------------------------
 *
 * TestLimits --
 *
 *      The line and field limits, at their boundaries, for complete and
 *      incomplete heads, and a headers array smaller than maxHeaders.
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
TestLimits(void)
{
    /* "GET /aaaaaaaaaaaaaaaaaaaaaa HTTP/1.1" is 36 bytes. */
    static const char line36[] = "GET /aaaaaaaaaaaaaaaaaaaaaa HTTP/1.1";
    /* "X-Long: vvvvvvvvvvvvvvvvvvvvvvvvv" is 33 bytes. */
    static const char field33[] = "X-Long: vvvvvvvvvvvvvvvvvvvvvvvvv";
    NsHttpLimits      limits;
    NsHttpHeader      headers[MAX_HEADERS];
    NsHttpRequest     req;
    char              buf[512];
    int               status, len;
    ssize_t           n;

    /* Request line exactly at the limit, then one byte over. */
    limits = (NsHttpLimits){36, 8, 64};
    len = snprintf(buf, sizeof(buf), "%s\r\n\r\n", line36);
    n = Parse(buf, (size_t)len, &limits, &req, headers, MAX_HEADERS, &status);
    CHECK(n == len, "request line at maxLine: returned %zd status %d", n, status);
    len = snprintf(buf, sizeof(buf), "%s\n\n", line36);
    n = Parse(buf, (size_t)len, &limits, &req, headers, MAX_HEADERS, &status);
    CHECK(n == len, "request line at maxLine, LF: returned %zd status %d", n, status);
    limits.maxLine = 35;
    len = snprintf(buf, sizeof(buf), "%s\r\n\r\n", line36);
    n = Parse(buf, (size_t)len, &limits, &req, headers, MAX_HEADERS, &status);
    CHECK(n == NS_HTTP_BAD && status == 414, "request line over maxLine: %zd status %d",
          n, status);

    /* Incomplete: a pending CR does not count, one more content byte does. */
    limits.maxLine = 36;
    len = snprintf(buf, sizeof(buf), "%s\r", line36);
    n = Parse(buf, (size_t)len, &limits, &req, headers, MAX_HEADERS, &status);
    CHECK(n == NS_HTTP_INCOMPLETE, "line at maxLine with pending CR: %zd status %d", n,
          status);
    len = snprintf(buf, sizeof(buf), "%sX", line36);
    n = Parse(buf, (size_t)len, &limits, &req, headers, MAX_HEADERS, &status);
    CHECK(n == NS_HTTP_BAD && status == 414, "incomplete line over maxLine: %zd status %d",
          n, status);
    len = snprintf(buf, sizeof(buf), "%s\r\r", line36);
    n = Parse(buf, (size_t)len, &limits, &req, headers, MAX_HEADERS, &status);
    CHECK(n == NS_HTTP_BAD && status == 414, "line at maxLine plus CR CR: %zd status %d",
          n, status);

    /* A field line exactly at the limit, then one byte over. */
    limits = (NsHttpLimits){8192, 8, 33};
    len = snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\n%s\r\n\r\n", field33);
    n = Parse(buf, (size_t)len, &limits, &req, headers, MAX_HEADERS, &status);
    CHECK(n == len && req.numHeaders == 1, "field line at maxHeaderLine: %zd status %d", n,
          status);
    limits.maxHeaderLine = 32;
    n = Parse(buf, (size_t)len, &limits, &req, headers, MAX_HEADERS, &status);
    CHECK(n == NS_HTTP_BAD && status == 431, "field line over maxHeaderLine: %zd status %d",
          n, status);
    len = snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\n%s", field33);
    n = Parse(buf, (size_t)len, &limits, &req, headers, MAX_HEADERS, &status);
    CHECK(n == NS_HTTP_BAD && status == 431,
          "incomplete field line over maxHeaderLine: %zd status %d", n, status);

    /* The limit on fields, and a headers array smaller than the limit. */
    limits = (NsHttpLimits){8192, 3, 8192};
    len = snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n");
    n = Parse(buf, (size_t)len, &limits, &req, headers, MAX_HEADERS, &status);
    CHECK(n == len && req.numHeaders == 3, "fields at maxHeaders: %zd status %d", n, status);
    len = snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n");
    n = Parse(buf, (size_t)len, &limits, &req, headers, MAX_HEADERS, &status);
    CHECK(n == NS_HTTP_BAD && status == 431, "fields over maxHeaders: %zd status %d", n,
          status);
    limits.maxHeaders = MAX_HEADERS;
    len = snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n");
    n = Parse(buf, (size_t)len, &limits, &req, headers, 2, &status);
    CHECK(n == NS_HTTP_BAD && status == 431, "fields over capacity: %zd status %d", n,
          status);
    n = Parse(buf, (size_t)len, &limits, &req, headers, 3, &status);
    CHECK(n == len && req.numHeaders == 3, "fields at capacity: %zd status %d", n, status);
    len = snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\n\r\n");
    n = Parse(buf, (size_t)len, &limits, &req, NULL, 0, &status);
    CHECK(n == len && req.numHeaders == 0, "no fields, no array: %zd status %d", n, status);
}


/*
 *----------------------------------------------------------------------
 *
 * TestHugeIncomplete --
 *
 *      Limits are enforced while the head is still incomplete: 10 MB of
 *      request line, field line or fields without an end are refused at
 *      once instead of waiting for more.
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      Counts checks; uses the whole arena.
 *
 *----------------------------------------------------------------------
 */

static void
TestHugeIncomplete(void)
{
    size_t        huge = 10u * 1024u * 1024u, len, i;
    char         *buf = arenaEnd - huge;
    NsHttpHeader  headers[MAX_HEADERS];
    NsHttpRequest req;
    int           status;
    ssize_t       n;

    /* Built in place, right before the guard page. */
    memcpy(buf, "GET /", 5);
    memset(buf + 5, 'a', huge - 5);
    n = Parse(buf, huge, &defaultLimits, &req, headers, MAX_HEADERS, &status);
    CHECK(n == NS_HTTP_BAD && status == 414, "10 MB request line: %zd status %d", n, status);

    len = (size_t)sprintf(buf, "GET / HTTP/1.1\r\nX-Huge: ");
    memset(buf + len, 'v', huge - len);
    n = Parse(buf, huge, &defaultLimits, &req, headers, MAX_HEADERS, &status);
    CHECK(n == NS_HTTP_BAD && status == 431, "10 MB field line: %zd status %d", n, status);

    len = (size_t)sprintf(buf, "GET / HTTP/1.1\r\n");
    for (i = 0; len + 8 < huge; i++) {
        memcpy(buf + len, "A: b\r\n", 6);
        len += 6;
    }
    n = Parse(buf, len, &defaultLimits, &req, headers, MAX_HEADERS, &status);
    CHECK(n == NS_HTTP_BAD && status == 431, "%zu fields without an end: %zd status %d", i,
          n, status);

    /* Garbage is refused before its line is complete, too. */
    n = Parse("GET /\x01", 6, &defaultLimits, &req, headers, MAX_HEADERS, &status);
    CHECK(n == NS_HTTP_BAD && status == 400, "incomplete line with CTL: %zd status %d", n,
          status);
    n = Parse("GET / HTTP/1.1\r\nX: \x00", 20, &defaultLimits, &req, headers, MAX_HEADERS,
              &status);
    CHECK(n == NS_HTTP_BAD && status == 400, "incomplete field with NUL: %zd status %d", n,
          status);
}


/*
 *----------------------------------------------------------------------
 *
 * TestUrlDecode --
 *
 *      NsUrlDecode: escapes in either case, '+' only in queries,
 *      malformed escapes refused.
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      Counts checks.
 *
 *----------------------------------------------------------------------
 */

typedef struct CodecCase {
    const char *in;
    size_t      inLen;      /* 0: strlen(in) */
    bool        isQuery;
    bool        ok;
    const char *out;
    size_t      outLen;     /* 0: strlen(out) */
} CodecCase;

static const CodecCase decodeCases[] = {
    {"", 0, true, true, "", 0},
    {"abc", 0, true, true, "abc", 0},
    {"a%20b", 0, false, true, "a b", 0},
    {"%2f%2F%2e", 0, false, true, "//.", 0},
    {"%41%5a%7e%7E", 0, true, true, "AZ~~", 0},
    {"a+b", 0, true, true, "a b", 0},
    {"a+b", 0, false, true, "a+b", 0},
    {"%2B+", 0, true, true, "+ ", 0},
    {"%C3%A9t%c3%a9", 0, true, true, "\xc3\xa9t\xc3\xa9", 0},
    {"%00", 0, true, true, "\0", 1},
    {"a%00b", 0, false, true, "a\0b", 3},
    {"%FF%80", 0, false, true, "\xff\x80", 0},
    {"%", 0, true, false, NULL, 0},
    {"%2", 0, true, false, NULL, 0},
    {"100%", 0, false, false, NULL, 0},
    {"%zz", 0, true, false, NULL, 0},
    {"%g0", 0, true, false, NULL, 0},
    {"%0g", 0, true, false, NULL, 0},
    {"%%41", 0, true, false, NULL, 0},
    {"%41%", 0, true, false, NULL, 0},
    {"% 20", 0, true, false, NULL, 0},
    {"%+20", 0, true, false, NULL, 0},
};

static void
TestUrlDecode(void)
{
    size_t i;

    for (i = 0; i < sizeof(decodeCases) / sizeof(decodeCases[0]); i++) {
        const CodecCase *casePtr = &decodeCases[i];
        size_t           inLen = casePtr->inLen ? casePtr->inLen : strlen(casePtr->in);
        Tcl_DString      ds;
        bool             ok;

        Tcl_DStringInit(&ds);
        ok = NsUrlDecode(Guarded(casePtr->in, inLen), inLen, casePtr->isQuery, &ds);
        if (casePtr->ok) {
            size_t outLen = casePtr->outLen ? casePtr->outLen : strlen(casePtr->out);

            CHECK(ok && (size_t)Tcl_DStringLength(&ds) == outLen
                  && memcmp(Tcl_DStringValue(&ds), casePtr->out, outLen) == 0,
                  "decode \"%s\" (%s): ok %d, got \"%s\"", casePtr->in,
                  casePtr->isQuery ? "query" : "path", ok, Tcl_DStringValue(&ds));
        } else {
            CHECK(!ok, "decode \"%s\" (%s) should fail", casePtr->in,
                  casePtr->isQuery ? "query" : "path");
        }
        Tcl_DStringFree(&ds);
    }
}


/*
 *----------------------------------------------------------------------
 *
 * TestUrlEncode --
 *
 *      NsUrlEncode for queries and path segments, and that decoding the
 *      encoding of every byte gives the byte back.
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      Counts checks.
 *
 *----------------------------------------------------------------------
 */

static const CodecCase encodeCases[] = {
    {"", 0, true, true, "", 0},
    {"abcXYZ019-._~", 0, true, true, "abcXYZ019-._~", 0},
    {"a b", 0, true, true, "a+b", 0},
    {"a+b", 0, true, true, "a%2Bb", 0},
    {"/?:@&=+,$;!*'()", 0, true, true, "%2F%3F%3A%40%26%3D%2B%2C%24%3B%21%2A%27%28%29", 0},
    {"%#[]", 0, true, true, "%25%23%5B%5D", 0},
    {"caf\xc3\xa9", 0, true, true, "caf%C3%A9", 0},
    {"\0\n\x7f\xff", 4, true, true, "%00%0A%7F%FF", 0},
    {"", 0, false, true, "", 0},
    {"abcXYZ019-._~", 0, false, true, "abcXYZ019-._~", 0},
    {"a b", 0, false, true, "a%20b", 0},
    {"a/b", 0, false, true, "a%2Fb", 0},
    {"!$&'()*+,;=:@", 0, false, true, "!$&'()*+,;=:@", 0},
    {"?#%[]", 0, false, true, "%3F%23%25%5B%5D", 0},
    {"<>\"{}|\\^`", 0, false, true, "%3C%3E%22%7B%7D%7C%5C%5E%60", 0},
    {"..", 0, false, true, "..", 0},
    {"caf\xc3\xa9", 0, false, true, "caf%C3%A9", 0},
};

static void
TestUrlEncode(void)
{
    char   all[256];
    size_t i;
    int    mode;

    for (i = 0; i < sizeof(encodeCases) / sizeof(encodeCases[0]); i++) {
        const CodecCase *casePtr = &encodeCases[i];
        size_t           inLen = casePtr->inLen ? casePtr->inLen : strlen(casePtr->in);
        Tcl_DString      ds;

        Tcl_DStringInit(&ds);
        NsUrlEncode(Guarded(casePtr->in, inLen), inLen, casePtr->isQuery, &ds);
        CHECK(strcmp(Tcl_DStringValue(&ds), casePtr->out) == 0,
              "encode \"%s\" (%s): got \"%s\", expected \"%s\"", casePtr->in,
              casePtr->isQuery ? "query" : "path", Tcl_DStringValue(&ds), casePtr->out);
        Tcl_DStringFree(&ds);
    }

    for (i = 0; i < sizeof(all); i++) {
        all[i] = (char)i;
    }
    for (mode = 0; mode < 2; mode++) {
        Tcl_DString encoded, decoded;
        bool        ok;

        Tcl_DStringInit(&encoded);
        Tcl_DStringInit(&decoded);
        NsUrlEncode(Guarded(all, sizeof(all)), sizeof(all), mode == 0, &encoded);
        ok = NsUrlDecode(Tcl_DStringValue(&encoded), (size_t)Tcl_DStringLength(&encoded),
                         mode == 0, &decoded);
        CHECK(ok && Tcl_DStringLength(&decoded) == (int)sizeof(all)
              && memcmp(Tcl_DStringValue(&decoded), all, sizeof(all)) == 0,
              "all 256 bytes survive encode and decode (%s)", mode == 0 ? "query" : "path");
        CHECK(strchr(Tcl_DStringValue(&encoded), mode == 0 ? '/' : ' ') == NULL,
              "encoding of all bytes (%s) has no bare separator", mode == 0 ? "query" : "path");
        Tcl_DStringFree(&encoded);
        Tcl_DStringFree(&decoded);
    }
}


/*
 *----------------------------------------------------------------------
 *
 * TestNormalizePath --
 *
 *      NsNormalizePath: dot segments, empty segments, trailing slashes,
 *      and traversal attempts in plain and encoded forms.  A backslash is
 *      an ordinary byte (not a separator on POSIX), so "/a\..\b" is one
 *      harmless segment "a\..\b".
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      Counts checks.
 *
 *----------------------------------------------------------------------
 */

typedef struct PathCase {
    const char *in;
    size_t      inLen;      /* 0: strlen(in) */
    const char *out;        /* NULL: must be refused */
} PathCase;

static const PathCase pathCases[] = {
    {"/", 0, "/"},
    {"/index.html", 0, "/index.html"},
    {"/a/./b/../c", 0, "/a/c"},
    {"/a//b", 0, "/a/b"},
    {"///a///", 0, "/a/"},
    {"//", 0, "/"},
    {"/./", 0, "/"},
    {"/.", 0, "/"},
    {"/dir/", 0, "/dir/"},
    {"/a/b/..", 0, "/a/"},
    {"/a/b/.", 0, "/a/b/"},
    {"/a/b/../../", 0, "/"},
    {"/a/b/c/../../..", 0, "/"},
    {"/a/%2e%2e", 0, "/"},
    {"/a/%2E", 0, "/a/"},
    {"/a%2fb", 0, "/a/b"},
    {"/a%2f..%2fb", 0, "/b"},
    {"/a%20b", 0, "/a b"},
    {"/%41+", 0, "/A+"},
    {"/...", 0, "/..."},
    {"/a/...", 0, "/a/..."},
    {"/.hidden", 0, "/.hidden"},
    {"/a/..b", 0, "/a/..b"},
    {"/a/b..", 0, "/a/b.."},
    {"/%252e%252e/x", 0, "/%2e%2e/x"},
    {"/a\\..\\b", 0, "/a\\..\\b"},
    {"/caf%C3%A9/", 0, "/caf\xc3\xa9/"},
    {"/..", 0, NULL},
    {"/../", 0, NULL},
    {"/../etc/passwd", 0, NULL},
    {"/a/../../b", 0, NULL},
    {"/a/b/c/../../../..", 0, NULL},
    {"/%2e%2e", 0, NULL},
    {"/%2e%2e/", 0, NULL},
    {"/%2e%2e/x", 0, NULL},
    {"/%2E%2E%2F..", 0, NULL},
    {"/..%2f..", 0, NULL},
    {"/.%2e/x", 0, NULL},
    {"/a/%2e%2e%2f%2e%2e", 0, NULL},
    {"/x%00", 0, NULL},
    {"/a/%00", 0, NULL},
    {"/a\0b", 4, NULL},
    {"/a%", 0, NULL},
    {"/a%2", 0, NULL},
    {"/a%zz", 0, NULL},
    {"", 0, NULL},
    {"a/b", 0, NULL},
    {"%2fa", 0, NULL},
    {"*", 0, NULL},
};

static void
TestNormalizePath(void)
{
    size_t i;

    for (i = 0; i < sizeof(pathCases) / sizeof(pathCases[0]); i++) {
        const PathCase *casePtr = &pathCases[i];
        size_t          inLen = casePtr->inLen ? casePtr->inLen : strlen(casePtr->in);
        Tcl_DString     ds;
        bool            ok;

        /*
         * With something already in the DString: the result is appended,
         * and a refusal leaves what was there.
         */
        Tcl_DStringInit(&ds);
        Tcl_DStringAppend(&ds, "pagedir", -1);
        ok = NsNormalizePath(Guarded(casePtr->in, inLen), inLen, &ds);
        if (casePtr->out != NULL) {
            CHECK(ok && strncmp(Tcl_DStringValue(&ds), "pagedir", 7) == 0
                  && strcmp(Tcl_DStringValue(&ds) + 7, casePtr->out) == 0,
                  "normalize \"%s\": ok %d, got \"%s\", expected \"pagedir%s\"", casePtr->in,
                  ok, Tcl_DStringValue(&ds), casePtr->out);
        } else {
            CHECK(!ok && strcmp(Tcl_DStringValue(&ds), "pagedir") == 0,
                  "normalize \"%s\" should fail: ok %d, got \"%s\"", casePtr->in, ok,
                  Tcl_DStringValue(&ds));
        }
        Tcl_DStringFree(&ds);
    }
}


/*
 *----------------------------------------------------------------------
 *
 * main --
 *
 *      Run all tests and print the summary line.
 *
 * Results:
 *      Exit status 0 when every check passed, else 1.
 *
 * Side effects:
 *      Writes failures to stderr and the summary to stdout.
 *
 *----------------------------------------------------------------------
 */

int
main(void)
{
    SetupArena();
    TestValidHeads();
    TestManyHeaders();
    TestHostileHeads();
    TestLimits();
    TestHugeIncomplete();
    TestUrlDecode();
    TestUrlEncode();
    TestNormalizePath();

    printf("request_test: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
