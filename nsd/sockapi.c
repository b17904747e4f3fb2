/*
 * sockapi.c --
 *
 *      The public socket API for outgoing and extra listening sockets
 *      (ns_connchan connect/open/listen): connecting over TCP (IPv4 or IPv6)
 *      or a Unix-domain socket within a timeout, optionally followed by the
 *      TLS handshake; listening and accepting through a driver; closing;
 *      and describing failures as a message plus a Tcl error code.  The
 *      socket work of the drivers themselves is in nssock.c and nsssl.c;
 *      this file only strings it together and never touches OpenSSL.
 */

#include "nsd.h"

#include <ctype.h>
#include <netdb.h>
#include <poll.h>
#include <unistd.h>
#include <netinet/tcp.h>
#include <sys/un.h>

/*
 *----------------------------------------------------------------------
 * NsSockErrorSet --
 *
 *      Fill in an Ns_SockError: the message, and the error code built as a
 *      proper Tcl list from the remaining arguments (strings, ending with a
 *      NULL), e.g. NsSockErrorSet(errPtr, msg, "OPENSSL", reason, NULL).
 *----------------------------------------------------------------------
 */
void
NsSockErrorSet(Ns_SockError *errPtr, const char *message, ...)
{
    Tcl_DString ds;
    const char *element;
    va_list     ap;

    Tcl_DStringInit(&ds);
    va_start(ap, message);
    while ((element = va_arg(ap, const char *)) != NULL) {
        Tcl_DStringAppendElement(&ds, element);
    }
    va_end(ap);
    snprintf(errPtr->errorCode, sizeof(errPtr->errorCode), "%s", Tcl_DStringValue(&ds));
    snprintf(errPtr->message, sizeof(errPtr->message), "%s", message);
    Tcl_DStringFree(&ds);
}

/*
 *----------------------------------------------------------------------
 * NsSockErrorPosix --
 *
 *      Describe an errno the way Tcl does: "POSIX ECONNREFUSED
 *      {connection refused}" and the message "connection refused".
 *----------------------------------------------------------------------
 */
void
NsSockErrorPosix(Ns_SockError *errPtr, int errnum)
{
    const char *message = Tcl_ErrnoMsg(errnum);
    const char *id;

    errno = errnum;
    id = Tcl_ErrnoId();
    NsSockErrorSet(errPtr, message, "POSIX", id, message, (char *)0);
}

/*
 *----------------------------------------------------------------------
 * SetTimeoutError --
 *
 *      The error of a connect or handshake that ran out of time.
 *----------------------------------------------------------------------
 */
static void
SetTimeoutError(Ns_SockError *errPtr)
{
    NsSockErrorSet(errPtr, "timeout", "NS_TIMEOUT", (char *)0);
}

/*
 *----------------------------------------------------------------------
 * Ns_SockWaitUntil --
 *
 *      Wait until fd is ready for events (POLLIN/POLLOUT), at most until
 *      the monotonic deadline (NULL: no limit); past the deadline it
 *      still looks once.  poll counts whole milliseconds, so the wait is
 *      rounded up, and a poll that ends early all the same waits again:
 *      "timed out" always means the deadline has passed.
 *
 * Results:
 *      1 when ready, 0 when the deadline passed, -1 with errno on error.
 *----------------------------------------------------------------------
 */
int
Ns_SockWaitUntil(int fd, short events, const Ns_Time *deadlinePtr)
{
    struct pollfd pfd;
    int           rc;

    pfd.fd = fd;
    pfd.events = events;
    for (;;) {
        int  ms = -1;
        bool passed = false;

        if (deadlinePtr != NULL) {
            Ns_Time now;
            int64_t leftUs;

            Ns_GetMonotonicTime(&now);
            leftUs = Ns_TimeToMicroseconds(deadlinePtr) - Ns_TimeToMicroseconds(&now);
            passed = (leftUs <= 0);
            ms = passed ? 0
                : (leftUs > (int64_t)INT_MAX * 1000) ? INT_MAX : (int)((leftUs + 999) / 1000);
        }
        rc = poll(&pfd, 1, ms);
        if (rc > 0 || (rc < 0 && errno != EINTR)) {
            return (rc > 0) ? 1 : -1;
        }
        if (rc == 0 && passed) {
            return 0;
        }
    }
}

