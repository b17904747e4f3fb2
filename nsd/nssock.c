/*
 * nssock.c --
 *
 *      The plain TCP driver (nssock): the driver table's functions for
 *      IPv4 and IPv6 sockets, all non-blocking.  Also the helpers every
 *      driver shares: listening, accepting, recording errors, waiting for
 *      readiness, sending it all; and the "nssock" client driver that
 *      outgoing plain sockets (Ns_SockConnect) belong to.
 */

#include "nsd.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/tcp.h>

/*
 *----------------------------------------------------------------------
 * NsSockSetError, NsSockSetErrorText, NsSockClearError --
 *
 *      Record an error in the sock for the layers above: an errno, whose
 *      text strerror gives when asked for (Ns_SockErrorString); or, for
 *      an error without one (TLS), a copy of its text.  Most socks never
 *      fail, so none carries room for a message: the copy is allocated
 *      when needed.  NsSockClearError frees it, as a sock is freed.
 *
 * Results:
 *      NS_IO_ERROR.
 *
 * Side effects:
 *      Sets sockPtr->errnum and sockPtr->errorMsg (malloc'd, or NULL).
 *----------------------------------------------------------------------
 */
Ns_IoStatus
NsSockSetError(Ns_Sock *sockPtr, int errnum)
{
    NsSockClearError(sockPtr);
    sockPtr->errnum = errnum;
    return NS_IO_ERROR;
}

Ns_IoStatus
NsSockSetErrorText(Ns_Sock *sockPtr, const char *message)
{
    size_t size = strlen(message) + 1;

    NsSockClearError(sockPtr);
    sockPtr->errnum = 0;
    sockPtr->errorMsg = memcpy(ns_malloc(size), message, size);
    return NS_IO_ERROR;
}

void
NsSockClearError(Ns_Sock *sockPtr)
{
    free(sockPtr->errorMsg);
    sockPtr->errorMsg = NULL;
}

/*
 *----------------------------------------------------------------------
 * NsSockSetPeer --
 *
 *      Fill in the text form of the peer address of a socket.
 *----------------------------------------------------------------------
 */
_Static_assert(NS_PEER_TEXT_SIZE >= sizeof("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
               "the longest IPv6 text fits");

void
NsSockSetPeer(Ns_Sock *sockPtr)
{
    const struct sockaddr *sa = (const struct sockaddr *)&sockPtr->peerAddr;

    sockPtr->peer[0] = '\0';
    sockPtr->peerPort = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

        if (inet_ntop(AF_INET, &sin->sin_addr, sockPtr->peer, sizeof(sockPtr->peer)) == NULL) {
            sockPtr->peer[0] = '\0';
        }
        sockPtr->peerPort = ntohs(sin->sin_port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

        if (inet_ntop(AF_INET6, &sin6->sin6_addr, sockPtr->peer, sizeof(sockPtr->peer)) == NULL) {
            sockPtr->peer[0] = '\0';
        }
        sockPtr->peerPort = ntohs(sin6->sin6_port);
        /* A v4 client on a dual-stack socket: show it as the v4 address. */
        if (strncmp(sockPtr->peer, "::ffff:", 7) == 0 && strchr(sockPtr->peer, '.') != NULL) {
            memmove(sockPtr->peer, sockPtr->peer + 7, strlen(sockPtr->peer + 7) + 1);
        }
    } else if (sa->sa_family == AF_UNIX) {
        snprintf(sockPtr->peer, sizeof(sockPtr->peer), "unix");
    }
}

/*
 *----------------------------------------------------------------------
 * NsSockListen --
 *
 *      Create a non-blocking listening socket on address:port.  An empty
 *      address or "0.0.0.0"/"::" listens on all addresses.
 *
 * Results:
 *      The fd, or -1 with errno set; *boundPortPtr gets the port actually
 *      bound (useful with port 0).
 *----------------------------------------------------------------------
 */
int
NsSockListen(const char *address, int port, int backlog, int *boundPortPtr)
{
    struct addrinfo  hints, *res = NULL;
    char             portString[16];
    int              fd = -1, rc, one = 1, savedErrno = 0;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    snprintf(portString, sizeof(portString), "%d", port);
    rc = getaddrinfo(NS_STRING_EMPTY(address) ? NULL : address, portString, &hints, &res);
    if (rc != 0) {
        Ns_Log(Error, "nssock: cannot resolve \"%s\": %s", address, gai_strerror(rc));
        errno = EINVAL;
        return -1;
    }
    for (const struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    ai->ai_protocol);
        if (fd < 0) {
            savedErrno = errno;
            continue;
        }
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, backlog) == 0) {
            struct sockaddr_storage sa;
            socklen_t               len = sizeof(sa);

            if (getsockname(fd, (struct sockaddr *)&sa, &len) == 0) {
                *boundPortPtr = (sa.ss_family == AF_INET6)
                    ? ntohs(((struct sockaddr_in6 *)&sa)->sin6_port)
                    : ntohs(((struct sockaddr_in *)&sa)->sin_port);
            }
            break;
        }
        savedErrno = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        errno = savedErrno;
    }
    return fd;
}

