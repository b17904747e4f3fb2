/*
 * driver.c --
 *
 *      Driver threads.  Each configured driver (ns/modules) has one thread
 *      that accepts connections, completes the TLS handshake for TLS drivers,
 *      reads and parses request heads and bodies with the configured limits,
 *      answers malformed or oversized requests itself, and queues complete
 *      requests to the server's connection threads.  Keep-alive connections
 *      come back here to wait for their next request.
 *
 *      A sock is owned by exactly one thread at a time: by the driver thread
 *      while it is in the driver's list, by a connection thread while queued
 *      or served.  Ownership moves only through NsQueueConn and NsSockReturn.
 */

#include "nsd.h"
#include "request.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define READ_CHUNK        16384    /* bytes asked for per recv */
#define READ_BUDGET       65536    /* bytes read per sock per wake-up: fairness */
#define ACCEPT_BUDGET     64       /* connections accepted per wake-up */
#define TIMER_INTERVAL_MS 200      /* how often deadlines are checked */
#define EARLY_PARSE_LIMIT 16384    /* heads up to this size are parsed at each line end */
#define ACCEPT_PAUSE_MS   100      /* no accept for this long when out of descriptors */

static Driver *firstDrvPtr = NULL;

/* epoll tags of the two fds that are not socks. */
static char listenTag, wakeTag;

static void *DriverThread(void *arg);
static void  SockAccept(Driver *drvPtr);
static bool  RefuseWaiting(Driver *drvPtr);
static void  SockRead(Driver *drvPtr, Sock *sockPtr);
static void  SockMakeRoom(Sock *sockPtr, size_t n);
static bool  SockProcess(Driver *drvPtr, Sock *sockPtr);
static bool  HeadMayBeReady(const Driver *drvPtr, Sock *sockPtr);
static void  SockWatch(Driver *drvPtr, Sock *sockPtr, uint32_t events, bool add);
static void  SockUnlink(Driver *drvPtr, Sock *sockPtr);
static void  SockLink(Driver *drvPtr, Sock *sockPtr);
static void  SockSetIdleDeadline(Sock *sockPtr);
static void  SockCloseInDriver(Driver *drvPtr, Sock *sockPtr);
static void  TakeReturnedSocks(Driver *drvPtr);
static void  CheckDeadlines(Driver *drvPtr);

/*
 *----------------------------------------------------------------------
 * ConfigDriver --
 *
 *      Create one driver from its ns/module/NAME section.  The values the
 *      driver uses are written back as defaults so ns_config shows them.
 *
 * Results:
 *      The driver, or NULL (logged) for an unknown driver type.
 *----------------------------------------------------------------------
 */
static Driver *
ConfigDriver(const char *moduleName, const char *type)
{
    const Ns_DriverProcs *procs = NULL;
    Driver               *drvPtr;
    Ns_Driver            *d;
    const char           *section;
    size_t                typeLen = strlen(type);

    if (typeLen > 3 && strcmp(type + typeLen - 3, ".so") == 0) {
        typeLen -= 3;
    }
    if (strncmp(type, "nssock", typeLen) == 0 && typeLen == 6) {
        procs = NsSockDriverProcs();
    } else if (strncmp(type, "nsssl", typeLen) == 0 && typeLen == 5) {
        procs = NsSslDriverProcs();
    } else {
        Ns_Log(Error, "driver: module \"%s\": unknown driver \"%s\"", moduleName, type);
        return NULL;
    }

    section = Ns_ConfigGetPath(NULL, moduleName, (char *)0);
    drvPtr = ckalloc(sizeof(Driver));
    memset(drvPtr, 0, sizeof(Driver));
    d = &drvPtr->base;
    d->procs = procs;
    d->moduleName = ns_strdup(moduleName);
    d->section = section;
    d->address = Ns_ConfigString(section, "address", "0.0.0.0");
    d->port = Ns_ConfigIntRange(section, "port", procs->defaultPort, 0, 65535);
    d->hostname = Ns_ConfigString(section, "hostname", NULL);
    d->backlog = Ns_ConfigIntRange(section, "backlog", 256, 1, 65535);
    d->maxinput = Ns_ConfigWideInt(section, "maxinput", 1024 * 1024);
    d->maxline = Ns_ConfigIntRange(section, "maxline", 8192, 256, 1024 * 1024);
    d->maxheaders = Ns_ConfigIntRange(section, "maxheaders", 128, 1, 10000);
    d->maxheaderline = d->maxline;
    d->maxsock = Ns_ConfigIntRange(section, "maxsock", 100000, 1, INT_MAX);
    Ns_ConfigTime(section, "recvwait", "30s", &d->recvwait);
    Ns_ConfigTime(section, "sendwait", "30s", &d->sendwait);
    Ns_ConfigTime(section, "keepwait", "5s", &d->keepwait);
    d->server = Ns_ConfigString(section, "defaultserver", NULL);
    d->listenFd = -1;
    drvPtr->epollFd = -1;
    drvPtr->wakeFd = -1;
    drvPtr->reserveFd = -1;
    pthread_mutex_init(&drvPtr->lock, NULL);

    NsConfigSetDefault(section, "driver", procs->name);
    NsConfigSetDefault(section, "address", d->address);
    if (procs->initProc != NULL && procs->initProc(d, section) != NS_OK) {
        Ns_Log(Error, "driver: %s: initialisation failed", moduleName);
        ckfree(drvPtr);
        return NULL;
    }
    return drvPtr;
}

