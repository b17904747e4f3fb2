/*
 * chanio.c --
 *
 *      Reading and writing a channel.  Writes go straight to the socket
 *      when nothing is queued; what the kernel does not take is queued as
 *      references to reference-counted buffers, so that a multicast frame
 *      is stored once however many subscribers queue it, and everything a
 *      channel has queued goes out with one writev.  The event thread
 *      flushes queues when sockets become writable.
 *
 *      All I/O on a channel's socket happens under its lock (the socket is
 *      non-blocking, so the lock is held for one system call at a time).
 */

#include "connchan.h"

#include <poll.h>
#include <stdio.h>
#include <string.h>

#define FLUSH_IOV_MAX 64    /* queue entries per writev */

/*
 * Corking (event thread): while one read of a WebSocket is handled, shared
 * writes (ws::send, ws::multicast) only queue, and each channel written to
 * is flushed once at the end, with one writev for all it got.  Sixteen
 * messages from one read then cost one send per subscriber, not sixteen.
 */
static __thread bool       corked = false;
static __thread ConnChan **corkedChans = NULL;   /* referenced */
static __thread size_t     corkedCount = 0, corkedSize = 0;

static Tcl_ExitProc FreeCorkList;
static int ReadAvailable(ConnChan *chanPtr, Tcl_DString *dsPtr, unsigned int flags,
                         Ns_SockError *errPtr);

/*
 *----------------------------------------------------------------------
 * ChanBufCreate, ChanBufRelease --
 *
 *      A reference-counted copy of bytes, created with one reference.
 *----------------------------------------------------------------------
 */
ChanBuf *
ChanBufCreate(const char *data, size_t len)
{
    ChanBuf *bufPtr = ckalloc(sizeof(ChanBuf) + len);

    atomic_init(&bufPtr->refCount, 1);
    bufPtr->len = len;
    memcpy(bufPtr->data, data, len);
    return bufPtr;
}

void
ChanBufRelease(ChanBuf *bufPtr)
{
    if (atomic_fetch_sub(&bufPtr->refCount, 1) == 1) {
        ckfree(bufPtr);
    }
}

/*
 *----------------------------------------------------------------------
 * ConnChanSetClosedError --
 *
 *      The error of an operation on a closed channel.
 *----------------------------------------------------------------------
 */
void
ConnChanSetClosedError(Ns_SockError *errPtr, const char *name)
{
    snprintf(errPtr->message, sizeof(errPtr->message), "channel \"%s\" is closed", name);
    snprintf(errPtr->errorCode, sizeof(errPtr->errorCode), "NS CLOSED CHANNEL %s", name);
}

/*
 *----------------------------------------------------------------------
 * Enqueue --
 *
 *      Queue bytes offset..len of a buffer (taking a reference).  Called
 *      with the channel's lock held.
 *----------------------------------------------------------------------
 */
static void
Enqueue(ConnChan *chanPtr, ChanBuf *bufPtr, size_t offset)
{
    if (chanPtr->queueCount == chanPtr->queueSize) {
        uint32_t        newSize;
        ChanQueueEntry *entries;

        if (chanPtr->queueSize > (CHAN_QUEUE_MAX - 8) / 2) {
            /* A billion buffers queued: 16 GB of entries alone, and no limit set. */
            Tcl_Panic("%s: over %u buffers queued", chanPtr->name, chanPtr->queueSize);
        }
        newSize = chanPtr->queueSize * 2 + 8;
        entries = ckalloc(sizeof(ChanQueueEntry) * newSize);

        /* Unroll the ring into the new array. */
        for (uint32_t i = 0; i < chanPtr->queueCount; i++) {
            entries[i] = chanPtr->queue[(chanPtr->queueHead + i) % chanPtr->queueSize];
        }
        ckfree(chanPtr->queue);
        chanPtr->queue = entries;
        chanPtr->queueSize = newSize;
        chanPtr->queueHead = 0;
    }
    atomic_fetch_add(&bufPtr->refCount, 1);
    chanPtr->queue[(chanPtr->queueHead + chanPtr->queueCount) % chanPtr->queueSize] =
        (ChanQueueEntry){bufPtr, offset};
    chanPtr->queueCount++;
    chanPtr->queued += bufPtr->len - offset;
}

