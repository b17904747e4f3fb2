/*
 * request.c --
 *
 *      The HTTP/1.x request-head parser and the URL helpers that work on
 *      request targets: percent decoding and encoding, and turning a request
 *      path into a clean absolute path.  Everything here is stateless: the
 *      parser allocates nothing, keeps nothing between calls and never reads
 *      outside the buffer it is given, so it can run on untrusted bytes
 *      straight from a socket and be called again as more bytes arrive.
 */

#include "request.h"

#include <string.h>

/*
 * Empty lines a client may send before the request line.  RFC 9112 asks a
 * server to ignore at least one (a CRLF left over after a POST body); a few
 * more are tolerated, but an endless stream of them is not a request.
 */
#define MAX_LEADING_EMPTY_LINES 4

/*
 * Results of the helpers below: a line parsed fine, or the usual
 * NS_HTTP_INCOMPLETE and NS_HTTP_BAD of the public function.
 */
#define PARSE_OK 0

/* What FindLine learned about the line starting at a given offset. */
typedef enum {
    LINE_COMPLETE,      /* its line end is in the buffer */
    LINE_INCOMPLETE,    /* no line end yet, and no limit passed so far */
    LINE_TOO_LONG       /* its content is already longer than allowed */
} LineStatus;

typedef struct Line {
    const char *start;  /* first byte of the line */
    const char *end;    /* end of its content: the line end, or what we have so far */
    const char *next;   /* first byte after the line end; NULL while incomplete */
} Line;

static ssize_t EmptyLine(const char *buf, size_t len, size_t pos, int *statusPtr);
static LineStatus FindLine(const char *buf, size_t len, size_t pos, size_t maxContent,
                           Line *linePtr);
static ssize_t ParseRequestLine(const Line *linePtr, NsHttpRequest *reqPtr, int *statusPtr);
static ssize_t ParseHeaderLine(const Line *linePtr, NsHttpHeader *hdrPtr, int *statusPtr);
static ssize_t Bad(int status, int *statusPtr);
static bool IsTchar(unsigned char c);
static bool IsDigit(unsigned char c);
static bool HasPrefixNoCase(const char *s, size_t len, const char *prefix);
static int HexValue(unsigned char c);
static bool IsUnreserved(unsigned char c);
static bool IsPathSafe(unsigned char c);
static bool AppendCleanPath(const char *path, size_t len, Tcl_DString *dsPtr);


/*
 *----------------------------------------------------------------------
 *
 * NsHttpParseRequest --
 *
 *      Parse a request head: optional empty lines, the request line, the
 *      header fields and the empty line that ends the head.  Each line is
 *      first measured against its limit and only then checked byte by
 *      byte, so a line that is too long is refused without being scanned
 *      past its limit, and an incomplete line is checked as far as it goes
 *      (garbage is refused before the rest of it arrives).
 *
 * Results:
 *      Bytes of the head, NS_HTTP_INCOMPLETE, or NS_HTTP_BAD with
 *      *statusPtr set to 400, 414, 431 or 505.
 *
 * Side effects:
 *      Fills in *reqPtr with pointers into buf.  reqPtr->numHeaders is
 *      changed only on success, so that a caller may call again with the
 *      same request after NS_HTTP_INCOMPLETE.
 *
 *----------------------------------------------------------------------
 */