/*
 *----------------------------------------------------------------------
 * NsInitDrivers --
 *
 *      Create the drivers named in ns/modules (NaviServer 5 style:
 *      "ns_param http nssock") and bind their listening sockets, so that a
 *      port already in use is a start-up error, not a silent failure.
 *
 * Results:
 *      NS_OK, or NS_ERROR when a driver cannot be created or bound.
 *----------------------------------------------------------------------
 */
Ns_ReturnCode
NsInitDrivers(void)
{
    const Ns_Set *modules = Ns_ConfigGetSection("ns/modules");
    Driver      **lastPtrPtr = &firstDrvPtr;
    Ns_ReturnCode status = NS_OK;

    for (size_t i = 0; modules != NULL && i < Ns_SetSize(modules) && status == NS_OK; i++) {
        Driver *drvPtr = ConfigDriver(Ns_SetKey(modules, i), Ns_SetValue(modules, i));

        if (drvPtr == NULL) {
            status = NS_ERROR;
            break;
        }
        if (drvPtr->base.server == NULL) {
            drvPtr->base.server = NsDefaultServer()->name;
        } else if (NsGetServer(drvPtr->base.server) == NULL) {
            Ns_Log(Error, "driver: %s: no such server \"%s\"", drvPtr->base.moduleName,
                   drvPtr->base.server);
            status = NS_ERROR;
            break;
        }
        drvPtr->base.listenFd = NsSockListen(drvPtr->base.address, drvPtr->base.port,
                                             drvPtr->base.backlog, &drvPtr->base.boundPort);
        if (drvPtr->base.listenFd < 0) {
            Ns_Log(Error, "%s: cannot listen on [%s]:%d: %s", drvPtr->base.moduleName,
                   drvPtr->base.address, drvPtr->base.port, strerror(errno));
            status = NS_ERROR;
            break;
        }
        *lastPtrPtr = drvPtr;
        lastPtrPtr = &drvPtr->nextPtr;
    }
    if (status == NS_OK && firstDrvPtr == NULL) {
        Ns_Log(Warning, "driver: no drivers configured in ns/modules: serving nothing");
    }
    return status;
}

/*
 *----------------------------------------------------------------------
 * Ns_DriverFind --
 *
 *      Find a driver by its module name ("http") or its type ("nssock").
 *
 * Results:
 *      The driver, or NULL.
 *----------------------------------------------------------------------
 */
Ns_Driver *
Ns_DriverFind(const char *name)
{
    for (Driver *drvPtr = firstDrvPtr; drvPtr != NULL; drvPtr = drvPtr->nextPtr) {
        if (strcmp(drvPtr->base.moduleName, name) == 0
            || strcmp(drvPtr->base.procs->name, name) == 0) {
            return &drvPtr->base;
        }
    }
    return NULL;
}

/*
 *----------------------------------------------------------------------
 * NsStartDrivers --
 *
 *      Start one thread per driver and log where each listens.
 *
 * Results:
 *      NS_OK, or NS_ERROR when a thread or epoll set cannot be created.
 *----------------------------------------------------------------------
 */
Ns_ReturnCode
NsStartDrivers(void)
{
    Ns_ReturnCode status = NS_OK;

    for (Driver *drvPtr = firstDrvPtr; drvPtr != NULL && status == NS_OK;
         drvPtr = drvPtr->nextPtr) {
        struct epoll_event ev;

        drvPtr->epollFd = epoll_create1(EPOLL_CLOEXEC);
        drvPtr->wakeFd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        drvPtr->reserveFd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (drvPtr->epollFd < 0 || drvPtr->wakeFd < 0 || drvPtr->reserveFd < 0) {
            Ns_Log(Error, "driver: %s: %s", drvPtr->base.moduleName, strerror(errno));
            status = NS_ERROR;
            break;
        }
        ev.events = EPOLLIN;
        ev.data.ptr = &listenTag;
        epoll_ctl(drvPtr->epollFd, EPOLL_CTL_ADD, drvPtr->base.listenFd, &ev);
        ev.data.ptr = &wakeTag;
        epoll_ctl(drvPtr->epollFd, EPOLL_CTL_ADD, drvPtr->wakeFd, &ev);
        if (pthread_create(&drvPtr->thread, NULL, DriverThread, drvPtr) != 0) {
            Ns_Log(Error, "driver: %s: cannot start thread", drvPtr->base.moduleName);
            status = NS_ERROR;
            break;
        }
        drvPtr->started = true;
        Ns_Log(Notice, "%s: listening on [%s]:%d, serving %s://%s%s%s:%d/",
               drvPtr->base.moduleName, drvPtr->base.address, drvPtr->base.boundPort,
               drvPtr->base.procs->protocol,
               strchr(drvPtr->base.address, ':') != NULL ? "[" : "", drvPtr->base.address,
               strchr(drvPtr->base.address, ':') != NULL ? "]" : "", drvPtr->base.boundPort);
    }
    return status;
}