/*
 *----------------------------------------------------------------------
 * ConnChanDropQueue --
 *
 *      Forget everything queued (the peer is gone, or the channel is
 *      freed).  Called with the lock held, or by the last reference.
 *----------------------------------------------------------------------
 */
void
ConnChanDropQueue(ConnChan *chanPtr)
{
    while (chanPtr->queueCount > 0) {
        ChanBufRelease(chanPtr->queue[chanPtr->queueHead].bufPtr);
        chanPtr->queueHead = (chanPtr->queueHead + 1) % chanPtr->queueSize;
        chanPtr->queueCount--;
    }
    chanPtr->queueHead = 0;
    chanPtr->queued = 0;
}

/*
 *----------------------------------------------------------------------
 * DropBacklog --
 *
 *      Forget every queued buffer but the first, which may be a message
 *      partly sent: cutting it would break the framing.  Called with the
 *      lock held.
 *----------------------------------------------------------------------
 */
static void
DropBacklog(ConnChan *chanPtr)
{
    while (chanPtr->queueCount > 1) {
        uint32_t        last = (chanPtr->queueHead + chanPtr->queueCount - 1) % chanPtr->queueSize;
        ChanQueueEntry *e = &chanPtr->queue[last];

        chanPtr->queued -= e->bufPtr->len - e->offset;
        ChanBufRelease(e->bufPtr);
        chanPtr->queueCount--;
    }
}

/*
 *----------------------------------------------------------------------
 * ConnChanShutWrites --
 *
 *      Refuse every write but a last one (CHAN_WRITE_LAST) from now on.
 *----------------------------------------------------------------------
 */
void
ConnChanShutWrites(ConnChan *chanPtr)
{
    pthread_mutex_lock(&chanPtr->lock);
    chanPtr->writesShut = true;
    pthread_mutex_unlock(&chanPtr->lock);
}

/*
 *----------------------------------------------------------------------
 * ConnChanShutdownSend --
 *
 *      Shut the sending side of the socket: the peer reads EOF after what
 *      was sent, and we can still read.
 *----------------------------------------------------------------------
 */
void
ConnChanShutdownSend(ConnChan *chanPtr)
{
    pthread_mutex_lock(&chanPtr->lock);
    if (!chanPtr->closed && chanPtr->sockPtr != NULL) {
        (void)shutdown(chanPtr->sockPtr->fd, SHUT_WR);
    }
    chanPtr->writesShut = true;
    pthread_mutex_unlock(&chanPtr->lock);
}

/*
 *----------------------------------------------------------------------
 * ConnChanFlush --
 *
 *      Send what is queued, with one writev per round, until the kernel
 *      takes no more.  Called with the channel's lock held.
 *
 * Results:
 *      TCL_OK, or TCL_ERROR with *errPtr filled (the peer is gone).
 *----------------------------------------------------------------------
 */