ssize_t
NsHttpParseRequest(const char *buf, size_t len, const NsHttpLimits *limits,
                   NsHttpRequest *reqPtr, int *statusPtr)
{
    size_t  pos = 0, numHeaders = 0, maxHeaders;
    int     emptyLines;
    ssize_t rc;
    Line    line;

    /*
     * A headers array smaller than the configured limit lowers the limit:
     * the client gets a 431 rather than us writing past the array.
     */
    maxHeaders = limits->maxHeaders;
    if (reqPtr->numHeaders < maxHeaders) {
        maxHeaders = reqPtr->numHeaders;
    }

    for (emptyLines = 0; ; emptyLines++) {
        rc = EmptyLine(buf, len, pos, statusPtr);
        if (rc < 0) {
            return rc;
        }
        if (rc == 0) {
            break;
        }
        if (emptyLines == MAX_LEADING_EMPTY_LINES) {
            return Bad(400, statusPtr);
        }
        pos += (size_t)rc;
    }

    if (FindLine(buf, len, pos, limits->maxLine, &line) == LINE_TOO_LONG) {
        return Bad(414, statusPtr);
    }
    rc = ParseRequestLine(&line, reqPtr, statusPtr);
    if (rc != PARSE_OK) {
        return rc;
    }
    pos = (size_t)(line.next - buf);

    for (;;) {
        rc = EmptyLine(buf, len, pos, statusPtr);
        if (rc < 0) {
            return rc;
        }
        if (rc > 0) {
            pos += (size_t)rc;
            break;
        }
        if (buf[pos] == ' ' || buf[pos] == '\t') {
            /*
             * obs-fold, or white space between the request line and the
             * first field: RFC 9112 lets a server reject both, and
             * accepting them is how request smuggling starts.
             */
            return Bad(400, statusPtr);
        }
        if (numHeaders == maxHeaders) {
            return Bad(431, statusPtr);
        }
        if (FindLine(buf, len, pos, limits->maxHeaderLine, &line) == LINE_TOO_LONG) {
            return Bad(431, statusPtr);
        }
        rc = ParseHeaderLine(&line, &reqPtr->headers[numHeaders], statusPtr);
        if (rc != PARSE_OK) {
            return rc;
        }
        numHeaders++;
        pos = (size_t)(line.next - buf);
    }

    reqPtr->numHeaders = numHeaders;
    return (ssize_t)pos;
}


/*
 *----------------------------------------------------------------------
 *
 * EmptyLine --
 *
 *      Is the line starting at buf[pos] empty, that is a LF or a CR LF?
 *
 * Results:
 *      The length of its line end (1 or 2), 0 when the line is not empty,
 *      NS_HTTP_INCOMPLETE when there is nothing or only a CR yet, or
 *      NS_HTTP_BAD (400) for a CR not followed by a LF.
 *
 * Side effects:
 *      Sets *statusPtr on NS_HTTP_BAD.
 *
 *----------------------------------------------------------------------
 */

static ssize_t
EmptyLine(const char *buf, size_t len, size_t pos, int *statusPtr)
{
    if (pos == len) {
        return NS_HTTP_INCOMPLETE;
    }
    if (buf[pos] == '\n') {
        return 1;
    }
    if (buf[pos] != '\r') {
        return 0;
    }
    if (pos + 1 == len) {
        return NS_HTTP_INCOMPLETE;
    }
    return (buf[pos + 1] == '\n') ? 2 : Bad(400, statusPtr);
}


/*
 *----------------------------------------------------------------------
 *
 * FindLine --
 *
 *      Find the end of the line starting at buf[pos]: a LF, or a CR LF.
 *      Looks at no more than maxContent + 2 bytes, which is enough to
 *      tell whether the line's content fits into maxContent bytes.
 *
 * Results:
 *      LINE_COMPLETE, LINE_INCOMPLETE or LINE_TOO_LONG.
 *
 * Side effects:
 *      Fills in *linePtr (next is NULL unless the line is complete).  A
 *      CR as the last byte of an incomplete buffer is left out of the
 *      content: it may be the first half of a CR LF.
 *
 *----------------------------------------------------------------------
 */