/*
 *----------------------------------------------------------------------
 * NsSockAccept --
 *
 *      Accept one connection, non-blocking, with TCP_NODELAY: responses
 *      and WebSocket frames are written whole, so Nagle only adds delay.
 *      This is nssock's acceptProc and the first half of nsssl's.
 *
 * Results:
 *      NS_IO_OK (sockPtr->fd and the peer set), NS_IO_WANT_READ when
 *      nothing is waiting, or NS_IO_ERROR.
 *----------------------------------------------------------------------
 */
Ns_IoStatus
NsSockAccept(Ns_Driver *UNUSED(driver), int listenFd, Ns_Sock *sockPtr)
{
    socklen_t   len = sizeof(sockPtr->peerAddr);
    Ns_IoStatus status = NS_IO_OK;
    int         fd, one = 1;

    fd = accept4(listenFd, (struct sockaddr *)&sockPtr->peerAddr, &len,
                 SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
        status = (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR
                  || errno == ECONNABORTED)
            ? NS_IO_WANT_READ : NsSockSetError(sockPtr, errno);
    } else {
        sockPtr->fd = fd;
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        NsSockSetPeer(sockPtr);
    }
    return status;
}

/*
 *----------------------------------------------------------------------
 * SockRecv, SockSend --
 *
 *      Plain non-blocking I/O.  EAGAIN becomes "want read/write".
 *----------------------------------------------------------------------
 */
static Ns_IoStatus
SockRecv(Ns_Sock *sockPtr, void *buf, size_t len, size_t *nPtr)
{
    ssize_t     n;
    Ns_IoStatus status;

    do {
        n = recv(sockPtr->fd, buf, len, 0);
    } while (n < 0 && errno == EINTR);
    if (n > 0) {
        *nPtr = (size_t)n;
        status = NS_IO_OK;
    } else if (n == 0) {
        *nPtr = 0;
        status = NS_IO_EOF;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
        status = NS_IO_WANT_READ;
    } else {
        status = NsSockSetError(sockPtr, errno);
    }
    return status;
}

