/*
 * conn.c --
 *
 *      A connection: one request read by a driver, run by a connection
 *      thread, and its response.  Creating the Conn from a parsed request,
 *      running it, writing status line and headers, keep-alive, detaching
 *      the socket, the access log entry, and the public Ns_Conn accessors.
 */

#include "nsd.h"
#include "request.h"

#include <time.h>

static __thread Conn *currentConnPtr = NULL;
static atomic_uintptr_t nextConnId = 0;

static const struct {
    int         status;
    const char *phrase;
} statusPhrases[] = {
    {100, "Continue"}, {101, "Switching Protocols"},
    {200, "OK"}, {201, "Created"}, {202, "Accepted"}, {204, "No Content"},
    {206, "Partial Content"},
    {301, "Moved Permanently"}, {302, "Found"}, {303, "See Other"}, {304, "Not Modified"},
    {307, "Temporary Redirect"}, {308, "Permanent Redirect"},
    {400, "Bad Request"}, {401, "Unauthorized"}, {403, "Forbidden"}, {404, "Not Found"},
    {405, "Method Not Allowed"}, {406, "Not Acceptable"}, {408, "Request Timeout"},
    {409, "Conflict"}, {410, "Gone"}, {411, "Length Required"},
    {413, "Payload Too Large"}, {414, "URI Too Long"}, {415, "Unsupported Media Type"},
    {426, "Upgrade Required"}, {429, "Too Many Requests"},
    {431, "Request Header Fields Too Large"},
    {500, "Internal Server Error"}, {501, "Not Implemented"}, {502, "Bad Gateway"},
    {503, "Service Unavailable"}, {504, "Gateway Timeout"},
    {505, "HTTP Version Not Supported"}
};

/*
 *----------------------------------------------------------------------
 * NsStatusPhrase --
 *
 * Results:
 *      The reason phrase of an HTTP status code.
 *----------------------------------------------------------------------
 */
const char *
NsStatusPhrase(int status)
{
    for (size_t i = 0; i < sizeof(statusPhrases) / sizeof(statusPhrases[0]); i++) {
        if (statusPhrases[i].status == status) {
            return statusPhrases[i].phrase;
        }
    }
    return (status < 400) ? "OK" : (status < 500) ? "Client Error" : "Server Error";
}

/*
 *----------------------------------------------------------------------
 * AppendHttpDate --
 *
 *      Append an RFC 9110 date ("Sun, 06 Nov 1994 08:49:37 GMT").
 *----------------------------------------------------------------------
 */
static void
AppendHttpDate(Tcl_DString *dsPtr, time_t when)
{
    struct tm tm;
    char      buf[64];

    gmtime_r(&when, &tm);
    strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    Tcl_DStringAppend(dsPtr, buf, -1);
}

/*
 *----------------------------------------------------------------------
 * ErrorBody --
 *
 *      The small HTML page sent with error statuses, in dsPtr.
 *----------------------------------------------------------------------
 */
static void
ErrorBody(Tcl_DString *dsPtr, int status, const char *title, const char *notice)
{
    Tcl_DStringAppend(dsPtr, "<!DOCTYPE html>\n<html><head><title>", -1);
    Tcl_DStringAppend(dsPtr, title != NULL ? title : NsStatusPhrase(status), -1);
    Tcl_DStringAppend(dsPtr, "</title></head>\n<body><h2>", -1);
    Tcl_DStringAppend(dsPtr, title != NULL ? title : NsStatusPhrase(status), -1);
    Tcl_DStringAppend(dsPtr, "</h2>\n", -1);
    if (notice != NULL) {
        Tcl_DStringAppend(dsPtr, "<p>", 3);
        Tcl_DStringAppend(dsPtr, notice, -1);
        Tcl_DStringAppend(dsPtr, "</p>\n", -1);
    }
    Tcl_DStringAppend(dsPtr, "</body></html>\n", -1);
}

/*
 *----------------------------------------------------------------------
 * NsConnSendError --
 *
 *      Answer a request the driver refuses (400, 413, 414, 431, 503...)
 *      and that never became a Conn.  One non-blocking attempt: the socket
 *      is closed right after, and a client that does not read gets nothing.
 *----------------------------------------------------------------------
 */