int
ConnChanFlush(ConnChan *chanPtr, Ns_SockError *errPtr)
{
    int result = TCL_OK;

    while (chanPtr->queueCount > 0) {
        struct iovec iov[FLUSH_IOV_MAX];
        int          n = 0;
        size_t       sent = 0;
        Ns_IoStatus  status;

        for (uint32_t i = 0; i < chanPtr->queueCount && n < FLUSH_IOV_MAX; i++, n++) {
            const ChanQueueEntry *e = &chanPtr->queue[(chanPtr->queueHead + i)
                                                      % chanPtr->queueSize];

            iov[n].iov_base = e->bufPtr->data + e->offset;
            iov[n].iov_len = e->bufPtr->len - e->offset;
        }
        status = Ns_SockSend(chanPtr->sockPtr, iov, n, &sent);
        if (status != NS_IO_OK || sent == 0) {
            if (status == NS_IO_ERROR || status == NS_IO_EOF) {
                Ns_SockGetError(chanPtr->sockPtr, errPtr);
                result = TCL_ERROR;
            }
            break;
        }
        chanPtr->sent += sent;
        chanPtr->queued -= sent;
        while (sent > 0) {
            ChanQueueEntry *e = &chanPtr->queue[chanPtr->queueHead];
            size_t          left = e->bufPtr->len - e->offset;

            if (sent < left) {
                e->offset += sent;
                sent = 0;
            } else {
                sent -= left;
                ChanBufRelease(e->bufPtr);
                chanPtr->queueHead = (chanPtr->queueHead + 1) % chanPtr->queueSize;
                chanPtr->queueCount--;
            }
        }
    }
    return result;
}

/*
 *----------------------------------------------------------------------
 * SendDirect --
 *
 *      With nothing queued, send iov straight away until the kernel takes
 *      no more (one send may take less than it could: nsssl sends one TLS
 *      record per call).  Called with the lock held.
 *
 * Results:
 *      Bytes sent, and TCL_ERROR in *resultPtr when the peer is gone.
 *----------------------------------------------------------------------
 */
static size_t
SendDirect(ConnChan *chanPtr, const struct iovec *iovIn, int iovcnt, int *resultPtr,
           Ns_SockError *errPtr)
{
    struct iovec iov[iovcnt];
    int          first = 0;
    size_t       done = 0;

    memcpy(iov, iovIn, sizeof(struct iovec) * (size_t)iovcnt);
    while (first < iovcnt) {
        size_t      n = 0;
        Ns_IoStatus status;

        if (iov[first].iov_len == 0) {
            first++;
            continue;
        }
        status = Ns_SockSend(chanPtr->sockPtr, iov + first, iovcnt - first, &n);
        if (status != NS_IO_OK || n == 0) {
            if (status == NS_IO_ERROR || status == NS_IO_EOF) {
                Ns_SockGetError(chanPtr->sockPtr, errPtr);
                *resultPtr = TCL_ERROR;
            }
            break;
        }
        chanPtr->sent += n;
        done += n;
        while (first < iovcnt && n >= iov[first].iov_len) {
            n -= iov[first].iov_len;
            first++;
        }
        if (first < iovcnt) {
            iov[first].iov_base = (char *)iov[first].iov_base + n;
            iov[first].iov_len -= n;
        }
    }
    return done;
}

/*
 *----------------------------------------------------------------------
 * ConnChanWriteV --
 *
 *      Write a message made of several pieces, as one unit: no write of
 *      another thread can come between them.  Straight to the socket when
 *      nothing is queued, otherwise behind what is; the rest is queued (one
 *      copy).  With a -sendtimeout set, wait that long for the queue to
 *      drain.  Flags:
 *          CHAN_WRITE_BUFFERED  only queue
 *          CHAN_WRITE_LAST      the channel's last message (a WebSocket
 *                               close frame): any later write fails; it
 *                               passes ConnChanShutWrites
 *          CHAN_WRITE_SKIP_BACKLOG  drop what is queued and not begun
 *                               first (a slow consumer's close should not
 *                               wait behind what it could not take)
 *
 * Results:
 *      TCL_OK with *writtenPtr = bytes of this message the kernel took, or
 *      TCL_ERROR with *errPtr (NS_TIMEOUT when the queue did not drain).
 *----------------------------------------------------------------------
 */