static LineStatus
FindLine(const char *buf, size_t len, size_t pos, size_t maxContent, Line *linePtr)
{
    size_t      avail = len - pos;
    bool        overLimit = (maxContent < avail && avail - maxContent >= 2);
    const char *start = buf + pos, *lf, *end;
    LineStatus  status;

    /*
     * With maxContent + 2 bytes and no LF among them, the content is too
     * long even if the last of them is a CR: no need to look further.
     */
    lf = memchr(start, '\n', overLimit ? maxContent + 2 : avail);
    if (lf != NULL) {
        end = lf;
        status = LINE_COMPLETE;
    } else if (overLimit) {
        end = start + maxContent + 2;
        status = LINE_TOO_LONG;
    } else {
        end = buf + len;
        status = LINE_INCOMPLETE;
    }
    if (status != LINE_TOO_LONG && end > start && end[-1] == '\r') {
        end--;
    }
    if ((size_t)(end - start) > maxContent) {
        status = LINE_TOO_LONG;
    }
    linePtr->start = start;
    linePtr->end = end;
    linePtr->next = (status == LINE_COMPLETE) ? lf + 1 : NULL;
    return status;
}


/*
 *----------------------------------------------------------------------
 *
 * ParseRequestLine --
 *
 *      Check and split "METHOD SP request-target SP HTTP/d.d".  An
 *      incomplete line is checked as far as it goes.
 *
 * Results:
 *      PARSE_OK, NS_HTTP_INCOMPLETE, or NS_HTTP_BAD with *statusPtr set to
 *      400 (malformed) or 505 (a well-formed version other than 1.0, 1.1).
 *
 * Side effects:
 *      Sets method, target and version in *reqPtr.
 *
 *----------------------------------------------------------------------
 */

static ssize_t
ParseRequestLine(const Line *linePtr, NsHttpRequest *reqPtr, int *statusPtr)
{
    static const char httpName[] = "HTTP/";
    const char *p = linePtr->start, *end = linePtr->end, *target;
    bool        complete = (linePtr->next != NULL);
    size_t      targetLen, i;

    while (p < end && IsTchar((unsigned char)*p)) {
        p++;
    }
    if (p == end) {
        return complete ? Bad(400, statusPtr) : NS_HTTP_INCOMPLETE;
    }
    if (*p != ' ' || p == linePtr->start) {
        return Bad(400, statusPtr);
    }
    reqPtr->method = linePtr->start;
    reqPtr->methodLen = (size_t)(p - linePtr->start);

    /*
     * The target: visible ASCII only.  Bytes >= 0x80 are refused rather
     * than guessed at; a client has to percent-encode them.
     */
    target = ++p;
    while (p < end && (unsigned char)*p >= 0x21 && (unsigned char)*p <= 0x7e) {
        p++;
    }
    if (p == end) {
        return complete ? Bad(400, statusPtr) : NS_HTTP_INCOMPLETE;
    }
    if (*p != ' ' || p == target) {
        return Bad(400, statusPtr);
    }
    targetLen = (size_t)(p - target);
    if (target[0] != '/'
        && !(targetLen == 1 && target[0] == '*')
        && !HasPrefixNoCase(target, targetLen, "http://")
        && !HasPrefixNoCase(target, targetLen, "https://")) {
        return Bad(400, statusPtr);
    }
    reqPtr->target = target;
    reqPtr->targetLen = targetLen;

    /*
     * "HTTP/" DIGIT "." DIGIT and nothing after it.  HTTP-name is case
     * sensitive (RFC 9112 section 2.3).
     */
    p++;
    for (i = 0; i < 8; i++) {
        unsigned char c;
        bool          ok;

        if (p + i == end) {
            return complete ? Bad(400, statusPtr) : NS_HTTP_INCOMPLETE;
        }
        c = (unsigned char)p[i];
        if (i < 5) {
            ok = (c == (unsigned char)httpName[i]);
        } else if (i == 6) {
            ok = (c == '.');
        } else {
            ok = IsDigit(c);
        }
        if (!ok) {
            return Bad(400, statusPtr);
        }
    }
    if (p + 8 != end) {
        return Bad(400, statusPtr);
    }
    reqPtr->versionMajor = p[5] - '0';
    reqPtr->versionMinor = p[7] - '0';
    if (reqPtr->versionMajor != 1 || reqPtr->versionMinor > 1) {
        return Bad(505, statusPtr);
    }
    return complete ? PARSE_OK : NS_HTTP_INCOMPLETE;
}