Ns_ReturnCode
NsConnSendError(Sock *sockPtr, int status)
{
    Tcl_DString  head, body;
    struct iovec iov[2];
    size_t       n;
    Ns_IoStatus  ioStatus;
    char         buf[128];

    Tcl_DStringInit(&head);
    Tcl_DStringInit(&body);
    ErrorBody(&body, status, NULL, NULL);
    snprintf(buf, sizeof(buf), "HTTP/1.1 %d %s\r\n", status, NsStatusPhrase(status));
    Tcl_DStringAppend(&head, buf, -1);
    Tcl_DStringAppend(&head, "Server: nsws/" NS_VERSION "\r\nDate: ", -1);
    AppendHttpDate(&head, time(NULL));
    snprintf(buf, sizeof(buf), "\r\nContent-Type: text/html; charset=utf-8\r\n"
             "Content-Length: %d\r\nConnection: close\r\n\r\n", Tcl_DStringLength(&body));
    Tcl_DStringAppend(&head, buf, -1);
    iov[0].iov_base = Tcl_DStringValue(&head);
    iov[0].iov_len = (size_t)Tcl_DStringLength(&head);
    iov[1].iov_base = Tcl_DStringValue(&body);
    iov[1].iov_len = (size_t)Tcl_DStringLength(&body);
    ioStatus = Ns_SockSend(&sockPtr->base, iov, 2, &n);
    Tcl_DStringFree(&head);
    Tcl_DStringFree(&body);
    Ns_Log(Debug, "%s: %d for %s", sockPtr->drvPtr->base.moduleName, status,
           sockPtr->base.peer);
    return (ioStatus == NS_IO_OK) ? NS_OK : NS_ERROR;
}

/*
 *----------------------------------------------------------------------
 * HeaderHasToken --
 *
 *      Does a comma-separated header value contain token (any case)?
 *----------------------------------------------------------------------
 */
static bool
HeaderHasToken(const char *value, const char *token)
{
    size_t tokenLen = strlen(token);

    while (value != NULL && *value != '\0') {
        const char *end;

        while (*value == ' ' || *value == '\t' || *value == ',') {
            value++;
        }
        end = value;
        while (*end != '\0' && *end != ',') {
            end++;
        }
        /* Trim trailing white space of this element. */
        {
            const char *e = end;

            while (e > value && (e[-1] == ' ' || e[-1] == '\t')) {
                e--;
            }
            if ((size_t)(e - value) == tokenLen && strncasecmp(value, token, tokenLen) == 0) {
                return true;
            }
        }
        value = end;
    }
    return false;
}

/*
 *----------------------------------------------------------------------
 * NsConnCreate --
 *
 *      Make a Conn from a complete request held in the sock's buffer.
 *
 * Results:
 *      The Conn, or NULL with *statusPtr set (400 for a target that does
 *      not normalise to a path inside the URL space).
 *----------------------------------------------------------------------
 */