int
ConnChanWriteV(ConnChan *chanPtr, const struct iovec *iov, int iovcnt, unsigned int flags,
               size_t *writtenPtr, Ns_SockError *errPtr)
{
    int      result = TCL_OK, debugLevel;
    bool     buffered = (flags & CHAN_WRITE_BUFFERED) != 0;
    uint64_t sentBefore;
    size_t   queuedBefore, queuedNow, len = 0, done = 0;

    for (int i = 0; i < iovcnt; i++) {
        len += iov[i].iov_len;
    }
    *writtenPtr = 0;
    pthread_mutex_lock(&chanPtr->lock);
    if (chanPtr->closed || chanPtr->sockPtr == NULL
        || (chanPtr->writesShut && (flags & CHAN_WRITE_LAST) == 0)) {
        pthread_mutex_unlock(&chanPtr->lock);
        ConnChanSetClosedError(errPtr, chanPtr->name);
        return TCL_ERROR;
    }
    if ((flags & CHAN_WRITE_SKIP_BACKLOG) != 0) {
        DropBacklog(chanPtr);
    }
    if ((flags & CHAN_WRITE_LAST) != 0) {
        chanPtr->writesShut = true;
    }
    sentBefore = chanPtr->sent;
    queuedBefore = chanPtr->queued;
    if (queuedBefore == 0 && !buffered && len > 0) {
        done = SendDirect(chanPtr, iov, iovcnt, &result, errPtr);
    }
    if (result == TCL_OK && done < len) {
        /* Queue one copy of what is left of the message. */
        ChanBuf *bufPtr = ckalloc(sizeof(ChanBuf) + (len - done));
        size_t   skip = done, at = 0;

        atomic_init(&bufPtr->refCount, 1);
        bufPtr->len = len - done;
        for (int i = 0; i < iovcnt; i++) {
            size_t pieceLen = iov[i].iov_len;

            if (skip >= pieceLen) {
                skip -= pieceLen;
                continue;
            }
            memcpy(bufPtr->data + at, (const char *)iov[i].iov_base + skip, pieceLen - skip);
            at += pieceLen - skip;
            skip = 0;
        }
        Enqueue(chanPtr, bufPtr, 0);
        ChanBufRelease(bufPtr);
    }
    if (result == TCL_OK && !buffered && queuedBefore > 0) {
        /* Behind earlier bytes; an empty message just drains the queue. */
        result = ConnChanFlush(chanPtr, errPtr);
    }

    /* A -sendtimeout of 0 means "do not wait", as -receivetimeout 0 does for reads. */
    if (result == TCL_OK && !buffered && chanPtr->queued > 0
        && ConnChanTimeSet(&chanPtr->sendTimeout)) {
        Ns_Time deadline;
        int     fd = chanPtr->sockPtr->fd;

        Ns_GetMonotonicTime(&deadline);
        Ns_IncrTime(&deadline, chanPtr->sendTimeout.sec, chanPtr->sendTimeout.usec);
        while (result == TCL_OK && chanPtr->queued > 0 && !chanPtr->closed) {
            bool ready;

            pthread_mutex_unlock(&chanPtr->lock);
            ready = Ns_SockWaitUntil(fd, POLLOUT, &deadline) > 0;
            pthread_mutex_lock(&chanPtr->lock);
            if (chanPtr->closed || chanPtr->sockPtr == NULL) {
                ConnChanSetClosedError(errPtr, chanPtr->name);
                result = TCL_ERROR;
            } else if (!ready) {
                snprintf(errPtr->message, sizeof(errPtr->message),
                         "timeout: %zu bytes could not be sent", chanPtr->queued);
                snprintf(errPtr->errorCode, sizeof(errPtr->errorCode), "NS_TIMEOUT");
                result = TCL_ERROR;
            } else {
                result = ConnChanFlush(chanPtr, errPtr);
            }
        }
    }
    {
        uint64_t sentNow = chanPtr->sent - sentBefore;

        *writtenPtr = (sentNow > queuedBefore) ? (size_t)(sentNow - queuedBefore) : 0;
    }
    debugLevel = chanPtr->debugLevel;
    queuedNow = chanPtr->queued;
    pthread_mutex_unlock(&chanPtr->lock);
    /* Logged without the lock: locks are never held across a log call. */
    if (debugLevel > 0) {
        Ns_Log(Notice, "ns_connchan: %s write %zu bytes: %zu sent, %zu queued", chanPtr->name,
               len, *writtenPtr, queuedNow);
    }
    if (queuedNow > 0) {
        ConnChanUpdateEvent(chanPtr);
    }
    return result;
}

