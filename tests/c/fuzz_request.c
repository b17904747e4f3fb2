/*
 * fuzz_request.c --
 *
 *      libFuzzer harness for nsd/request.c.  Feeds arbitrary bytes to
 *      NsHttpParseRequest and checks what a caller relies on: results
 *      point into the input, an accepted head is still accepted with more
 *      bytes after it and every shorter prefix of it is incomplete.  The
 *      target of an accepted head goes through NsNormalizePath, whose
 *      result must be a clean absolute path, and the input through a URL
 *      encode/decode round trip.  A broken property aborts, so libFuzzer
 *      reports it like a crash.
 *
 *      clang -g -fsanitize=fuzzer,address,undefined -Iinclude -Insd -I. \
 *          -I/usr/include/tcl8.6 nsd/request.c tests/c/fuzz_request.c -ltcl8.6
 */

#include "request.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_MAX_HEADERS 16

/* Small limits, so that the fuzzer reaches them. */
static const NsHttpLimits limits = {256, 12, 128};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void Require(bool ok, const char *what);
static ssize_t ParseCopy(const char *buf, size_t len, NsHttpRequest *reqPtr,
                         NsHttpHeader *headers, int *statusPtr);
static bool Inside(const char *p, size_t len, const char *buf, size_t bufLen);
static void CheckAccepted(const char *buf, size_t size, ssize_t headLen,
                          const NsHttpRequest *reqPtr);
static void CheckNormalizedPath(const char *target, size_t targetLen);
static void CheckRoundTrip(const char *buf, size_t size, bool isQuery);


/*
 *----------------------------------------------------------------------
 *
 * Require --
 *
 *      Abort when a property does not hold.
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      May print and abort the process.
 *
 *----------------------------------------------------------------------
 */

static void
Require(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_request: property broken: %s\n", what);
        abort();
    }
}


/*
 *----------------------------------------------------------------------
 *
 * ParseCopy --
 *
 *      Run the parser with the fuzzing limits and a fresh headers array.
 *
 * Results:
 *      What NsHttpParseRequest returns.
 *
 * Side effects:
 *      Fills in *reqPtr and headers.
 *
 *----------------------------------------------------------------------
 */

static ssize_t
ParseCopy(const char *buf, size_t len, NsHttpRequest *reqPtr, NsHttpHeader *headers,
          int *statusPtr)
{
    memset(reqPtr, 0, sizeof(*reqPtr));
    reqPtr->headers = headers;
    reqPtr->numHeaders = FUZZ_MAX_HEADERS;
    *statusPtr = 0;
    return NsHttpParseRequest(buf, len, &limits, reqPtr, statusPtr);
}

static bool
Inside(const char *p, size_t len, const char *buf, size_t bufLen)
{
    return p >= buf && p <= buf + bufLen && len <= (size_t)(buf + bufLen - p);
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
    const char   *buf = (const char *)data;
    NsHttpHeader  headers[FUZZ_MAX_HEADERS];
    NsHttpRequest req;
    int           status;
    ssize_t       n;

    n = ParseCopy(buf, size, &req, headers, &status);
    if (n > 0) {
        CheckAccepted(buf, size, n, &req);
    } else if (n == NS_HTTP_BAD) {
        Require(status == 400 || status == 414 || status == 431 || status == 505,
                "status of a bad head");
    } else {
        Require(n == NS_HTTP_INCOMPLETE, "known result code");
        Require(req.numHeaders == FUZZ_MAX_HEADERS, "capacity untouched while incomplete");
    }
    CheckRoundTrip(buf, size, true);
    CheckRoundTrip(buf, size, false);
    return 0;
}


/*
 *----------------------------------------------------------------------
 *
 * CheckAccepted --
 *
 *      Properties of an accepted head of headLen bytes.
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      Aborts when a property is broken.
 *
 *----------------------------------------------------------------------
 */

