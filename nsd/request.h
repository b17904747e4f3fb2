/*
 * request.h --
 *
 *      The HTTP/1.x request-head parser and URL helpers.  Nothing here
 *      allocates or keeps state (except the DString outputs of the URL
 *      helpers), so it can be unit-tested and fuzzed on its own.
 */

#ifndef NSD_REQUEST_H
#define NSD_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <tcl.h>

#define NS_HTTP_BAD        (-1)   /* malformed or over a limit: see *statusPtr */
#define NS_HTTP_INCOMPLETE (-2)   /* need more bytes */

typedef struct NsHttpHeader {
    const char *name;       /* points into the caller's buffer */
    size_t      nameLen;
    const char *value;      /* leading and trailing white space removed */
    size_t      valueLen;
} NsHttpHeader;

typedef struct NsHttpRequest {
    const char   *method;       /* points into the caller's buffer */
    size_t        methodLen;
    const char   *target;       /* request-target as sent, e.g. "/a%20b?x=1" */
    size_t        targetLen;
    int           versionMajor; /* 1 */
    int           versionMinor; /* 0 or 1 */
    NsHttpHeader *headers;      /* caller's array, filled in order */
    size_t        numHeaders;   /* in: capacity of headers; out: headers found */
} NsHttpRequest;

typedef struct NsHttpLimits {
    size_t maxLine;        /* bytes of the request line, without its line end: else 414 */
    size_t maxHeaders;     /* number of header fields: else 431 */
    size_t maxHeaderLine;  /* bytes of one header line, without its line end: else 431 */
} NsHttpLimits;

/*
 * Parse a request head (request line and header fields up to and including
 * the empty line) from buf[0..len).  Lines end in CRLF or a bare LF.
 *
 * Results: the number of bytes of the head (> 0), NS_HTTP_INCOMPLETE when
 * the head is not complete yet and no limit is passed so far, or NS_HTTP_BAD
 * with *statusPtr set to 400 (malformed), 414 (request line over maxLine),
 * 431 (too many or too long header lines) or 505 (HTTP version other than 1.x).
 * A limit already exceeded by an incomplete head is reported at once.
 * reqPtr->numHeaders must hold the capacity of reqPtr->headers on entry; a
 * capacity below limits->maxHeaders lowers that limit.  *reqPtr changes only
 * on success, so the caller may simply call again after NS_HTTP_INCOMPLETE.
 * The head is bounded by maxLine + maxHeaders * maxHeaderLine (plus line ends).
 */
ssize_t NsHttpParseRequest(const char *buf, size_t len, const NsHttpLimits *limits,
                           NsHttpRequest *reqPtr, int *statusPtr);

/*
 * Decode %XX escapes of buf[0..len) and append them to dsPtr; with isQuery,
 * '+' decodes to a space.  Results: true, or false on a malformed escape
 * (dsPtr then holds garbage).
 */
bool NsUrlDecode(const char *buf, size_t len, bool isQuery, Tcl_DString *dsPtr);

/*
 * Append the percent-encoded form of buf[0..len) to dsPtr: isQuery encodes
 * for a query component (space as '+'), otherwise for a path segment (space
 * as %20, '/' encoded too).  Unreserved characters stay as they are.
 */
void NsUrlEncode(const char *buf, size_t len, bool isQuery, Tcl_DString *dsPtr);

/*
 * Turn the path part of a request target (no query) into a clean absolute
 * path in dsPtr: decode escapes, collapse "//", drop "." segments, resolve
 * ".." segments.  Results: false when the path does not start with '/',
 * has a malformed escape, an encoded or literal NUL, or a ".." that would
 * climb above the root.
 */
bool NsNormalizePath(const char *path, size_t len, Tcl_DString *dsPtr);

#endif /* NSD_REQUEST_H */