/*
 *----------------------------------------------------------------------
 * ConnectFd --
 *
 *      Connect a new non-blocking socket to one address, waiting for the
 *      connection until the deadline.  TCP sockets get TCP_NODELAY, as
 *      accepted ones do.
 *
 * Results:
 *      The fd, or -1 with *errPtr filled in (*timedOutPtr true when the
 *      deadline passed).
 *----------------------------------------------------------------------
 */
static int
ConnectFd(const struct sockaddr *sa, socklen_t saLen, const Ns_Time *deadlinePtr,
          Ns_SockError *errPtr, bool *timedOutPtr)
{
    int fd, rc, err = 0, one = 1;

    *timedOutPtr = false;
    fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        NsSockErrorPosix(errPtr, errno);
        return -1;
    }
    do {
        rc = connect(fd, sa, saLen);
    } while (rc < 0 && errno == EINTR);
    if (rc < 0 && errno != EINPROGRESS) {
        err = errno;
    } else if (rc < 0) {
        socklen_t len = sizeof(err);

        rc = Ns_SockWaitUntil(fd, POLLOUT, deadlinePtr);
        if (rc == 0) {
            *timedOutPtr = true;
            SetTimeoutError(errPtr);
        } else if (rc < 0) {
            err = errno;
        } else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
            err = errno;
        }
    }
    if (err != 0 || *timedOutPtr) {
        if (err != 0) {
            NsSockErrorPosix(errPtr, err);
        }
        close(fd);
        return -1;
    }
    if (sa->sa_family != AF_UNIX) {
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    return fd;
}

/*
 *----------------------------------------------------------------------
 * NsSockAlloc --
 *
 *      Memory for a sock that leaves the driver: an outgoing one, one
 *      accepted on a listening channel, a detached one.  It lives as long
 *      as its connection, and an idle server may hold many thousands, so
 *      it comes from malloc (16-byte steps), not from Tcl's allocator
 *      (powers of two, freed blocks kept per thread).
 *
 * Results:
 *      A zeroed sock; Ns_SockDestroy frees it.
 *----------------------------------------------------------------------
 */
Ns_Sock *
NsSockAlloc(void)
{
    return ns_calloc(sizeof(Ns_Sock));
}

/*
 *----------------------------------------------------------------------
 * NewSock --
 *
 *      A sock for a connected fd, owned by the plain client driver.
 *
 * Results:
 *      The sock; free with Ns_SockDestroy.
 *----------------------------------------------------------------------
 */
static Ns_Sock *
NewSock(int fd, const struct sockaddr *sa, socklen_t saLen)
{
    Ns_Sock *sockPtr = NsSockAlloc();

    sockPtr->fd = fd;
    sockPtr->driver = NsSockClientDriver();
    if (saLen > sizeof(sockPtr->peerAddr)) {
        saLen = sizeof(sockPtr->peerAddr);
    }
    memcpy(&sockPtr->peerAddr, sa, saLen);
    NsSockSetPeer(sockPtr);
    return sockPtr;
}

/*
 *----------------------------------------------------------------------
 * StartTls --
 *
 *      Turn a connected sock into a TLS client sock and run the handshake
 *      to its end, waiting for the socket as OpenSSL asks, until the
 *      deadline.
 *
 * Results:
 *      NS_OK, NS_TIMEOUT or NS_ERROR (*errPtr filled in on failure; a
 *      failed verification reads "OPENSSL {certificate verify failed:
 *      ...}").
 *----------------------------------------------------------------------
 */