Conn *
NsConnCreate(Sock *sockPtr, const NsHttpRequest *reqPtr, int *statusPtr)
{
    Conn        *connPtr;
    const char  *target = reqPtr->target, *path, *query;
    size_t       targetLen = reqPtr->targetLen, pathLen;
    Tcl_DString  ds;
    const char  *connection;
    bool         pathInTarget = true;

    /*
     * Absolute form: drop scheme and authority, keep the path.  The
     * authority ends at the first "/" or "?": a "/" inside the query of
     * "http://host?x=/a" is not where the path starts.
     */
    path = target;
    pathLen = targetLen;
    query = NULL;
    if (targetLen > 0 && target[0] != '/' && target[0] != '*') {
        const char *p = memchr(target, ':', targetLen), *end = target + targetLen;

        if (p != NULL && (size_t)(end - p) > 3 && p[1] == '/' && p[2] == '/') {
            const char *q = p + 3;

            while (q < end && *q != '/' && *q != '?') {
                q++;
            }
            if (q < end && *q == '/') {
                path = q;
                pathLen = (size_t)(end - q);
            } else {
                /* "http://host" or "http://host?query": the path is "/". */
                path = "/";
                pathLen = 1;
                pathInTarget = false;
                query = (q < end) ? q + 1 : NULL;
            }
        }
    }
    if (pathInTarget) {
        query = memchr(path, '?', pathLen);
        if (query != NULL) {
            pathLen = (size_t)(query - path);
            query++;
        }
    }
    Tcl_DStringInit(&ds);
    if (pathLen == 1 && path[0] == '*') {
        Tcl_DStringAppend(&ds, "*", 1);
    } else if (!NsNormalizePath(path, pathLen, &ds)) {
        Tcl_DStringFree(&ds);
        *statusPtr = 400;
        return NULL;
    }

    connPtr = ckalloc(sizeof(Conn));
    memset(connPtr, 0, sizeof(Conn));
    connPtr->sockPtr = sockPtr;
    connPtr->servPtr = sockPtr->servPtr;
    connPtr->driver = &sockPtr->drvPtr->base;
    _Static_assert(sizeof(connPtr->peer) == sizeof(sockPtr->base.peer), "peer sizes differ");
    memcpy(connPtr->peer, sockPtr->base.peer, sizeof(connPtr->peer));
    connPtr->peerPort = sockPtr->base.peerPort;
    connPtr->id = atomic_fetch_add(&nextConnId, 1);
    Ns_GetTime(&connPtr->start);
    connPtr->method = ckalloc(reqPtr->methodLen + 1);
    memcpy(connPtr->method, reqPtr->method, reqPtr->methodLen);
    connPtr->method[reqPtr->methodLen] = '\0';
    connPtr->target = ckalloc(targetLen + 1);
    memcpy(connPtr->target, target, targetLen);
    connPtr->target[targetLen] = '\0';
    connPtr->url = ns_strdup(Tcl_DStringValue(&ds));
    Tcl_DStringFree(&ds);
    if (query != NULL) {
        size_t queryLen = (size_t)(target + targetLen - query);

        connPtr->query = ckalloc(queryLen + 1);
        memcpy(connPtr->query, query, queryLen);
        connPtr->query[queryLen] = '\0';
    }
    connPtr->versionMajor = reqPtr->versionMajor;
    connPtr->versionMinor = reqPtr->versionMinor;
    Tcl_DStringInit(&ds);
    Tcl_DStringAppend(&ds, connPtr->method, -1);
    Tcl_DStringAppend(&ds, " ", 1);
    Tcl_DStringAppend(&ds, connPtr->target, -1);
    Tcl_DStringAppend(&ds, reqPtr->versionMinor == 0 ? " HTTP/1.0" : " HTTP/1.1", -1);
    connPtr->requestLine = ns_strdup(Tcl_DStringValue(&ds));
    Tcl_DStringFree(&ds);

    connPtr->headers = Ns_SetCreate("headers");
    for (size_t i = 0; i < reqPtr->numHeaders; i++) {
        const NsHttpHeader *h = &reqPtr->headers[i];

        Ns_SetPutSz(connPtr->headers, h->name, (ssize_t)h->nameLen, h->value,
                    (ssize_t)h->valueLen);
    }
    connPtr->outputheaders = Ns_SetCreate("outputheaders");
    connPtr->content = sockPtr->buf + sockPtr->headLen;
    connPtr->contentLength = (size_t)sockPtr->bodyLen;

    connection = Ns_SetIGet(connPtr->headers, "connection");
    if (reqPtr->versionMinor >= 1) {
        connPtr->keepAlive = !HeaderHasToken(connection, "close");
    } else {
        connPtr->keepAlive = HeaderHasToken(connection, "keep-alive");
    }
    connPtr->status = 200;
    return connPtr;
}

/*
 *----------------------------------------------------------------------
 * NsConnFree --
 *
 *      Free a Conn (not its sock).
 *----------------------------------------------------------------------
 */
void
NsConnFree(Conn *connPtr)
{
    ckfree(connPtr->method);
    ckfree(connPtr->target);
    ckfree(connPtr->url);
    ckfree(connPtr->query);
    ckfree(connPtr->requestLine);
    ckfree(connPtr->contentCopy);
    ckfree(connPtr->clientData);
    ckfree(connPtr->authUser);
    Ns_SetFree(connPtr->headers);
    Ns_SetFree(connPtr->outputheaders);
    if (connPtr->query_form != NULL) {
        Ns_SetFree(connPtr->query_form);
    }
    ckfree(connPtr);
}

/*
 *----------------------------------------------------------------------
 * NsConnRun --
 *
 *      Run a request in this connection thread: dispatch it, make sure it
 *      got a response, log it, and give the socket back for keep-alive
 *      (or close it).  Frees the Conn.
 *----------------------------------------------------------------------
 */