int
ConnChanWrite(ConnChan *chanPtr, const char *data, size_t len, bool buffered,
              size_t *writtenPtr, Ns_SockError *errPtr)
{
    struct iovec iov = {(void *)data, len};

    return ConnChanWriteV(chanPtr, &iov, 1, buffered ? CHAN_WRITE_BUFFERED : 0, writtenPtr,
                          errPtr);
}

/*
 *----------------------------------------------------------------------
 * ConnChanWriteShared --
 *
 *      Send a shared buffer (a multicast frame) without copying it: sent
 *      directly when nothing is queued, else a reference is queued.  A
 *      channel whose queue would pass limit (0: none) gets nothing.
 *
 * Results:
 *      CHAN_SEND_OK, CHAN_SEND_OVER_LIMIT, or CHAN_SEND_FAILED (closed, or
 *      the peer is gone).
 *----------------------------------------------------------------------
 */
ChanSendStatus
ConnChanWriteShared(ConnChan *chanPtr, ChanBuf *bufPtr, size_t limit)
{
    ChanSendStatus status = CHAN_SEND_OK;
    Ns_SockError   err;
    int            result = TCL_OK;
    size_t         queuedNow;
    bool           remember = false;

    pthread_mutex_lock(&chanPtr->lock);
    if (chanPtr->closed || chanPtr->sockPtr == NULL || chanPtr->writesShut) {
        status = CHAN_SEND_FAILED;
    } else if (limit > 0 && chanPtr->queued + bufPtr->len > limit) {
        status = CHAN_SEND_OVER_LIMIT;
    } else if (corked) {
        /* Handling a read on the event thread: sent once, after it. */
        Enqueue(chanPtr, bufPtr, 0);
        remember = !chanPtr->corkPending;
        chanPtr->corkPending = true;
    } else if (chanPtr->queued == 0) {
        struct iovec iov = {bufPtr->data, bufPtr->len};
        size_t       done = SendDirect(chanPtr, &iov, 1, &result, &err);

        if (result != TCL_OK) {
            status = CHAN_SEND_FAILED;
        } else if (done < bufPtr->len) {
            Enqueue(chanPtr, bufPtr, done);
        }
    } else {
        Enqueue(chanPtr, bufPtr, 0);
        if (ConnChanFlush(chanPtr, &err) != TCL_OK) {
            status = CHAN_SEND_FAILED;
        }
    }
    queuedNow = chanPtr->queued;
    pthread_mutex_unlock(&chanPtr->lock);
    if (remember) {
        if (corkedCount == corkedSize) {
            if (corkedChans == NULL) {
                Tcl_CreateThreadExitHandler(FreeCorkList, NULL);
            }
            corkedSize = corkedSize * 2 + 64;
            corkedChans = ckrealloc(corkedChans, sizeof(ConnChan *) * corkedSize);
        }
        atomic_fetch_add(&chanPtr->refCount, 1);
        corkedChans[corkedCount++] = chanPtr;
    } else if (queuedNow > 0 && status == CHAN_SEND_OK) {
        ConnChanUpdateEvent(chanPtr);
    }
    return status;
}

/*
 *----------------------------------------------------------------------
 * FreeCorkList --
 *
 *      Free this thread's list of corked channels (at thread exit too).
 *----------------------------------------------------------------------
 */
static void
FreeCorkList(ClientData UNUSED(clientData))
{
    ckfree(corkedChans);
    corkedChans = NULL;
    corkedSize = 0;
}

/*
 *----------------------------------------------------------------------
 * ConnChanCork, ConnChanUncork --
 *
 *      Start and end a corked section on the event thread: shared writes
 *      in between only queue; at the end each channel written to is
 *      flushed once.
 *----------------------------------------------------------------------
 */