/*
 *----------------------------------------------------------------------
 *
 * ParseHeaderLine --
 *
 *      Check and split one "field-name: field-value" line.  The name must
 *      be followed by the colon at once (RFC 9112 section 5.1: white space
 *      there is an error, not something to trim).  An incomplete line is
 *      checked as far as it goes.
 *
 * Results:
 *      PARSE_OK, NS_HTTP_INCOMPLETE or NS_HTTP_BAD with *statusPtr 400.
 *
 * Side effects:
 *      Fills in *hdrPtr; the value has its leading and trailing SP and HT
 *      removed.
 *
 *----------------------------------------------------------------------
 */

static ssize_t
ParseHeaderLine(const Line *linePtr, NsHttpHeader *hdrPtr, int *statusPtr)
{
    const char *p = linePtr->start, *end = linePtr->end, *value, *valueEnd;

    while (p < end && IsTchar((unsigned char)*p)) {
        p++;
    }
    if (p == end) {
        return (linePtr->next != NULL) ? Bad(400, statusPtr) : NS_HTTP_INCOMPLETE;
    }
    if (*p != ':' || p == linePtr->start) {
        return Bad(400, statusPtr);
    }
    hdrPtr->name = linePtr->start;
    hdrPtr->nameLen = (size_t)(p - linePtr->start);

    p++;
    while (p < end && (*p == ' ' || *p == '\t')) {
        p++;
    }
    value = valueEnd = p;
    for (; p < end; p++) {
        unsigned char c = (unsigned char)*p;

        if (c == ' ' || c == '\t') {
            continue;
        }
        /*
         * Any other control byte, including NUL, a bare CR and DEL, is an
         * error: passed on, it could split or end a header downstream.
         * Bytes >= 0x80 are obs-text and allowed.
         */
        if (c < 0x21 || c == 0x7f) {
            return Bad(400, statusPtr);
        }
        valueEnd = p + 1;
    }
    if (linePtr->next == NULL) {
        return NS_HTTP_INCOMPLETE;
    }
    hdrPtr->value = value;
    hdrPtr->valueLen = (size_t)(valueEnd - value);
    return PARSE_OK;
}


/*
 *----------------------------------------------------------------------
 *
 * Bad --
 *
 *      Report a bad request head.
 *
 * Results:
 *      NS_HTTP_BAD.
 *
 * Side effects:
 *      Sets *statusPtr to the HTTP status to answer with.
 *
 *----------------------------------------------------------------------
 */

static ssize_t
Bad(int status, int *statusPtr)
{
    *statusPtr = status;
    return NS_HTTP_BAD;
}


/*
 *----------------------------------------------------------------------
 *
 * IsTchar, IsDigit --
 *
 *      Character classes of RFC 9110, spelled out rather than taken from
 *      <ctype.h>, whose answers depend on the locale.
 *
 * Results:
 *      True when c is a token character (tchar) or a DIGIT.
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

static bool
IsTchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || IsDigit(c)) {
        return true;
    }
    switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*':
    case '+': case '-': case '.': case '^': case '_': case '`': case '|': case '~':
        return true;
    default:
        return false;
    }
}

static bool
IsDigit(unsigned char c)
{
    return c >= '0' && c <= '9';
}


/*
 *----------------------------------------------------------------------
 *
 * HasPrefixNoCase --
 *
 *      Does s[0..len) start with the ASCII string prefix, ignoring case?
 *      (URI schemes are case-insensitive.)  s need not be NUL-terminated.
 *
 * Results:
 *      True or false.
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

static bool
HasPrefixNoCase(const char *s, size_t len, const char *prefix)
{
    size_t i;

    for (i = 0; prefix[i] != '\0'; i++) {
        unsigned char c;

        if (i == len) {
            return false;
        }
        c = (unsigned char)s[i];
        if (c >= 'A' && c <= 'Z') {
            c = (unsigned char)(c - 'A' + 'a');
        }
        if (c != (unsigned char)prefix[i]) {
            return false;
        }
    }
    return true;
}


/*
 *----------------------------------------------------------------------
 *
 * NsUrlDecode --
 *
 *      Decode %XX escapes (either hex case) of buf[0..len) and, with
 *      isQuery, '+' as a space.  Everything else is copied as it is.
 *
 * Results:
 *      True, or false when a '%' is not followed by two hex digits.
 *
 * Side effects:
 *      Appends the decoded bytes to dsPtr (garbage on failure).
 *
 *----------------------------------------------------------------------
 */