void
NsConnRun(Conn *connPtr)
{
    Tcl_Interp   *interp = NsTclConnInterp(connPtr->servPtr);
    NsInterp     *itPtr = NsGetInterpData(interp);
    Ns_ReturnCode status;
    Sock         *sockPtr;

    connPtr->interp = interp;
    itPtr->connPtr = connPtr;
    currentConnPtr = connPtr;

    status = NsDispatch(connPtr);

    if (connPtr->sockPtr != NULL) {
        if (!connPtr->headersSent) {
            if (status == NS_OK) {
                /* The handler sent nothing: an empty 200 is the honest answer. */
                (void)Ns_ConnReturnData(connPtr, 200, "", 0, "text/plain");
            } else {
                (void)NsConnReturnNotice(connPtr, 500, "Server Error",
                                         "The requested URL cannot be accessed due to a "
                                         "system error on this server.");
            }
        } else if (status != NS_OK) {
            /*
             * The handler failed after its headers went out: no last chunk
             * and no keep-alive, so that the client sees a truncated body
             * rather than a complete one.
             */
            connPtr->keepAlive = false;
        } else if (connPtr->chunked && !connPtr->responded) {
            static const char last[] = "0\r\n\r\n";
            struct iovec      iov = {(void *)last, sizeof(last) - 1};

            if (Ns_SockSendAll(&connPtr->sockPtr->base, &iov, 1, NULL) == NS_OK) {
                connPtr->responded = true;
            }
        }
    }
    NsAccessLogWrite(&(NsAccessRecord){
        .peer = Ns_ConnPeerAddr(connPtr),
        .user = connPtr->authUser,
        .start = &connPtr->start,
        .requestLine = connPtr->requestLine,
        .status = connPtr->status,
        .bytesSent = connPtr->bytesSent,
        .referer = Ns_SetIGet(connPtr->headers, "referer"),
        .userAgent = Ns_SetIGet(connPtr->headers, "user-agent")
    });

    NsTclRunCleanup(interp);
    itPtr->connPtr = NULL;
    currentConnPtr = NULL;

    sockPtr = connPtr->sockPtr;
    if (sockPtr != NULL) {
        if (connPtr->keepAlive && connPtr->responded && !Ns_InfoShutdownPending()) {
            NsSockReturn(sockPtr);
        } else {
            NsSockRelease(sockPtr);
        }
    }
    NsConnFree(connPtr);
}

/*
 *----------------------------------------------------------------------
 * ConnSend --
 *
 *      Send buffers on the connection's socket, all of them, within the
 *      driver's sendwait.  A failure ends keep-alive: the client cannot
 *      know where the response stopped.
 *
 * Results:
 *      NS_OK, or NS_ERROR when detached or the send failed (logged).
 *----------------------------------------------------------------------
 */
static Ns_ReturnCode
ConnSend(Conn *connPtr, const struct iovec *iov, int iovcnt)
{
    Ns_ReturnCode status;

    if (connPtr->sockPtr == NULL) {
        return NS_ERROR;
    }
    status = Ns_SockSendAll(&connPtr->sockPtr->base, iov, iovcnt, NULL);
    if (status != NS_OK) {
        Ns_Log(Notice, "conn %" PRIuPTR ": send to %s failed: %s", connPtr->id,
               connPtr->sockPtr->base.peer,
               status == NS_TIMEOUT ? "timeout" : Ns_SockErrorString(&connPtr->sockPtr->base));
        connPtr->keepAlive = false;
    }
    return status;
}

/*
 *----------------------------------------------------------------------
 * StatusHasNoBody --
 *
 * Results:
 *      True for the statuses whose responses never have a body (1xx, 204,
 *      304): sending one would be read as the start of the next response.
 *----------------------------------------------------------------------
 */
static bool
StatusHasNoBody(int status)
{
    return (status >= 100 && status < 200) || status == 204 || status == 304;
}

/*
 *----------------------------------------------------------------------
 * HeaderIsSafe --
 *
 *      May a header name or value go out as it is?  A CR or LF in it
 *      would end the header line early and let a value (a redirect URL
 *      from a query, say) add headers or a body of its own.
 *----------------------------------------------------------------------
 */
static bool
HeaderIsSafe(Conn *connPtr, const char *name, const char *value)
{
    bool safe = (strpbrk(name, "\r\n") == NULL && strpbrk(value, "\r\n") == NULL);

    if (!safe) {
        Ns_Log(Warning, "conn %" PRIuPTR ": header \"%s\" contains a line break: not sent",
               connPtr->id, name);
    }
    return safe;
}

/*
 *----------------------------------------------------------------------
 * OutputLength --
 *
 * Results:
 *      The Content-Length a handler put into the output headers, or -1
 *      when there is none (or it is not a number).
 *----------------------------------------------------------------------
 */