/*
 *----------------------------------------------------------------------
 * Wake --
 *
 *      Interrupt the driver thread's epoll_wait.
 *----------------------------------------------------------------------
 */
static void
Wake(Driver *drvPtr)
{
    uint64_t one = 1;

    if (write(drvPtr->wakeFd, &one, sizeof(one)) < 0 && errno != EAGAIN) {
        Ns_Log(Bug, "driver: wake-up failed: %s", strerror(errno));
    }
}

/*
 *----------------------------------------------------------------------
 * NsStopDrivers --
 *
 *      Stop accepting: each driver thread closes its listening socket and
 *      its idle connections, then exits.  Requests being served finish;
 *      their sockets are closed when they come back.
 *----------------------------------------------------------------------
 */
void
NsStopDrivers(void)
{
    for (Driver *drvPtr = firstDrvPtr; drvPtr != NULL; drvPtr = drvPtr->nextPtr) {
        if (drvPtr->started) {
            pthread_mutex_lock(&drvPtr->lock);
            drvPtr->stopping = true;
            pthread_mutex_unlock(&drvPtr->lock);
            Wake(drvPtr);
        }
    }
    for (Driver *drvPtr = firstDrvPtr; drvPtr != NULL; drvPtr = drvPtr->nextPtr) {
        if (drvPtr->started) {
            pthread_join(drvPtr->thread, NULL);
            drvPtr->started = false;
        }
    }
}

/*
 *----------------------------------------------------------------------
 * NsSockReturn --
 *
 *      A connection thread is done with a keep-alive sock: hand it back to
 *      its driver thread to wait for the next request.  When the driver is
 *      stopping, the sock is closed instead.
 *----------------------------------------------------------------------
 */
void
NsSockReturn(Sock *sockPtr)
{
    Driver *drvPtr = sockPtr->drvPtr;
    bool    stopping;

    pthread_mutex_lock(&drvPtr->lock);
    stopping = drvPtr->stopping;
    if (!stopping) {
        sockPtr->nextPtr = drvPtr->returnedPtr;
        drvPtr->returnedPtr = sockPtr;
    }
    pthread_mutex_unlock(&drvPtr->lock);
    if (stopping) {
        NsSockRelease(sockPtr);
    } else {
        Wake(drvPtr);
    }
}

/*
 *----------------------------------------------------------------------
 * NsSockRelease --
 *
 *      Close a sock and free it, from whichever thread owns it.
 *----------------------------------------------------------------------
 */
void
NsSockRelease(Sock *sockPtr)
{
    if (sockPtr->base.fd >= 0) {
        Ns_SockClose(&sockPtr->base);
    }
    NsSockForget(sockPtr->drvPtr);
    NsSockClearError(&sockPtr->base);
    ckfree(sockPtr->buf);
    ckfree(sockPtr);
}

/*
 *----------------------------------------------------------------------
 * NsSockForget --
 *
 *      A sock of the driver is gone (closed, or detached by the
 *      application): it no longer counts against maxsock.  A driver that
 *      stopped accepting at maxsock is woken to accept again.
 *----------------------------------------------------------------------
 */
void
NsSockForget(Driver *drvPtr)
{
    if (atomic_fetch_sub(&drvPtr->nopen, 1) == drvPtr->base.maxsock) {
        Wake(drvPtr);
    }
}

/*
 *----------------------------------------------------------------------
 * DriverThread --
 *
 *      The driver's event loop: accept, read, parse, queue; return of
 *      keep-alive socks; deadlines.
 *----------------------------------------------------------------------
 */
static void *
DriverThread(void *arg)
{
    Driver            *drvPtr = arg;
    struct epoll_event events[64];
    Ns_Time            lastCheck, now;
    bool               stopping = false;
    char               name[64];

    snprintf(name, sizeof(name), "driver:%s", drvPtr->base.moduleName);
    NsLogSetThreadName(name);
    Ns_GetMonotonicTime(&lastCheck);
    drvPtr->readBuf = ckalloc(READ_CHUNK);

    while (!stopping) {
        int n = epoll_wait(drvPtr->epollFd, events, 64, TIMER_INTERVAL_MS);

        if (n < 0 && errno != EINTR) {
            Ns_Log(Error, "driver: epoll_wait: %s", strerror(errno));
            break;
        }
        for (int i = 0; i < n; i++) {
            void *tag = events[i].data.ptr;

            if (tag == &listenTag) {
                SockAccept(drvPtr);
            } else if (tag == &wakeTag) {
                uint64_t count;

                (void)!read(drvPtr->wakeFd, &count, sizeof(count));
                pthread_mutex_lock(&drvPtr->lock);
                stopping = drvPtr->stopping;
                pthread_mutex_unlock(&drvPtr->lock);
                TakeReturnedSocks(drvPtr);
            } else {
                SockRead(drvPtr, tag);
            }
        }
        Ns_GetMonotonicTime(&now);
        if (drvPtr->acceptPaused && atomic_load(&drvPtr->nopen) < drvPtr->base.maxsock
            && Ns_DiffTime(&now, &drvPtr->acceptResume, NULL) >= 0) {
            struct epoll_event ev;

            ev.events = EPOLLIN;
            ev.data.ptr = &listenTag;
            epoll_ctl(drvPtr->epollFd, EPOLL_CTL_ADD, drvPtr->base.listenFd, &ev);
            drvPtr->acceptPaused = false;
        }
        if (Ns_TimeToMilliseconds(&now) - Ns_TimeToMilliseconds(&lastCheck)
            >= TIMER_INTERVAL_MS) {
            CheckDeadlines(drvPtr);
            lastCheck = now;
        }
    }

    /* Shutdown: nothing more is accepted; idle and half-read socks close. */
    close(drvPtr->base.listenFd);
    drvPtr->base.listenFd = -1;
    TakeReturnedSocks(drvPtr);
    while (drvPtr->socksPtr != NULL) {
        SockCloseInDriver(drvPtr, drvPtr->socksPtr);
    }
    close(drvPtr->epollFd);
    if (drvPtr->reserveFd >= 0) {
        close(drvPtr->reserveFd);
    }
    ckfree(drvPtr->readBuf);
    drvPtr->readBuf = NULL;
    Ns_Log(Notice, "%s: stopped", drvPtr->base.moduleName);
    return NULL;
}