bool
NsUrlDecode(const char *buf, size_t len, bool isQuery, Tcl_DString *dsPtr)
{
    size_t i = 0;

    while (i < len) {
        size_t start = i;
        int    hi, lo;
        char   byte;

        while (i < len && buf[i] != '%' && !(isQuery && buf[i] == '+')) {
            i++;
        }
        Tcl_DStringAppend(dsPtr, buf + start, (int)(i - start));
        if (i == len) {
            break;
        }
        if (buf[i] == '+') {
            Tcl_DStringAppend(dsPtr, " ", 1);
            i++;
            continue;
        }
        if (len - i < 3) {
            return false;
        }
        hi = HexValue((unsigned char)buf[i + 1]);
        lo = HexValue((unsigned char)buf[i + 2]);
        if (hi < 0 || lo < 0) {
            return false;
        }
        byte = (char)(unsigned char)(hi << 4 | lo);
        Tcl_DStringAppend(dsPtr, &byte, 1);
        i += 3;
    }
    return true;
}


/*
 *----------------------------------------------------------------------
 *
 * HexValue --
 *
 *      The value of a hex digit.
 *
 * Results:
 *      0..15, or -1 when c is not a hex digit.
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

static int
HexValue(unsigned char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}


/*
 *----------------------------------------------------------------------
 *
 * NsUrlEncode --
 *
 *      Percent-encode buf[0..len) for a query component (isQuery: only
 *      unreserved characters stay, space becomes '+') or for a path
 *      segment (unreserved characters, the sub-delims, ':' and '@' stay,
 *      which is RFC 3986 pchar; NaviServer encodes ';' and '=' as well.
 *      Space becomes %20 and '/' %2F, so the result is exactly one
 *      segment).  Escapes use uppercase hex, as RFC 3986 section 2.1
 *      recommends.
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      Appends the encoded string to dsPtr.
 *
 *----------------------------------------------------------------------
 */

void
NsUrlEncode(const char *buf, size_t len, bool isQuery, Tcl_DString *dsPtr)
{
    static const char hexDigits[] = "0123456789ABCDEF";
    size_t i = 0;

    while (i < len) {
        size_t        start = i;
        unsigned char c;
        char          escape[3];

        while (i < len && (isQuery ? IsUnreserved((unsigned char)buf[i])
                                   : IsPathSafe((unsigned char)buf[i]))) {
            i++;
        }
        Tcl_DStringAppend(dsPtr, buf + start, (int)(i - start));
        if (i == len) {
            break;
        }
        c = (unsigned char)buf[i++];
        if (c == ' ' && isQuery) {
            Tcl_DStringAppend(dsPtr, "+", 1);
        } else {
            escape[0] = '%';
            escape[1] = hexDigits[c >> 4];
            escape[2] = hexDigits[c & 0x0f];
            Tcl_DStringAppend(dsPtr, escape, 3);
        }
    }
}