static int64_t
OutputLength(const Ns_Set *out)
{
    const char *value = Ns_SetIGet(out, "content-length");
    int64_t     length = -1;

    if (value != NULL && *value >= '0' && *value <= '9') {
        char     *end;
        long long v;

        errno = 0;
        v = strtoll(value, &end, 10);
        if (errno == 0 && *end == '\0') {
            length = v;
        }
    }
    return length;
}

/*
 *----------------------------------------------------------------------
 * AppendHeaders --
 *
 *      Build the status line and headers of a response into dsPtr.
 *      length < 0 means "unknown": a Content-Length the handler set in
 *      the output headers (Ns_ConnSetLengthHeader) if any, else chunked
 *      for HTTP/1.1 clients, and the end of the connection marks the end
 *      of the body for HTTP/1.0.  The framing headers (Content-Length,
 *      Transfer-Encoding) are written here only, never copied from the
 *      output headers as well: two of them make a response unreadable.
 *----------------------------------------------------------------------
 */
static void
AppendHeaders(Conn *connPtr, Tcl_DString *dsPtr, int status, const char *mimeType,
              int64_t length)
{
    const Ns_Set *out = connPtr->outputheaders;
    const char   *connection = Ns_SetIGet(out, "connection");
    bool          noBody = StatusHasNoBody(status);
    char          buf[128];

    if (length < 0) {
        length = OutputLength(out);
    }
    if (length < 0 && !noBody) {
        if (connPtr->versionMinor >= 1) {
            connPtr->chunked = true;
        } else {
            connPtr->keepAlive = false;
        }
    }
    if (Ns_InfoShutdownPending()
        || (connection != NULL && HeaderHasToken(connection, "close"))) {
        connPtr->keepAlive = false;
    }
    snprintf(buf, sizeof(buf), "HTTP/1.%d %d %s\r\n", connPtr->versionMinor == 0 ? 0 : 1,
             status, NsStatusPhrase(status));
    Tcl_DStringAppend(dsPtr, buf, -1);
    if (Ns_SetIFind(out, "server") < 0) {
        Tcl_DStringAppend(dsPtr, "Server: nsws/" NS_VERSION "\r\n", -1);
    }
    if (Ns_SetIFind(out, "date") < 0) {
        Tcl_DStringAppend(dsPtr, "Date: ", -1);
        AppendHttpDate(dsPtr, time(NULL));
        Tcl_DStringAppend(dsPtr, "\r\n", 2);
    }
    if (mimeType != NULL && !noBody && Ns_SetIFind(out, "content-type") < 0
        && HeaderIsSafe(connPtr, "Content-Type", mimeType)) {
        Tcl_DStringAppend(dsPtr, "Content-Type: ", -1);
        Tcl_DStringAppend(dsPtr, mimeType, -1);
        /* Text goes out as UTF-8: say so, as NaviServer does. */
        if (strncasecmp(mimeType, "text/", 5) == 0 && strstr(mimeType, "charset") == NULL) {
            Tcl_DStringAppend(dsPtr, "; charset=utf-8", -1);
        }
        Tcl_DStringAppend(dsPtr, "\r\n", 2);
    }
    if (!noBody) {
        if (length >= 0) {
            snprintf(buf, sizeof(buf), "Content-Length: %" PRId64 "\r\n", length);
            Tcl_DStringAppend(dsPtr, buf, -1);
        } else if (connPtr->chunked) {
            Tcl_DStringAppend(dsPtr, "Transfer-Encoding: chunked\r\n", -1);
        }
    }
    if (connection == NULL && status != 101) {
        Tcl_DStringAppend(dsPtr, connPtr->keepAlive ? "Connection: keep-alive\r\n"
                                                    : "Connection: close\r\n", -1);
    }
    for (size_t i = 0; i < Ns_SetSize(out); i++) {
        const char *name = Ns_SetKey(out, i), *value = Ns_SetValue(out, i);

        if (strcasecmp(name, "content-length") == 0
            || strcasecmp(name, "transfer-encoding") == 0
            || !HeaderIsSafe(connPtr, name, value)) {
            continue;
        }
        Tcl_DStringAppend(dsPtr, name, -1);
        Tcl_DStringAppend(dsPtr, ": ", 2);
        Tcl_DStringAppend(dsPtr, value, -1);
        Tcl_DStringAppend(dsPtr, "\r\n", 2);
    }
    Tcl_DStringAppend(dsPtr, "\r\n", 2);
    connPtr->status = status;
    connPtr->headersSent = true;
}