/*
 *----------------------------------------------------------------------
 * RefuseWaiting --
 *
 *      Out of descriptors: give up the reserve descriptor for a moment to
 *      accept each waiting connection and refuse it (a 503 over plain
 *      HTTP; a TLS client just sees the close), so that clients get an
 *      answer at once instead of hanging in the backlog.  Connections
 *      already served are not touched.
 *
 * Results:
 *      true when the reserve descriptor is held again, so the next
 *      overflow can be refused too.
 *----------------------------------------------------------------------
 */
static bool
RefuseWaiting(Driver *drvPtr)
{
    static const char reply[] =
        "HTTP/1.1 503 Service Unavailable\r\n"
        "Content-Type: text/plain\r\n"
        "Content-Length: 34\r\n"
        "Connection: close\r\n"
        "\r\n"
        "Server busy: out of descriptors.\r\n";
    bool plain = (drvPtr->base.procs->handshakeProc == NULL);

    if (drvPtr->reserveFd < 0) {
        drvPtr->reserveFd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        return false;
    }
    close(drvPtr->reserveFd);
    for (int i = 0; i < ACCEPT_BUDGET; i++) {
        char discard[4096];
        int  fd = accept4(drvPtr->base.listenFd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd < 0) {
            break;
        }
        /*
         * Read what the client sent before closing: a close with unread
         * bytes is a reset, which could destroy the 503 before the client
         * reads it.
         */
        (void)!recv(fd, discard, sizeof(discard), 0);
        if (plain) {
            (void)!send(fd, reply, sizeof(reply) - 1, MSG_NOSIGNAL);
        }
        shutdown(fd, SHUT_WR);
        close(fd);
        drvPtr->refused++;
    }
    drvPtr->reserveFd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    return drvPtr->reserveFd >= 0;
}

/*
 *----------------------------------------------------------------------
 * SockAccept --
 *
 *      Accept what is waiting, up to a budget so that a connection flood
 *      cannot starve reading.  Running out of descriptors is logged once
 *      per burst and the connection left in the backlog.
 *----------------------------------------------------------------------
 */
static void
SockAccept(Driver *drvPtr)
{
    for (int i = 0; i < ACCEPT_BUDGET; i++) {
        Sock       *sockPtr;
        Ns_IoStatus status;

        if (atomic_load(&drvPtr->nopen) >= drvPtr->base.maxsock) {
            /*
             * Leave new connections in the backlog until a sock closes: the
             * listening fd leaves the (level-triggered) epoll set meanwhile,
             * or the thread would spin on it.
             */
            Ns_Log(Warning, "%s: maxsock %d reached, not accepting", drvPtr->base.moduleName,
                   drvPtr->base.maxsock);
            epoll_ctl(drvPtr->epollFd, EPOLL_CTL_DEL, drvPtr->base.listenFd, NULL);
            drvPtr->acceptPaused = true;
            break;
        }
        sockPtr = ckalloc(sizeof(Sock));
        memset(sockPtr, 0, sizeof(Sock));
        sockPtr->base.fd = -1;
        sockPtr->base.driver = &drvPtr->base;
        sockPtr->drvPtr = drvPtr;
        status = drvPtr->base.procs->acceptProc(&drvPtr->base, drvPtr->base.listenFd,
                                                &sockPtr->base);
        if (status != NS_IO_OK) {
            int errnum = sockPtr->base.errnum;

            NsSockClearError(&sockPtr->base);
            ckfree(sockPtr);
            if (status == NS_IO_ERROR && (errnum == EMFILE || errnum == ENFILE)) {
                if (!drvPtr->refusing) {
                    Ns_Log(Warning, "%s: accept: %s: refusing new connections",
                           drvPtr->base.moduleName, strerror(errnum));
                    drvPtr->refusing = true;
                }
                if (!RefuseWaiting(drvPtr)) {
                    /*
                     * Not even the reserve descriptor could be had: leave
                     * new connections in the backlog for a moment, as at
                     * maxsock, instead of failing on every turn.
                     */
                    epoll_ctl(drvPtr->epollFd, EPOLL_CTL_DEL, drvPtr->base.listenFd, NULL);
                    drvPtr->acceptPaused = true;
                    Ns_GetMonotonicTime(&drvPtr->acceptResume);
                    Ns_IncrTime(&drvPtr->acceptResume, 0, ACCEPT_PAUSE_MS * 1000);
                }
            } else if (status == NS_IO_ERROR) {
                Ns_Log(Warning, "%s: accept: %s", drvPtr->base.moduleName,
                       strerror(errnum));
            }
            break;
        }
        if (drvPtr->refusing) {
            Ns_Log(Notice, "%s: accepting again, after refusing %lu connections",
                   drvPtr->base.moduleName, drvPtr->refused);
            drvPtr->refusing = false;
            drvPtr->refused = 0;
        }
        atomic_fetch_add(&drvPtr->nopen, 1);
        sockPtr->servPtr = NsGetServer(drvPtr->base.server);
        sockPtr->handshakeDone = (drvPtr->base.procs->handshakeProc == NULL);
        sockPtr->state = SOCK_READ_HEAD;
        SockSetIdleDeadline(sockPtr);
        SockLink(drvPtr, sockPtr);
        SockWatch(drvPtr, sockPtr, EPOLLIN, true);
        /* Often the request is already there: read it without another wait. */
        SockRead(drvPtr, sockPtr);
    }
}