void
ConnChanCork(void)
{
    corked = true;
}

void
ConnChanUncork(void)
{
    corked = false;
    for (size_t i = 0; i < corkedCount; i++) {
        ConnChan    *chanPtr = corkedChans[i];
        Ns_SockError err;
        size_t       queuedNow = 0;

        pthread_mutex_lock(&chanPtr->lock);
        chanPtr->corkPending = false;
        if (!chanPtr->closed && chanPtr->sockPtr != NULL
            && ConnChanFlush(chanPtr, &err) != TCL_OK) {
            /* The peer is gone: its own read or event will tell. */
            ConnChanDropQueue(chanPtr);
        }
        queuedNow = chanPtr->queued;
        pthread_mutex_unlock(&chanPtr->lock);
        if (queuedNow > 0) {
            ConnChanUpdateEvent(chanPtr);
        }
        ConnChanRelease(chanPtr);
    }
    corkedCount = 0;
    if (corkedSize > 1024) {
        /* A big fan-out once must not pin its list for good. */
        Tcl_DeleteThreadExitHandler(FreeCorkList, NULL);
        FreeCorkList(NULL);
    }
}

/*
 *----------------------------------------------------------------------
 * ConnChanRead, ConnChanReadSocket, ConnChanReadEvent --
 *
 *      Read what is available.  ConnChanRead returns the bytes kept from
 *      earlier first (the rest of the request after detach, frames not yet
 *      taken); ConnChanReadSocket leaves them in the channel's reader, for
 *      read -websocket to take frames from.  Either reads the socket until
 *      it would block or about 1 MB are there, counting the kept bytes, so
 *      that an EOF right behind the data is seen with it.  With
 *      -receivetimeout set, it waits that long when nothing is there yet,
 *      kept bytes included.
 *
 *      ConnChanReadEvent is ConnChanRead for the event thread's WebSocket
 *      reader: on a plain socket it stops at a short read, which emptied
 *      the socket (the next bytes or the EOF make epoll report it again),
 *      and so saves a read that would only say "would block" per event.
 *      TLS reads on: OpenSSL may hold decrypted bytes epoll cannot see.
 *
 * Results:
 *      TCL_OK with the bytes appended to dsPtr (none at EOF), or TCL_ERROR
 *      with *errPtr.
 *----------------------------------------------------------------------
 */
#define READ_TAKE_KEPT  1u   /* the kept bytes first */
#define READ_ONE_EVENT  2u   /* a plain socket: stop at a short read */

int
ConnChanRead(ConnChan *chanPtr, Tcl_DString *dsPtr, Ns_SockError *errPtr)
{
    return ReadAvailable(chanPtr, dsPtr, READ_TAKE_KEPT, errPtr);
}

int
ConnChanReadSocket(ConnChan *chanPtr, Tcl_DString *dsPtr, Ns_SockError *errPtr)
{
    return ReadAvailable(chanPtr, dsPtr, 0, errPtr);
}

int
ConnChanReadEvent(ConnChan *chanPtr, Tcl_DString *dsPtr, Ns_SockError *errPtr)
{
    return ReadAvailable(chanPtr, dsPtr, READ_TAKE_KEPT | READ_ONE_EVENT, errPtr);
}

/*
 *----------------------------------------------------------------------
 * ReadAvailable --
 *
 *      The three above, by flags (READ_*).
 *----------------------------------------------------------------------
 */