/*
 *----------------------------------------------------------------------
 * NsConnWriteHeaders --
 *
 *      Send the status line and headers only (ns_headers, streaming).
 *----------------------------------------------------------------------
 */
Ns_ReturnCode
NsConnWriteHeaders(Conn *connPtr, int status, const char *mimeType, int64_t length)
{
    Tcl_DString   ds;
    struct iovec  iov;
    Ns_ReturnCode result = NS_ERROR;

    if (connPtr->sockPtr != NULL && !connPtr->headersSent) {
        Tcl_DStringInit(&ds);
        AppendHeaders(connPtr, &ds, status, mimeType, length);
        iov.iov_base = Tcl_DStringValue(&ds);
        iov.iov_len = (size_t)Tcl_DStringLength(&ds);
        result = ConnSend(connPtr, &iov, 1);
        if (result == NS_OK && StatusHasNoBody(status)) {
            /* Complete already: later body writes fail instead of going out. */
            connPtr->responded = true;
        }
        Tcl_DStringFree(&ds);
    }
    return result;
}

/*
 *----------------------------------------------------------------------
 * Ns_ConnWriteVData --
 *
 *      Send body data after the headers (streaming): chunk-encoded when
 *      the response is chunked, raw otherwise.
 *----------------------------------------------------------------------
 */
Ns_ReturnCode
Ns_ConnWriteVData(Ns_Conn *conn, const struct iovec *iov, int iovcnt)
{
    Conn         *connPtr = (Conn *)conn;
    size_t        total = 0;
    Ns_ReturnCode result;

    if (connPtr->sockPtr == NULL || connPtr->responded) {
        return NS_ERROR;
    }
    for (int i = 0; i < iovcnt; i++) {
        total += iov[i].iov_len;
    }
    if (total == 0) {
        return NS_OK;
    }
    if (connPtr->chunked) {
        struct iovec vec[iovcnt + 2];
        char         size[32];

        vec[0].iov_base = size;
        vec[0].iov_len = (size_t)snprintf(size, sizeof(size), "%zx\r\n", total);
        memcpy(vec + 1, iov, sizeof(struct iovec) * (size_t)iovcnt);
        vec[iovcnt + 1].iov_base = (void *)"\r\n";
        vec[iovcnt + 1].iov_len = 2;
        result = ConnSend(connPtr, vec, iovcnt + 2);
    } else {
        result = ConnSend(connPtr, iov, iovcnt);
    }
    if (result == NS_OK) {
        connPtr->bytesSent += (int64_t)total;
    }
    return result;
}

/*
 *----------------------------------------------------------------------
 * Ns_ConnReturnData --
 *
 *      Send a complete response: headers and body in one writev (no body
 *      for HEAD, 1xx, 204 and 304).  len < 0 means strlen(data).
 *----------------------------------------------------------------------
 */
Ns_ReturnCode
Ns_ConnReturnData(Ns_Conn *conn, int status, const char *data, ssize_t len,
                  const char *mimeType)
{
    Conn         *connPtr = (Conn *)conn;
    Tcl_DString   ds;
    struct iovec  iov[2];
    Ns_ReturnCode result = NS_ERROR;
    size_t        length = (len < 0) ? strlen(data) : (size_t)len;

    if (connPtr->sockPtr != NULL && !connPtr->headersSent) {
        bool noBody = (strcmp(connPtr->method, "HEAD") == 0 || StatusHasNoBody(status));

        Tcl_DStringInit(&ds);
        AppendHeaders(connPtr, &ds, status, mimeType, (int64_t)length);
        iov[0].iov_base = Tcl_DStringValue(&ds);
        iov[0].iov_len = (size_t)Tcl_DStringLength(&ds);
        iov[1].iov_base = (void *)data;
        iov[1].iov_len = noBody ? 0 : length;
        result = ConnSend(connPtr, iov, 2);
        if (result == NS_OK) {
            connPtr->bytesSent = (int64_t)iov[1].iov_len;
            connPtr->responded = true;
        }
        Tcl_DStringFree(&ds);
    }
    return result;
}

Ns_ReturnCode
Ns_ConnReturnStatus(Ns_Conn *conn, int status)
{
    return Ns_ConnReturnData(conn, status, "", 0, NULL);
}