static Ns_IoStatus
SockSend(Ns_Sock *sockPtr, const struct iovec *iov, int iovcnt, size_t *nPtr)
{
    struct msghdr msg;
    ssize_t       n;
    Ns_IoStatus   status;

    memset(&msg, 0, sizeof(msg));
    msg.msg_iov = (struct iovec *)iov;
    msg.msg_iovlen = (size_t)iovcnt;
    do {
        /* MSG_NOSIGNAL: a vanished peer is an error, not a SIGPIPE. */
        n = sendmsg(sockPtr->fd, &msg, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n >= 0) {
        *nPtr = (size_t)n;
        status = NS_IO_OK;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
        *nPtr = 0;
        status = NS_IO_WANT_WRITE;
    } else {
        status = NsSockSetError(sockPtr, errno);
    }
    return status;
}

static void
SockClose(Ns_Sock *sockPtr)
{
    if (sockPtr->fd >= 0) {
        close(sockPtr->fd);
        sockPtr->fd = -1;
    }
}

static const Ns_DriverProcs sockProcs = {
    "nssock", "http", 80,
    NULL,           /* initProc: nothing beyond the common config */
    NsSockAccept,
    NULL,           /* handshakeProc: plain TCP has none */
    SockRecv,
    SockSend,
    SockClose
};

/*
 * The driver of outgoing plain sockets, which no config section describes.
 * Only its procs and sendwait matter (Ns_SockSendAll with a NULL timeout).
 */
static Ns_Driver clientDriver = {
    .procs = &sockProcs,
    .moduleName = "nssock",
    .address = "",
    .listenFd = -1,
    .recvwait = {30, 0},
    .sendwait = {30, 0}     /* the only limit an outgoing socket uses */
};

/*
 *----------------------------------------------------------------------
 * NsSockDriverProcs, NsSockClientDriver --
 *
 *      The nssock driver table, for configured drivers; and the driver
 *      that outgoing plain sockets belong to.
 *
 * Results:
 *      Static data, never freed.
 *----------------------------------------------------------------------
 */
const Ns_DriverProcs *
NsSockDriverProcs(void)
{
    return &sockProcs;
}

Ns_Driver *
NsSockClientDriver(void)
{
    return &clientDriver;
}

/*
 *----------------------------------------------------------------------
 * Ns_SockRecv, Ns_SockSend, Ns_SockClose --
 *
 *      Calls through the driver table of the sock.
 *----------------------------------------------------------------------
 */
Ns_IoStatus
Ns_SockRecv(Ns_Sock *sockPtr, void *buf, size_t len, size_t *nPtr)
{
    return sockPtr->driver->procs->recvProc(sockPtr, buf, len, nPtr);
}

Ns_IoStatus
Ns_SockSend(Ns_Sock *sockPtr, const struct iovec *iov, int iovcnt, size_t *nPtr)
{
    return sockPtr->driver->procs->sendProc(sockPtr, iov, iovcnt, nPtr);
}

void
Ns_SockClose(Ns_Sock *sockPtr)
{
    sockPtr->driver->procs->closeProc(sockPtr);
}

/*
 *----------------------------------------------------------------------
 * Ns_SockSendAll --
 *
 *      Send every byte of the iovec, waiting for the socket as needed, for
 *      at most the timeout in all.  Used by connection threads, which may
 *      block; the event thread never calls it.
 *
 * Results:
 *      NS_OK, NS_TIMEOUT, or NS_ERROR (reason: Ns_SockErrorString).
 *----------------------------------------------------------------------
 */
Ns_ReturnCode
Ns_SockSendAll(Ns_Sock *sockPtr, const struct iovec *iov, int iovcnt,
               const Ns_Time *timeoutPtr)
{
    struct iovec  local[16], *vec = local, *allocated = NULL;
    Ns_Time       deadline;
    Ns_ReturnCode result = NS_OK;

    if (timeoutPtr == NULL) {
        timeoutPtr = &sockPtr->driver->sendwait;
    }
    if (iovcnt > (int)(sizeof(local) / sizeof(local[0]))) {
        allocated = ckalloc(sizeof(struct iovec) * (size_t)iovcnt);
        vec = allocated;
    }
    memcpy(vec, iov, sizeof(struct iovec) * (size_t)iovcnt);
    Ns_GetMonotonicTime(&deadline);
    Ns_IncrTime(&deadline, timeoutPtr->sec, timeoutPtr->usec);

    while (iovcnt > 0 && result == NS_OK) {
        size_t      n = 0;
        Ns_IoStatus status = Ns_SockSend(sockPtr, vec, iovcnt, &n);

        if (status == NS_IO_OK) {
            /* Drop what went out; keep the rest of a partly sent buffer. */
            while (iovcnt > 0 && n >= vec[0].iov_len) {
                n -= vec[0].iov_len;
                vec++;
                iovcnt--;
            }
            if (iovcnt > 0) {
                vec[0].iov_base = (char *)vec[0].iov_base + n;
                vec[0].iov_len -= n;
            }
        } else if (status == NS_IO_WANT_READ || status == NS_IO_WANT_WRITE) {
            int rc = Ns_SockWaitUntil(sockPtr->fd,
                                      (status == NS_IO_WANT_READ) ? POLLIN : POLLOUT, &deadline);

            if (rc <= 0) {
                result = (rc == 0) ? NS_TIMEOUT : NS_ERROR;
                NsSockSetError(sockPtr, (rc == 0) ? ETIMEDOUT : errno);
            }
        } else {
            result = NS_ERROR;
        }
    }
    if (allocated != NULL) {
        ckfree(allocated);
    }
    return result;
}