/*
 *----------------------------------------------------------------------
 * SockRead --
 *
 *      The sock is readable (or the TLS handshake wants to go on): read
 *      what is there, within the per-wake-up budget, and process it.
 *----------------------------------------------------------------------
 */
static void
SockRead(Driver *drvPtr, Sock *sockPtr)
{
    size_t      budget = READ_BUDGET;
    Ns_IoStatus status = NS_IO_OK;

    if (sockPtr->state == SOCK_QUEUED) {
        return;
    }
    if (!sockPtr->handshakeDone) {
        status = drvPtr->base.procs->handshakeProc(&sockPtr->base);
        if (status == NS_IO_OK) {
            sockPtr->handshakeDone = true;
            SockWatch(drvPtr, sockPtr, EPOLLIN, false);
        } else if (status == NS_IO_WANT_READ || status == NS_IO_WANT_WRITE) {
            SockWatch(drvPtr, sockPtr, status == NS_IO_WANT_READ ? EPOLLIN : EPOLLOUT, false);
            return;
        } else {
            Ns_Log(Debug, "%s: handshake with %s failed: %s", drvPtr->base.moduleName,
                   sockPtr->base.peer, Ns_SockErrorString(&sockPtr->base));
            SockCloseInDriver(drvPtr, sockPtr);
            return;
        }
    }

    /*
     * Always offer READ_CHUNK bytes (one whole TLS record): a TLS driver
     * then never keeps decrypted bytes inside the library that epoll cannot
     * see.  Unless the sock's buffer has that much room (a big body), they
     * arrive in the driver's buffer and are then copied: a sock's buffer is
     * sized to what came, a few hundred bytes for most requests, instead of
     * twice READ_CHUNK for every request in flight.
     */
    while (budget > 0) {
        size_t n = 0;
        bool   direct = (sockPtr->size - sockPtr->len >= READ_CHUNK + 1);

        status = Ns_SockRecv(&sockPtr->base, direct ? sockPtr->buf + sockPtr->len
                                                    : drvPtr->readBuf, READ_CHUNK, &n);
        if (status == NS_IO_WANT_WRITE && !sockPtr->watchWrite) {
            /* TLS must write (key update) before it can read on: wait for that. */
            sockPtr->watchWrite = true;
            SockWatch(drvPtr, sockPtr, EPOLLOUT, false);
        } else if (status != NS_IO_WANT_WRITE && sockPtr->watchWrite) {
            sockPtr->watchWrite = false;
            SockWatch(drvPtr, sockPtr, EPOLLIN, false);
        }
        if (status != NS_IO_OK) {
            break;
        }
        if (sockPtr->len == 0 && sockPtr->state == SOCK_READ_HEAD && sockPtr->requests > 0) {
            /*
             * First bytes of a request on a kept-alive connection: the
             * whole request must follow in recvwait.  (The first request
             * has had recvwait since the accept, TLS handshake included:
             * restarting it here would give a slow client twice as long.)
             */
            Ns_GetMonotonicTime(&sockPtr->deadline);
            Ns_IncrTime(&sockPtr->deadline, drvPtr->base.recvwait.sec,
                        drvPtr->base.recvwait.usec);
        }
        if (!direct) {
            SockMakeRoom(sockPtr, n);
            memcpy(sockPtr->buf + sockPtr->len, drvPtr->readBuf, n);
        }
        sockPtr->len += n;
        budget = (n < budget) ? budget - n : 0;
        if (n < READ_CHUNK) {
            break;
        }
    }
    if (sockPtr->len > 0 && HeadMayBeReady(drvPtr, sockPtr) && !SockProcess(drvPtr, sockPtr)) {
        return;
    }
    if (status == NS_IO_EOF || status == NS_IO_ERROR) {
        SockCloseInDriver(drvPtr, sockPtr);
    }
}