/*
 *----------------------------------------------------------------------
 * NsConnReturnNotice --
 *
 *      An HTML notice page with a status (errors, redirects).
 *----------------------------------------------------------------------
 */
Ns_ReturnCode
NsConnReturnNotice(Conn *connPtr, int status, const char *title, const char *notice)
{
    Tcl_DString   ds;
    Ns_ReturnCode result;

    Tcl_DStringInit(&ds);
    ErrorBody(&ds, status, title, notice);
    result = Ns_ConnReturnData(connPtr, status, Tcl_DStringValue(&ds), Tcl_DStringLength(&ds),
                               "text/html; charset=utf-8");
    Tcl_DStringFree(&ds);
    return result;
}

/*
 *----------------------------------------------------------------------
 * NsConnReturnRedirect --
 *
 *      302 to url; a url starting with "/" is made absolute with the
 *      connection's location.
 *----------------------------------------------------------------------
 */
Ns_ReturnCode
NsConnReturnRedirect(Conn *connPtr, const char *url)
{
    Tcl_DString   ds;
    Ns_ReturnCode result;

    Tcl_DStringInit(&ds);
    if (url[0] == '/') {
        NsConnLocation(connPtr, &ds);
    }
    Tcl_DStringAppend(&ds, url, -1);
    Ns_SetUpdate(connPtr->outputheaders, "Location", Tcl_DStringValue(&ds));
    result = NsConnReturnNotice(connPtr, 302, "Redirection",
                                "The requested URL has moved.");
    Tcl_DStringFree(&ds);
    return result;
}

void
Ns_ConnSetStatus(Ns_Conn *conn, int status)
{
    ((Conn *)conn)->status = status;
}

void
Ns_ConnSetLengthHeader(Ns_Conn *conn, size_t length)
{
    char buf[32];

    snprintf(buf, sizeof(buf), "%zu", length);
    Ns_SetIUpdate(((Conn *)conn)->outputheaders, "Content-Length", buf);
}

/*
 *----------------------------------------------------------------------
 * Ns_ConnDetachSock --
 *
 *      Give the connection's socket to the caller (ns_connchan detach,
 *      ws::handshake).  The request body is copied so ns_conn content keeps
 *      working; bytes already read beyond this request are handed over.
 *
 * Results:
 *      A new Ns_Sock owned by the caller (close and free it with
 *      Ns_SockDestroy), or NULL when already detached.
 *----------------------------------------------------------------------
 */
Ns_Sock *
Ns_ConnDetachSock(Ns_Conn *conn, char **leftoverPtr, size_t *leftoverLenPtr)
{
    Conn    *connPtr = (Conn *)conn;
    Sock    *sockPtr = connPtr->sockPtr;
    Ns_Sock *newPtr;
    size_t   used, leftover;

    if (sockPtr == NULL) {
        return NULL;
    }
    connPtr->contentCopy = ckalloc(connPtr->contentLength + 1);
    memcpy(connPtr->contentCopy, connPtr->content, connPtr->contentLength);
    connPtr->contentCopy[connPtr->contentLength] = '\0';
    connPtr->content = connPtr->contentCopy;

    used = sockPtr->headLen + (size_t)sockPtr->bodyLen;
    leftover = (sockPtr->len > used) ? sockPtr->len - used : 0;
    *leftoverPtr = NULL;
    *leftoverLenPtr = leftover;
    if (leftover > 0) {
        *leftoverPtr = ckalloc(leftover);
        memcpy(*leftoverPtr, sockPtr->buf + used, leftover);
    }
    newPtr = NsSockAlloc();
    *newPtr = sockPtr->base;
    /* The fd (and TLS state) now belong to newPtr; free the rest. */
    NsSockForget(sockPtr->drvPtr);
    ckfree(sockPtr->buf);
    ckfree(sockPtr);
    connPtr->sockPtr = NULL;
    connPtr->detached = true;
    connPtr->keepAlive = false;
    return newPtr;
}

/*
 * Accessors of the public API.
 */

Ns_Conn *
Ns_GetConn(void)
{
    return currentConnPtr;
}

const char *
Ns_ConnServer(const Ns_Conn *conn)
{
    return conn->servPtr->name;
}

const char *
Ns_ConnMethod(const Ns_Conn *conn)
{
    return conn->method;
}

const char *
Ns_ConnUrl(const Ns_Conn *conn)
{
    return conn->url;
}

Ns_Set *
Ns_ConnHeaders(const Ns_Conn *conn)
{
    return conn->headers;
}