static int
ReadAvailable(ConnChan *chanPtr, Tcl_DString *dsPtr, unsigned int flags, Ns_SockError *errPtr)
{
    int     result = TCL_OK, debugLevel;
    bool    haveDeadline = false, eof;
    Ns_Time deadline;

    pthread_mutex_lock(&chanPtr->lock);
    if (chanPtr->closed || chanPtr->sockPtr == NULL) {
        pthread_mutex_unlock(&chanPtr->lock);
        ConnChanSetClosedError(errPtr, chanPtr->name);
        return TCL_ERROR;
    }
    if ((flags & READ_TAKE_KEPT) != 0 && chanPtr->readerPtr != NULL) {
        WsFrameReaderTake(chanPtr->readerPtr, dsPtr);
    }
    for (;;) {
        int         start = Tcl_DStringLength(dsPtr);
        size_t      kept = ConnChanKept(chanPtr);
        size_t      n = 0;
        Ns_IoStatus status;

        Tcl_DStringSetLength(dsPtr, start + CONNCHAN_READ_CHUNK);
        status = Ns_SockRecv(chanPtr->sockPtr, Tcl_DStringValue(dsPtr) + start,
                             CONNCHAN_READ_CHUNK, &n);
        Tcl_DStringSetLength(dsPtr, start + (int)n);
        if (status == NS_IO_OK) {
            chanPtr->received += n;
            if ((size_t)Tcl_DStringLength(dsPtr) + kept >= 1024 * 1024
                || ((flags & READ_ONE_EVENT) != 0 && n < CONNCHAN_READ_CHUNK
                    && chanPtr->sockPtr->tls == NULL)) {
                break;
            }
            continue;
        }
        if (status == NS_IO_EOF) {
            chanPtr->eof = true;
        } else if (status == NS_IO_ERROR) {
            Ns_SockGetError(chanPtr->sockPtr, errPtr);
            result = TCL_ERROR;
        } else if (Tcl_DStringLength(dsPtr) == 0 && kept == 0
                   && ConnChanTimeSet(&chanPtr->recvTimeout)) {
            int  fd = chanPtr->sockPtr->fd;
            bool ready;

            /*
             * Wait until the deadline, not just once: a TLS socket can be
             * readable with no application data (a TLS 1.3 session ticket
             * after the handshake), and the read then still wants more.
             */
            if (!haveDeadline) {
                Ns_GetMonotonicTime(&deadline);
                Ns_IncrTime(&deadline, chanPtr->recvTimeout.sec, chanPtr->recvTimeout.usec);
                haveDeadline = true;
            }
            pthread_mutex_unlock(&chanPtr->lock);
            ready = Ns_SockWaitUntil(fd, (status == NS_IO_WANT_WRITE) ? POLLOUT : POLLIN,
                                     &deadline) > 0;
            pthread_mutex_lock(&chanPtr->lock);
            if (chanPtr->closed || chanPtr->sockPtr == NULL) {
                ConnChanSetClosedError(errPtr, chanPtr->name);
                result = TCL_ERROR;
            } else if (ready) {
                continue;
            } else {
                snprintf(errPtr->message, sizeof(errPtr->message), "timeout");
                snprintf(errPtr->errorCode, sizeof(errPtr->errorCode), "NS_TIMEOUT");
                result = TCL_ERROR;
            }
        }
        break;
    }
    debugLevel = chanPtr->debugLevel;
    eof = chanPtr->eof;
    pthread_mutex_unlock(&chanPtr->lock);
    if (debugLevel > 0) {
        Ns_Log(Notice, "ns_connchan: %s read %d bytes%s", chanPtr->name,
               Tcl_DStringLength(dsPtr), eof ? " (eof)" : "");
    }
    return result;
}

/*
 *----------------------------------------------------------------------
 * ConnChanUnread --
 *
 *      Keep bytes that someone else read from the channel's socket (the
 *      rest of a request after detach or a handshake) for the channel's
 *      next read, after any it keeps already.
 *----------------------------------------------------------------------
 */
void
ConnChanUnread(ConnChan *chanPtr, const char *data, size_t len)
{
    if (len > 0) {
        pthread_mutex_lock(&chanPtr->lock);
        WsFrameReaderAppend(ConnChanReader(chanPtr), data, len);
        pthread_mutex_unlock(&chanPtr->lock);
    }
}