/*
 *----------------------------------------------------------------------
 * SockMakeRoom --
 *
 *      Room for n more bytes in the sock's buffer, plus one kept for a
 *      terminating NUL.  The buffer at least doubles when it grows, so a
 *      big body soon has room to be read into directly.
 *----------------------------------------------------------------------
 */
static void
SockMakeRoom(Sock *sockPtr, size_t n)
{
    size_t need = sockPtr->len + n + 1;

    if (need > sockPtr->size) {
        sockPtr->size = (need > 2 * sockPtr->size) ? need : 2 * sockPtr->size;
        sockPtr->buf = ckrealloc(sockPtr->buf, sockPtr->size);
    }
}

/*
 *----------------------------------------------------------------------
 * HeadMayBeReady --
 *
 *      Is it worth parsing what was read?  The parser keeps no state, so
 *      calling it on every byte of a head that trickles in would scan the
 *      head again each time (a slow client could make the server do
 *      quadratic work).  Only the new bytes are scanned here, for the empty
 *      line that ends a head or for a line or line count past the limits
 *      (which the parser then reports as 414 or 431).  A small head is also
 *      parsed at each line end, so that a malformed line is refused at once;
 *      that costs at most EARLY_PARSE_LIMIT bytes per line.
 *
 * Results:
 *      true when the parser should run now.
 *----------------------------------------------------------------------
 */
static bool
HeadMayBeReady(const Driver *drvPtr, Sock *sockPtr)
{
    const Ns_Driver *d = &drvPtr->base;
    bool             newLine = false;

    if (sockPtr->state != SOCK_READ_HEAD) {
        return true;
    }
    for (size_t i = sockPtr->scanned; i < sockPtr->len; i++) {
        if (sockPtr->buf[i] == '\n') {
            size_t lineLen = i - sockPtr->lineStart;
            bool   empty = (lineLen == 0 || (lineLen == 1 && sockPtr->buf[i - 1] == '\r'));

            sockPtr->lineStart = i + 1;
            sockPtr->scanned = i + 1;
            if (empty && sockPtr->lines > 0) {
                return true;
            }
            if (empty) {
                sockPtr->emptyLines++;
            } else {
                sockPtr->lines++;
            }
            if (sockPtr->lines > (unsigned int)d->maxheaders + 1 || sockPtr->emptyLines > 8
                || lineLen > (size_t)d->maxline + 1) {
                return true;
            }
            newLine = newLine || !empty;
        }
    }
    sockPtr->scanned = sockPtr->len;
    /* A small head is checked line by line: a malformed line is refused at once. */
    return (newLine && sockPtr->len <= EARLY_PARSE_LIMIT)
        || (sockPtr->len - sockPtr->lineStart > (size_t)d->maxline + 1);
}

/*
 *----------------------------------------------------------------------
 * FindContentLength --
 *
 *      Validate the framing headers of a request.
 *
 * Results:
 *      0 when fine (*lengthPtr set, 0 without a body), else the status to
 *      answer: 400 for a malformed or repeated Content-Length, 501 for a
 *      Transfer-Encoding (request bodies must have a length here).
 *----------------------------------------------------------------------
 */
static int
FindContentLength(const NsHttpRequest *reqPtr, int64_t *lengthPtr)
{
    int  status = 0;
    bool seen = false;

    *lengthPtr = 0;
    for (size_t i = 0; i < reqPtr->numHeaders && status == 0; i++) {
        const NsHttpHeader *h = &reqPtr->headers[i];

        if (h->nameLen == 14 && strncasecmp(h->name, "Content-Length", 14) == 0) {
            int64_t v = 0;

            if (seen || h->valueLen == 0 || h->valueLen > 18) {
                status = 400;
            }
            for (size_t j = 0; j < h->valueLen && status == 0; j++) {
                if (h->value[j] < '0' || h->value[j] > '9') {
                    status = 400;
                } else {
                    v = v * 10 + (h->value[j] - '0');
                }
            }
            seen = true;
            *lengthPtr = v;
        } else if (h->nameLen == 17 && strncasecmp(h->name, "Transfer-Encoding", 17) == 0) {
            status = 501;
        }
    }
    return status;
}

/*
 *----------------------------------------------------------------------
 * ExpectsContinue --
 *
 *      Does the request carry "Expect: 100-continue"?
 *----------------------------------------------------------------------
 */
static bool
ExpectsContinue(const NsHttpRequest *reqPtr)
{
    for (size_t i = 0; i < reqPtr->numHeaders; i++) {
        const NsHttpHeader *h = &reqPtr->headers[i];

        if (h->nameLen == 6 && strncasecmp(h->name, "Expect", 6) == 0
            && h->valueLen == 12 && strncasecmp(h->value, "100-continue", 12) == 0) {
            return true;
        }
    }
    return false;
}

/*
 *----------------------------------------------------------------------
 * SockProcess --
 *
 *      Parse what has been read.  A complete request goes to the server's
 *      queue; a bad one is answered here with its status and closed.
 *
 * Results:
 *      true while the driver thread still owns the sock; false when it was
 *      closed or handed to a connection thread (the caller must not touch it).
 *----------------------------------------------------------------------
 */