Ns_Set *
Ns_ConnOutputHeaders(const Ns_Conn *conn)
{
    return conn->outputheaders;
}

uintptr_t
Ns_ConnId(const Ns_Conn *conn)
{
    return conn->id;
}

void
Ns_ConnStartTime(const Ns_Conn *conn, Ns_Time *timePtr)
{
    *timePtr = conn->start;
}

const char *
Ns_ConnClientData(const Ns_Conn *conn)
{
    return conn->clientData;
}

Ns_Sock *
Ns_ConnSock(const Ns_Conn *conn)
{
    return (conn->sockPtr != NULL) ? &conn->sockPtr->base : NULL;
}

const char *
Ns_ConnPeerAddr(const Ns_Conn *conn)
{
    return conn->peer;
}

int
Ns_ConnPeerPort(const Ns_Conn *conn)
{
    return conn->peerPort;
}

/*
 *----------------------------------------------------------------------
 * NsConnLocation --
 *
 *      Append "proto://host:port" for the connection: the Host header when
 *      the client sent a sane one, else the driver's hostname or address.
 *----------------------------------------------------------------------
 */
void
NsConnLocation(Conn *connPtr, Tcl_DString *dsPtr)
{
    const Ns_Driver *d = connPtr->driver;
    const char      *host = Ns_SetIGet(connPtr->headers, "host");
    char             buf[32];

    Tcl_DStringAppend(dsPtr, d->procs->protocol, -1);
    Tcl_DStringAppend(dsPtr, "://", 3);
    if (host != NULL && *host != '\0' && strpbrk(host, "/\\ \"<>") == NULL) {
        Tcl_DStringAppend(dsPtr, host, -1);
    } else {
        const char *name = (d->hostname != NULL) ? d->hostname : d->address;

        if (strchr(name, ':') != NULL) {
            Tcl_DStringAppend(dsPtr, "[", 1);
            Tcl_DStringAppend(dsPtr, name, -1);
            Tcl_DStringAppend(dsPtr, "]", 1);
        } else {
            Tcl_DStringAppend(dsPtr, name, -1);
        }
        if (d->boundPort != d->procs->defaultPort) {
            snprintf(buf, sizeof(buf), ":%d", d->boundPort);
            Tcl_DStringAppend(dsPtr, buf, -1);
        }
    }
}

/*
 *----------------------------------------------------------------------
 * ParseQueryInto --
 *
 *      Add the pairs of an application/x-www-form-urlencoded string to a
 *      set.  Pairs that do not decode are skipped: a bad pair must not cost
 *      the good ones.
 *----------------------------------------------------------------------
 */
static void
ParseQueryInto(Ns_Set *set, const char *query, size_t len)
{
    const char *p = query, *end = query + len;

    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *pairEnd = (amp != NULL) ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(pairEnd - p));
        Tcl_DString key, value;

        if (pairEnd > p) {
            Tcl_DStringInit(&key);
            Tcl_DStringInit(&value);
            if (NsUrlDecode(p, (size_t)((eq != NULL ? eq : pairEnd) - p), true, &key)
                && (eq == NULL
                    || NsUrlDecode(eq + 1, (size_t)(pairEnd - eq - 1), true, &value))) {
                Ns_SetPut(set, Tcl_DStringValue(&key), Tcl_DStringValue(&value));
            }
            Tcl_DStringFree(&key);
            Tcl_DStringFree(&value);
        }
        p = pairEnd + 1;
    }
}

/*
 *----------------------------------------------------------------------
 * NsConnGetQuery --
 *
 *      The query parameters and, for an urlencoded POST, the form fields,
 *      parsed on first use.
 *
 * Results:
 *      The set (owned by the Conn).
 *----------------------------------------------------------------------
 */
Ns_Set *
NsConnGetQuery(Conn *connPtr)
{
    if (connPtr->query_form == NULL) {
        const char *type = Ns_SetIGet(connPtr->headers, "content-type");

        connPtr->query_form = Ns_SetCreate("form");
        if (connPtr->query != NULL) {
            ParseQueryInto(connPtr->query_form, connPtr->query, strlen(connPtr->query));
        }
        if (type != NULL && strncasecmp(type, "application/x-www-form-urlencoded", 33) == 0
            && connPtr->contentLength > 0) {
            ParseQueryInto(connPtr->query_form, connPtr->content, connPtr->contentLength);
        }
    }
    return connPtr->query_form;
}