static void
CheckAccepted(const char *buf, size_t size, ssize_t headLen, const NsHttpRequest *reqPtr)
{
    NsHttpHeader  headers[FUZZ_MAX_HEADERS];
    NsHttpRequest again;
    const char   *q;
    size_t        i, prefix, step, targetLen;
    int           status;

    Require((size_t)headLen <= size, "head within input");
    Require(buf[headLen - 1] == '\n', "head ends with a line end");
    Require(reqPtr->numHeaders <= limits.maxHeaders, "field count within limit");
    Require(reqPtr->methodLen > 0 && Inside(reqPtr->method, reqPtr->methodLen, buf,
                                            (size_t)headLen), "method inside head");
    Require(reqPtr->targetLen > 0 && Inside(reqPtr->target, reqPtr->targetLen, buf,
                                            (size_t)headLen), "target inside head");
    Require(reqPtr->versionMajor == 1 && (reqPtr->versionMinor == 0
                                          || reqPtr->versionMinor == 1), "version 1.x");
    for (i = 0; i < reqPtr->numHeaders; i++) {
        const NsHttpHeader *hdrPtr = &reqPtr->headers[i];

        Require(hdrPtr->nameLen > 0 && Inside(hdrPtr->name, hdrPtr->nameLen, buf,
                                              (size_t)headLen), "field name inside head");
        Require(Inside(hdrPtr->value, hdrPtr->valueLen, buf, (size_t)headLen),
                "field value inside head");
        Require(memchr(hdrPtr->name, ':', hdrPtr->nameLen) == NULL, "no colon in name");
        Require(hdrPtr->valueLen == 0
                || (hdrPtr->value[0] != ' ' && hdrPtr->value[0] != '\t'
                    && hdrPtr->value[hdrPtr->valueLen - 1] != ' '
                    && hdrPtr->value[hdrPtr->valueLen - 1] != '\t'), "value trimmed");
        Require(memchr(hdrPtr->value, '\r', hdrPtr->valueLen) == NULL
                && memchr(hdrPtr->value, '\n', hdrPtr->valueLen) == NULL
                && memchr(hdrPtr->value, '\0', hdrPtr->valueLen) == NULL, "no CR LF NUL");
    }

    /*
     * The same head alone gives the same answer; its prefixes are
     * incomplete (every one for short heads, a sample of long ones, to
     * keep the fuzzer fast).
     */
    Require(ParseCopy(buf, (size_t)headLen, &again, headers, &status) == headLen,
            "head alone accepted");
    step = (size_t)headLen / 256 + 1;
    for (prefix = 0; prefix < (size_t)headLen; prefix += step) {
        Require(ParseCopy(buf, prefix, &again, headers, &status) == NS_HTTP_INCOMPLETE,
                "prefix of an accepted head is incomplete");
    }

    q = memchr(reqPtr->target, '?', reqPtr->targetLen);
    targetLen = (q != NULL) ? (size_t)(q - reqPtr->target) : reqPtr->targetLen;
    CheckNormalizedPath(reqPtr->target, targetLen);
}


/*
 *----------------------------------------------------------------------
 *
 * CheckNormalizedPath --
 *
 *      A path NsNormalizePath accepts is absolute, has no empty, "." or
 *      ".." segment and no NUL, and normalizing it again changes nothing
 *      once its '%' bytes are escaped.
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      Aborts when a property is broken.
 *
 *----------------------------------------------------------------------
 */

static void
CheckNormalizedPath(const char *target, size_t targetLen)
{
    Tcl_DString ds, escaped, again;
    const char *p, *end;
    size_t      len;

    Tcl_DStringInit(&ds);
    if (NsNormalizePath(target, targetLen, &ds)) {
        p = Tcl_DStringValue(&ds);
        len = (size_t)Tcl_DStringLength(&ds);
        end = p + len;
        Require(len > 0 && p[0] == '/', "normalized path is absolute");
        Require(memchr(p, '\0', len) == NULL, "normalized path has no NUL");
        while (p < end) {
            const char *segment = ++p;

            while (p < end && *p != '/') {
                p++;
            }
            Require(p == end || p > segment, "no empty segment inside");
            Require(!(p - segment == 1 && segment[0] == '.'), "no . segment");
            Require(!(p - segment == 2 && segment[0] == '.' && segment[1] == '.'),
                    "no .. segment");
        }

        Tcl_DStringInit(&escaped);
        Tcl_DStringInit(&again);
        for (p = Tcl_DStringValue(&ds); p < end; p++) {
            Tcl_DStringAppend(&escaped, *p == '%' ? "%25" : p, *p == '%' ? 3 : 1);
        }
        Require(NsNormalizePath(Tcl_DStringValue(&escaped),
                                (size_t)Tcl_DStringLength(&escaped), &again)
                && strcmp(Tcl_DStringValue(&again), Tcl_DStringValue(&ds)) == 0,
                "normalizing is idempotent");
        Tcl_DStringFree(&escaped);
        Tcl_DStringFree(&again);
    }
    Tcl_DStringFree(&ds);
}


/*
 *----------------------------------------------------------------------
 *
 * CheckRoundTrip --
 *
 *      Decoding the encoding of any bytes gives them back.
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      Aborts when the property is broken.
 *
 *----------------------------------------------------------------------
 */

static void
CheckRoundTrip(const char *buf, size_t size, bool isQuery)
{
    Tcl_DString encoded, decoded;

    Tcl_DStringInit(&encoded);
    Tcl_DStringInit(&decoded);
    NsUrlEncode(buf, size, isQuery, &encoded);
    Require(NsUrlDecode(Tcl_DStringValue(&encoded), (size_t)Tcl_DStringLength(&encoded),
                        isQuery, &decoded)
            && (size_t)Tcl_DStringLength(&decoded) == size
            && (size == 0 || memcmp(Tcl_DStringValue(&decoded), buf, size) == 0),
            "encode/decode round trip");
    Tcl_DStringFree(&encoded);
    Tcl_DStringFree(&decoded);
}