static bool
SockProcess(Driver *drvPtr, Sock *sockPtr)
{
    const Ns_Driver *d = &drvPtr->base;
    NsHttpHeader     headers[d->maxheaders];
    NsHttpRequest    req;
    NsHttpLimits     limits = {(size_t)d->maxline, (size_t)d->maxheaders,
                               (size_t)d->maxheaderline};
    int              status = 0;
    ssize_t          headLen;
    Conn            *connPtr;

    memset(&req, 0, sizeof(req));
    req.headers = headers;
    req.numHeaders = (size_t)d->maxheaders;
    headLen = NsHttpParseRequest(sockPtr->buf, sockPtr->len, &limits, &req, &status);
    if (headLen == NS_HTTP_INCOMPLETE) {
        return true;
    }
    if (headLen == NS_HTTP_BAD) {
        NsConnSendError(sockPtr, status);
        SockCloseInDriver(drvPtr, sockPtr);
        return false;
    }
    if (sockPtr->state == SOCK_READ_HEAD) {
        sockPtr->headLen = (size_t)headLen;
        status = FindContentLength(&req, &sockPtr->bodyLen);
        if (status == 0 && sockPtr->bodyLen > d->maxinput) {
            status = 413;
        }
        if (status != 0) {
            NsConnSendError(sockPtr, status);
            SockCloseInDriver(drvPtr, sockPtr);
            return false;
        }
        sockPtr->state = SOCK_READ_BODY;
    }
    if ((int64_t)(sockPtr->len - sockPtr->headLen) < sockPtr->bodyLen) {
        if (!sockPtr->sentContinue && req.versionMinor >= 1 && ExpectsContinue(&req)) {
            static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
            struct iovec      iov = {(void *)cont, sizeof(cont) - 1};
            size_t            n;

            sockPtr->sentContinue = true;
            (void)Ns_SockSend(&sockPtr->base, &iov, 1, &n);
        }
        return true;
    }

    /* The request is complete: a connection thread takes it from here. */
    connPtr = NsConnCreate(sockPtr, &req, &status);
    if (connPtr == NULL) {
        NsConnSendError(sockPtr, status);
        SockCloseInDriver(drvPtr, sockPtr);
        return false;
    }
    SockUnlink(drvPtr, sockPtr);
    epoll_ctl(drvPtr->epollFd, EPOLL_CTL_DEL, sockPtr->base.fd, NULL);
    sockPtr->state = SOCK_QUEUED;
    if (!NsQueueConn(sockPtr->servPtr, connPtr)) {
        /* Queue full or server stopping: we still own the sock. */
        NsConnFree(connPtr);
        NsConnSendError(sockPtr, 503);
        NsSockRelease(sockPtr);
    }
    return false;
}

/*
 *----------------------------------------------------------------------
 * TakeReturnedSocks --
 *
 *      Keep-alive socks come back from connection threads: drop the request
 *      they served from the buffer, wait for the next one, and process a
 *      pipelined request already read.
 *----------------------------------------------------------------------
 */
static void
TakeReturnedSocks(Driver *drvPtr)
{
    Sock *sockPtr, *nextPtr;

    pthread_mutex_lock(&drvPtr->lock);
    sockPtr = drvPtr->returnedPtr;
    drvPtr->returnedPtr = NULL;
    pthread_mutex_unlock(&drvPtr->lock);

    for (; sockPtr != NULL; sockPtr = nextPtr) {
        size_t used = sockPtr->headLen + (size_t)sockPtr->bodyLen;

        nextPtr = sockPtr->nextPtr;
        if (used < sockPtr->len) {
            memmove(sockPtr->buf, sockPtr->buf + used, sockPtr->len - used);
        }
        sockPtr->len = (used < sockPtr->len) ? sockPtr->len - used : 0;
        sockPtr->headLen = 0;
        sockPtr->bodyLen = 0;
        sockPtr->sentContinue = false;
        sockPtr->watchWrite = false;
        sockPtr->scanned = sockPtr->lineStart = 0;
        sockPtr->lines = sockPtr->emptyLines = 0;
        sockPtr->state = SOCK_READ_HEAD;
        sockPtr->requests++;
        SockSetIdleDeadline(sockPtr);
        SockLink(drvPtr, sockPtr);
        SockWatch(drvPtr, sockPtr, EPOLLIN, true);
        if (sockPtr->len > 0) {
            Ns_GetMonotonicTime(&sockPtr->deadline);
            Ns_IncrTime(&sockPtr->deadline, drvPtr->base.recvwait.sec,
                        drvPtr->base.recvwait.usec);
            if (HeadMayBeReady(drvPtr, sockPtr)) {
                (void)SockProcess(drvPtr, sockPtr);
            }
        }
    }
}

/*
 *----------------------------------------------------------------------
 * CheckDeadlines --
 *
 *      Close socks whose request did not arrive in recvwait, or whose
 *      keep-alive wait passed keepwait (slow or idle clients).
 *----------------------------------------------------------------------
 */