static Ns_ReturnCode
StartTls(Ns_Sock *sockPtr, const char *host, const Ns_TlsOptions *tlsPtr,
         const Ns_Time *deadlinePtr, Ns_SockError *errPtr)
{
    Ns_ReturnCode result = NS_OK;

    if (NsSslClientInit(sockPtr, host, tlsPtr, errPtr) != NS_OK) {
        return NS_ERROR;
    }
    for (;;) {
        Ns_IoStatus status = Ns_SockHandshake(sockPtr);
        int         rc;

        if (status == NS_IO_OK) {
            break;
        }
        if (status != NS_IO_WANT_READ && status != NS_IO_WANT_WRITE) {
            Ns_SockGetError(sockPtr, errPtr);
            result = NS_ERROR;
            break;
        }
        rc = Ns_SockWaitUntil(sockPtr->fd, (status == NS_IO_WANT_READ) ? POLLIN : POLLOUT,
                              deadlinePtr);
        if (rc == 0) {
            SetTimeoutError(errPtr);
            result = NS_TIMEOUT;
            break;
        } else if (rc < 0) {
            NsSockErrorPosix(errPtr, errno);
            result = NS_ERROR;
            break;
        }
    }
    return result;
}

/*
 *----------------------------------------------------------------------
 * SetDeadline --
 *
 *      The monotonic deadline of a timeout, or NULL for none.
 *----------------------------------------------------------------------
 */
static const Ns_Time *
SetDeadline(Ns_Time *deadlinePtr, const Ns_Time *timeoutPtr)
{
    if (timeoutPtr == NULL) {
        return NULL;
    }
    Ns_GetMonotonicTime(deadlinePtr);
    Ns_IncrTime(deadlinePtr, timeoutPtr->sec, timeoutPtr->usec);
    return deadlinePtr;
}

/*
 *----------------------------------------------------------------------
 * Ns_SockConnect --
 *
 *      Connect to host:port over TCP, trying each address the name
 *      resolves to (IPv4 and IPv6) in turn, and with tlsPtr run the TLS
 *      handshake (see NsSslClientInit for SNI and verification).  Connect
 *      and handshake share the one timeout; NULL means no limit.  Name
 *      resolution (getaddrinfo) blocks and is not bounded by the timeout.
 *
 * Results:
 *      A connected, non-blocking sock owned by the caller (free with
 *      Ns_SockDestroy), or NULL with *errPtr filled in: "NS RESOLVE host
 *      reason", "POSIX ECONNREFUSED {connection refused}", "NS_TIMEOUT",
 *      "OPENSSL {certificate verify failed: ...}", ...
 *----------------------------------------------------------------------
 */