/*
 *----------------------------------------------------------------------
 *
 * IsUnreserved, IsPathSafe --
 *
 *      The characters NsUrlEncode leaves alone: RFC 3986 unreserved, and
 *      for path segments also the sub-delims, ':' and '@' (pchar without
 *      pct-encoded).
 *
 * Results:
 *      True when c needs no escape.
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

static bool
IsUnreserved(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || IsDigit(c)
        || c == '-' || c == '.' || c == '_' || c == '~';
}

static bool
IsPathSafe(unsigned char c)
{
    if (IsUnreserved(c)) {
        return true;
    }
    switch (c) {
    case '!': case '$': case '&': case '\'': case '(': case ')': case '*':
    case '+': case ',': case ';': case '=': case ':': case '@':
        return true;
    default:
        return false;
    }
}


/*
 *----------------------------------------------------------------------
 *
 * NsNormalizePath --
 *
 *      Turn the path of a request target into a clean absolute path.
 *      Escapes are decoded first and the dot segments resolved on the
 *      decoded bytes, because the decoded path is what reaches the file
 *      system: "/..%2f.." and "/%2e%2e/" are traversal attempts just like
 *      "/../..".  The result is not decoded again, so "%252e" stays the
 *      three bytes "%2e".  A backslash is an ordinary byte: on POSIX it
 *      does not separate path components.
 *
 * Results:
 *      True, or false when the path does not start with '/', has a
 *      malformed escape or a NUL (literal or %00), or climbs above "/".
 *
 * Side effects:
 *      Appends the clean path to dsPtr; on failure dsPtr is left as it was.
 *
 *----------------------------------------------------------------------
 */

bool
NsNormalizePath(const char *path, size_t len, Tcl_DString *dsPtr)
{
    Tcl_DString decoded;
    int         oldLength = Tcl_DStringLength(dsPtr);
    bool        ok;

    Tcl_DStringInit(&decoded);
    ok = (len > 0 && path[0] == '/' && NsUrlDecode(path, len, false, &decoded));
    if (ok) {
        size_t n = (size_t)Tcl_DStringLength(&decoded);

        ok = (memchr(Tcl_DStringValue(&decoded), '\0', n) == NULL
              && AppendCleanPath(Tcl_DStringValue(&decoded), n, dsPtr));
    }
    Tcl_DStringFree(&decoded);
    if (!ok) {
        Tcl_DStringSetLength(dsPtr, oldLength);
    }
    return ok;
}


/*
 *----------------------------------------------------------------------
 *
 * AppendCleanPath --
 *
 *      Resolve the segments of an absolute, decoded path as RFC 3986
 *      section 5.2.4 does: empty and "." segments vanish, ".." removes
 *      the segment before it.  A path ending in "/", "/." or "/.." names
 *      a directory and keeps a trailing slash; an empty result is "/".
 *
 * Results:
 *      False when a ".." would climb above the root.
 *
 * Side effects:
 *      Appends to dsPtr.  Each appended segment starts with its '/', so
 *      removing one never reaches the bytes dsPtr held before.
 *
 *----------------------------------------------------------------------
 */

static bool
AppendCleanPath(const char *path, size_t len, Tcl_DString *dsPtr)
{
    const char *p = path, *end = path + len;
    int         base = Tcl_DStringLength(dsPtr);
    bool        directory = false;

    while (p < end) {
        const char *segment = ++p;    /* skip the '/' */
        size_t      segmentLen;

        while (p < end && *p != '/') {
            p++;
        }
        segmentLen = (size_t)(p - segment);
        if (segmentLen == 0) {
            directory = (p == end);
        } else if (segmentLen == 1 && segment[0] == '.') {
            directory = true;
        } else if (segmentLen == 2 && segment[0] == '.' && segment[1] == '.') {
            const char *value = Tcl_DStringValue(dsPtr);
            int         length = Tcl_DStringLength(dsPtr);

            if (length == base) {
                return false;
            }
            while (value[length - 1] != '/') {
                length--;
            }
            Tcl_DStringSetLength(dsPtr, length - 1);
            directory = true;
        } else {
            Tcl_DStringAppend(dsPtr, "/", 1);
            Tcl_DStringAppend(dsPtr, segment, (int)segmentLen);
            directory = false;
        }
    }
    if (directory || Tcl_DStringLength(dsPtr) == base) {
        Tcl_DStringAppend(dsPtr, "/", 1);
    }
    return true;
}