static void
CheckDeadlines(Driver *drvPtr)
{
    Ns_Time now;
    Sock   *sockPtr, *nextPtr;

    Ns_GetMonotonicTime(&now);
    for (sockPtr = drvPtr->socksPtr; sockPtr != NULL; sockPtr = nextPtr) {
        nextPtr = sockPtr->nextPtr;
        if (Ns_DiffTime(&sockPtr->deadline, &now, NULL) < 0) {
            if (sockPtr->len > 0) {
                Ns_Log(Notice, "%s: request from %s not complete after recvwait, closing",
                       drvPtr->base.moduleName, sockPtr->base.peer);
            }
            SockCloseInDriver(drvPtr, sockPtr);
        }
    }
}

/*
 * Small helpers for the driver's sock list and epoll set.
 */

static void
SockSetIdleDeadline(Sock *sockPtr)
{
    const Ns_Time *waitPtr = (sockPtr->requests == 0) ? &sockPtr->drvPtr->base.recvwait
                                                      : &sockPtr->drvPtr->base.keepwait;

    Ns_GetMonotonicTime(&sockPtr->deadline);
    Ns_IncrTime(&sockPtr->deadline, waitPtr->sec, waitPtr->usec);
}

static void
SockWatch(Driver *drvPtr, Sock *sockPtr, uint32_t events, bool add)
{
    struct epoll_event ev;

    ev.events = events | EPOLLRDHUP;
    ev.data.ptr = sockPtr;
    if (epoll_ctl(drvPtr->epollFd, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, sockPtr->base.fd,
                  &ev) != 0) {
        Ns_Log(Bug, "driver: epoll_ctl: %s", strerror(errno));
    }
}

static void
SockLink(Driver *drvPtr, Sock *sockPtr)
{
    sockPtr->prevPtr = NULL;
    sockPtr->nextPtr = drvPtr->socksPtr;
    if (drvPtr->socksPtr != NULL) {
        drvPtr->socksPtr->prevPtr = sockPtr;
    }
    drvPtr->socksPtr = sockPtr;

}

static void
SockUnlink(Driver *drvPtr, Sock *sockPtr)
{
    if (sockPtr->prevPtr != NULL) {
        sockPtr->prevPtr->nextPtr = sockPtr->nextPtr;
    } else {
        drvPtr->socksPtr = sockPtr->nextPtr;
    }
    if (sockPtr->nextPtr != NULL) {
        sockPtr->nextPtr->prevPtr = sockPtr->prevPtr;
    }
    sockPtr->nextPtr = sockPtr->prevPtr = NULL;

}

static void
SockCloseInDriver(Driver *drvPtr, Sock *sockPtr)
{
    SockUnlink(drvPtr, sockPtr);
    /* Closing the fd removes it from the epoll set. */
    NsSockRelease(sockPtr);
}

/*
 *----------------------------------------------------------------------
 * NsTclDriverObjCmd --
 *
 *      ns_driver info  -- one dict per driver: module, type, server,
 *      protocol, address, port (the bound one) and location, as NaviServer's
 *      ns_driver info reports them (tests and apps find ephemeral ports so).
 *----------------------------------------------------------------------
 */
static int
DriverInfoObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                 Tcl_Obj *const objv[])
{
    int result = TCL_OK;

    if (Ns_ParseObjv(NULL, NULL, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        Tcl_Obj *listObj = Tcl_NewListObj(0, NULL);

        for (const Driver *drvPtr = firstDrvPtr; drvPtr != NULL; drvPtr = drvPtr->nextPtr) {
            const Ns_Driver *d = &drvPtr->base;
            Tcl_Obj         *dictObj = Tcl_NewDictObj();
            bool             v6 = (strchr(d->address, ':') != NULL);

            Tcl_DictObjPut(NULL, dictObj, Tcl_NewStringObj("module", -1),
                           Tcl_NewStringObj(d->moduleName, -1));
            Tcl_DictObjPut(NULL, dictObj, Tcl_NewStringObj("type", -1),
                           Tcl_NewStringObj(d->procs->name, -1));
            Tcl_DictObjPut(NULL, dictObj, Tcl_NewStringObj("server", -1),
                           Tcl_NewStringObj(d->server, -1));
            Tcl_DictObjPut(NULL, dictObj, Tcl_NewStringObj("protocol", -1),
                           Tcl_NewStringObj(d->procs->protocol, -1));
            Tcl_DictObjPut(NULL, dictObj, Tcl_NewStringObj("address", -1),
                           Tcl_NewStringObj(d->address, -1));
            Tcl_DictObjPut(NULL, dictObj, Tcl_NewStringObj("port", -1),
                           Tcl_NewIntObj(d->boundPort));
            Tcl_DictObjPut(NULL, dictObj, Tcl_NewStringObj("location", -1),
                           Tcl_ObjPrintf("%s://%s%s%s:%d", d->procs->protocol, v6 ? "[" : "",
                                         d->address, v6 ? "]" : "", d->boundPort));
            Tcl_ListObjAppendElement(NULL, listObj, dictObj);
        }
        Tcl_SetObjResult(interp, listObj);
    }
    return result;
}

int
NsTclDriverObjCmd(ClientData clientData, Tcl_Interp *interp, int objc, Tcl_Obj *const objv[])
{
    static const Ns_SubCmdSpec subcmds[] = {
        {"info", DriverInfoObjCmd},
        {NULL, NULL}
    };

    return Ns_SubcmdObjv(subcmds, clientData, interp, objc, objv);
}