Ns_Sock *
Ns_SockConnect(const char *host, int port, const Ns_TlsOptions *tlsPtr,
               const Ns_Time *timeoutPtr, Ns_SockError *errPtr)
{
    struct addrinfo  hints, *res = NULL;
    char             portString[16], name[256], message[sizeof(errPtr->message)];
    Ns_Time          deadline;
    const Ns_Time   *deadlinePtr = SetDeadline(&deadline, timeoutPtr);
    Ns_Sock         *sockPtr = NULL;
    size_t           len;
    int              rc, fd = -1;
    bool             timedOut = false;

    errPtr->errorCode[0] = errPtr->message[0] = '\0';
    if (host == NULL || port < 0 || port > 65535) {
        snprintf(message, sizeof(message), "invalid address \"%s\" port %d",
                 host != NULL ? host : "", port);
        NsSockErrorSet(errPtr, message, "NS", "INVALID", (char *)0);
        return NULL;
    }
    /* "[::1]" as in URLs. */
    len = strlen(host);
    if (len >= 2 && host[0] == '[' && host[len - 1] == ']' && len - 2 < sizeof(name)) {
        memcpy(name, host + 1, len - 2);
        name[len - 2] = '\0';
    } else {
        snprintf(name, sizeof(name), "%s", host);
    }

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    snprintf(portString, sizeof(portString), "%d", port);
    rc = getaddrinfo(name, portString, &hints, &res);
    if (rc != 0 || res == NULL) {
        const char *reason = (rc == EAI_SYSTEM) ? strerror(errno)
            : (rc != 0) ? gai_strerror(rc) : "no address";
        char        lower[100];

        snprintf(lower, sizeof(lower), "%s", reason);
        lower[0] = (char)tolower((unsigned char)lower[0]);
        snprintf(message, sizeof(message), "cannot resolve \"%.120s\": %s", name, lower);
        NsSockErrorSet(errPtr, message, "NS", "RESOLVE", name, lower, (char *)0);
        if (res != NULL) {
            freeaddrinfo(res);
        }
        return NULL;
    }
    for (const struct addrinfo *ai = res; ai != NULL && fd < 0 && !timedOut; ai = ai->ai_next) {
        fd = ConnectFd(ai->ai_addr, ai->ai_addrlen, deadlinePtr, errPtr, &timedOut);
        if (fd >= 0) {
            sockPtr = NewSock(fd, ai->ai_addr, ai->ai_addrlen);
        }
    }
    freeaddrinfo(res);

    if (sockPtr != NULL && tlsPtr != NULL
        && StartTls(sockPtr, name, tlsPtr, deadlinePtr, errPtr) != NS_OK) {
        Ns_SockDestroy(sockPtr);
        sockPtr = NULL;
    }
    return sockPtr;
}

/*
 *----------------------------------------------------------------------
 * Ns_SockConnectUnix --
 *
 *      Connect to a Unix-domain socket, and with tlsPtr run the TLS
 *      handshake (the certificate's name is checked only against
 *      tlsPtr->hostname, when given), within the timeout (NULL: none).
 *
 * Results:
 *      As Ns_SockConnect; the peer reads "unix".
 *----------------------------------------------------------------------
 */
Ns_Sock *
Ns_SockConnectUnix(const char *path, const Ns_TlsOptions *tlsPtr, const Ns_Time *timeoutPtr,
                   Ns_SockError *errPtr)
{
    struct sockaddr_un sun;
    Ns_Time            deadline;
    const Ns_Time     *deadlinePtr = SetDeadline(&deadline, timeoutPtr);
    Ns_Sock           *sockPtr = NULL;
    bool               timedOut;
    int                fd;

    errPtr->errorCode[0] = errPtr->message[0] = '\0';
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if (path == NULL || strlen(path) >= sizeof(sun.sun_path)) {
        NsSockErrorPosix(errPtr, ENAMETOOLONG);
        return NULL;
    }
    memcpy(sun.sun_path, path, strlen(path) + 1);
    fd = ConnectFd((struct sockaddr *)&sun, sizeof(sun), deadlinePtr, errPtr, &timedOut);
    if (fd >= 0) {
        sockPtr = NewSock(fd, (struct sockaddr *)&sun, sizeof(sun));
        if (tlsPtr != NULL && StartTls(sockPtr, NULL, tlsPtr, deadlinePtr, errPtr) != NS_OK) {
            Ns_SockDestroy(sockPtr);
            sockPtr = NULL;
        }
    }
    return sockPtr;
}

/*
 *----------------------------------------------------------------------
 * Ns_SockListen --
 *
 *      A non-blocking listening socket on address:port, as drivers use.
 *
 * Results:
 *      The fd (port 0: the bound port in *boundPortPtr), or -1 with errno.
 *----------------------------------------------------------------------
 */
int
Ns_SockListen(const char *address, int port, int backlog, int *boundPortPtr)
{
    int boundPort = port;
    int fd = NsSockListen(address, port, backlog, &boundPort);

    if (boundPortPtr != NULL) {
        *boundPortPtr = boundPort;
    }
    return fd;
}

/*
 *----------------------------------------------------------------------
 * Ns_SockAccept --
 *
 *      Accept one waiting connection on listenFd through the driver's
 *      acceptProc: a TLS driver attaches its server context, and the caller
 *      then completes the handshake with Ns_SockHandshake.
 *
 * Results:
 *      A new sock owned by the caller, or NULL: nothing waiting (message
 *      empty) or an error (*errPtr filled in).
 *----------------------------------------------------------------------
 */
Ns_Sock *
Ns_SockAccept(Ns_Driver *driver, int listenFd, Ns_SockError *errPtr)
{
    Ns_Sock    *sockPtr = NsSockAlloc();
    Ns_IoStatus status;

    errPtr->errorCode[0] = errPtr->message[0] = '\0';
    sockPtr->fd = -1;
    sockPtr->driver = driver;
    status = driver->procs->acceptProc(driver, listenFd, sockPtr);
    if (status != NS_IO_OK) {
        if (status == NS_IO_ERROR) {
            Ns_SockGetError(sockPtr, errPtr);
        }
        NsSockClearError(sockPtr);
        free(sockPtr);
        sockPtr = NULL;
    }
    return sockPtr;
}

/*
 *----------------------------------------------------------------------
 * Ns_SockHandshake --
 *
 *      One step of the TLS handshake of a sock (nothing to do for plain).
 *
 * Results:
 *      NS_IO_OK when complete, NS_IO_WANT_READ/WRITE, or NS_IO_ERROR
 *      (Ns_SockGetError describes it).
 *----------------------------------------------------------------------
 */
Ns_IoStatus
Ns_SockHandshake(Ns_Sock *sockPtr)
{
    const Ns_DriverProcs *procs = sockPtr->driver->procs;

    if (procs->handshakeProc == NULL || sockPtr->tls == NULL) {
        return NS_IO_OK;
    }
    return procs->handshakeProc(sockPtr);
}

/*
 *----------------------------------------------------------------------
 * Ns_SockDestroy --
 *
 *      Close a caller-owned sock through its driver (a TLS sock sends its
 *      close_notify) and free it.  NULL is ignored.
 *----------------------------------------------------------------------
 */
void
Ns_SockDestroy(Ns_Sock *sockPtr)
{
    if (sockPtr != NULL) {
        if (sockPtr->fd >= 0 || sockPtr->tls != NULL) {
            Ns_SockClose(sockPtr);
        }
        NsSockClearError(sockPtr);
        free(sockPtr);
    }
}

/*
 *----------------------------------------------------------------------
 * Ns_SockGetError --
 *
 *      Describe the last NS_IO_ERROR of a sock: "POSIX ECONNRESET
 *      {connection reset by peer}" when it has an errno, "OPENSSL
 *      {reason}" for a TLS failure.
 *----------------------------------------------------------------------
 */
void
Ns_SockGetError(const Ns_Sock *sockPtr, Ns_SockError *errPtr)
{
    const char *text = Ns_SockErrorString(sockPtr);

    if (sockPtr->errnum != 0) {
        NsSockErrorPosix(errPtr, sockPtr->errnum);
    } else if (sockPtr->tls != NULL) {
        NsSockErrorSet(errPtr, text, "OPENSSL", text, (char *)0);
    } else {
        const char *message = (text[0] != '\0') ? text : "unknown error";

        NsSockErrorSet(errPtr, message, "NS", "IO", message, (char *)0);
    }
}

/*
 *----------------------------------------------------------------------
 * Ns_SockErrorString --
 *
 *      The text of the last NS_IO_ERROR of a sock, for logs: strerror of
 *      its errno, or the text kept for an error without one (TLS).
 *
 * Results:
 *      The text, "" when there is none; valid until the next error of
 *      the sock.
 *----------------------------------------------------------------------
 */
const char *
Ns_SockErrorString(const Ns_Sock *sockPtr)
{
    return (sockPtr->errnum != 0) ? strerror(sockPtr->errnum)
         : (sockPtr->errorMsg != NULL) ? sockPtr->errorMsg : "";
}
