/*
 * connchan.c --
 *
 *      The life of a connection channel: the channel table, reference
 *      counts, the send buffer and non-blocking I/O through the driver, and
 *      callbacks run by the host's event thread.  The Tcl command on top of
 *      this is in connchancmd.c.
 *
 *      A channel is referenced by the table (until closed), by each caller
 *      that looked it up, and by its event (until the event thread has taken
 *      the fd out of epoll).  The socket is closed only when the last
 *      reference goes, so the fd number cannot be reused while epoll or a
 *      running command still knows it.
 */

#include "websocket.h"

#include <poll.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t tableLock = PTHREAD_MUTEX_INITIALIZER;  /* protects channels */
static Tcl_HashTable   channels;                                /* name -> ConnChan */
static bool            tableInit = false;
static atomic_ulong    nextChannelId = 0;

/* The longest peer text a channel shows (a listening channel's address). */
#define PEER_MAX 63

/*
 * The strings many channels have in common (server, thread and driver
 * names, WebSocket callbacks), each kept once with the number of holders:
 * ten thousand WebSockets of one server and one ws::handshake call would
 * otherwise keep tens of thousands of copies of a handful of strings.
 * stringsLock is a leaf lock.
 */
static pthread_mutex_t stringsLock = PTHREAD_MUTEX_INITIALIZER; /* protects strings */
static Tcl_HashTable   strings;                                  /* string -> holders */
static bool            stringsInit = false;

/* How long a channel closing after its last bytes waits for them to go out. */
static const Ns_Time   drainTimeout = {2, 0};

/*
 * Read callbacks owed for bytes already buffered, asked for by a script in
 * the event thread (ConnChanSetCallback): run after the current event, so
 * that no callback runs nested in another.  Event thread only.
 */
typedef struct DeferredRead {
    ConnChan            *chanPtr;   /* referenced */
    struct DeferredRead *nextPtr;
} DeferredRead;

static DeferredRead   *deferredHead = NULL, *deferredTail = NULL;

static void ChanEventProc(Ns_Event *event, void *arg, unsigned int why);
static void EventFree(void *arg);
static void RunDeferredReads(void);

/*
 *----------------------------------------------------------------------
 * ConnChanEval --
 *
 *      Run a callback script of a channel in the event thread's interp,
 *      at global level, for at most the server's callbacktimeout.  Every
 *      channel's callbacks run in this one thread, so a script that loops
 *      or sleeps would hold up all of them: past the limit Tcl stops it at
 *      its next command with an error that "catch" cannot swallow.  A
 *      call blocking inside C (a blocking socket read) is not interrupted.
 *
 * Results:
 *      The script's result code; on a timeout TCL_ERROR, errorCode
 *      NS_TIMEOUT and a line in errorInfo naming the limit.
 *----------------------------------------------------------------------
 */
int
ConnChanEval(ConnChan *chanPtr, Tcl_Interp *interp, Tcl_Obj *scriptObj)
{
    const Ns_Time *limitPtr = &chanPtr->configPtr->callbackTimeout;
    /* A callback run from inside another keeps the outer one's limit. */
    bool           limited = ConnChanTimeSet(limitPtr)
        && !Tcl_LimitTypeEnabled(interp, TCL_LIMIT_TIME);
    int            result;

    if (limited) {
        struct timespec now;
        Ns_Time         deadline, kept;
        Tcl_Time        tclTime;

        /*
         * This runs once per message, so it must be cheap: the coarse
         * clock costs next to nothing, and Tcl_LimitSetTime (a timer
         * handler, two clock reads) is called only when the deadline
         * set for an earlier callback is more than 0.1 s too early.  A
         * callback so gets its limit to 0.1 s, which is plenty for a limit
         * of seconds; for the same reason Tcl reads the clock only every
         * 100th check.
         */
        clock_gettime(CLOCK_REALTIME_COARSE, &now);
        deadline = (Ns_Time){now.tv_sec, now.tv_nsec / 1000};
        Ns_IncrTime(&deadline, limitPtr->sec, limitPtr->usec);
        Tcl_LimitGetTime(interp, &tclTime);
        kept = (Ns_Time){tclTime.sec, tclTime.usec};
        Ns_IncrTime(&kept, 0, 100000);
        if (Ns_DiffTime(&deadline, &kept, NULL) > 0) {
            tclTime = (Tcl_Time){deadline.sec, deadline.usec};
            Tcl_LimitSetGranularity(interp, TCL_LIMIT_TIME, 100);
            Tcl_LimitSetTime(interp, &tclTime);
        }
        Tcl_LimitTypeSet(interp, TCL_LIMIT_TIME);
    }
    result = Tcl_EvalObjEx(interp, scriptObj, TCL_EVAL_GLOBAL);
    if (limited) {
        bool exceeded = Tcl_LimitTypeExceeded(interp, TCL_LIMIT_TIME);

        Tcl_LimitTypeReset(interp, TCL_LIMIT_TIME);
        if (exceeded) {
            char msg[96];

            snprintf(msg, sizeof(msg), "\n    (callback stopped: it ran longer than"
                     " callbacktimeout %ld.%03lds)", (long)limitPtr->sec,
                     limitPtr->usec / 1000);
            Tcl_AddErrorInfo(interp, msg);
            Tcl_SetErrorCode(interp, "NS_TIMEOUT", (char *)0);
            result = TCL_ERROR;
        }
    }
    return result;
}

/*
 *----------------------------------------------------------------------
 * ConnChanHoldString, ConnChanReleaseString --
 *
 *      Hold a shared copy of a string, and let go of it again; the copy
 *      goes with its last holder.  NULL is held and released as NULL.
 *
 * Results:
 *      ConnChanHoldString: the shared copy, equal to string and valid
 *      until released.
 *----------------------------------------------------------------------
 */
const char *
ConnChanHoldString(const char *string)
{
    Tcl_HashEntry *hPtr;
    const char    *shared;
    int            isNew;

    if (string == NULL) {
        return NULL;
    }
    pthread_mutex_lock(&stringsLock);
    if (!stringsInit) {
        Tcl_InitHashTable(&strings, TCL_STRING_KEYS);
        stringsInit = true;
    }
    hPtr = Tcl_CreateHashEntry(&strings, string, &isNew);
    Tcl_SetHashValue(hPtr, (void *)((uintptr_t)Tcl_GetHashValue(hPtr) + 1));
    shared = Tcl_GetHashKey(&strings, hPtr);
    pthread_mutex_unlock(&stringsLock);
    return shared;
}

void
ConnChanReleaseString(const char *shared)
{
    Tcl_HashEntry *hPtr;

    if (shared == NULL) {
        return;
    }
    pthread_mutex_lock(&stringsLock);
    hPtr = Tcl_FindHashEntry(&strings, shared);
    if (hPtr != NULL) {
        uintptr_t holders = (uintptr_t)Tcl_GetHashValue(hPtr) - 1;

        if (holders == 0) {
            Tcl_DeleteHashEntry(hPtr);
        } else {
            Tcl_SetHashValue(hPtr, (void *)holders);
        }
    }
    pthread_mutex_unlock(&stringsLock);
}

/*
 *----------------------------------------------------------------------
 * ConnChanCreate --
 *
 *      Make a channel for a socket the caller hands over, and enter it in
 *      the table under a fresh name.  A channel may live for days with
 *      thousands of others, so it comes from malloc, which rounds to 16
 *      bytes, not from Tcl's allocator, which rounds up to a power of two
 *      and keeps freed blocks in per-thread caches.
 *
 * Results:
 *      The channel, with one reference for the caller (release it).
 *----------------------------------------------------------------------
 */
ConnChan *
ConnChanCreate(const char *server, Ns_Sock *sockPtr, const char *peer, const Ns_Time *startPtr,
               const char *clientData)
{
    ConnChan      *chanPtr = ns_calloc(sizeof(ConnChan));
    Tcl_HashEntry *hPtr;
    int            isNew;

    snprintf(chanPtr->name, sizeof(chanPtr->name), "conn%lu",
             atomic_fetch_add(&nextChannelId, 1));
    chanPtr->server = ConnChanHoldString(server);
    chanPtr->configPtr = WsConfigGet(server);
    chanPtr->threadName = ConnChanHoldString(Ns_ThreadGetName());
    /* The driver's module name ("http"), as NaviServer's list and status show it. */
    chanPtr->driverName = ConnChanHoldString(sockPtr != NULL ? sockPtr->driver->moduleName
                                                           : "nssock");
    if (peer == NULL) {
        peer = "";
    }
    if (sockPtr == NULL || strcmp(peer, sockPtr->peer) != 0) {
        /* At most PEER_MAX bytes, as ns_connchan list has always shown it. */
        size_t len = strlen(peer);

        len = (len > PEER_MAX) ? PEER_MAX : len;
        chanPtr->address = memcpy(ckalloc(len + 1), peer, len);
        chanPtr->address[len] = '\0';
    }
    if (startPtr != NULL) {
        chanPtr->start = *startPtr;
    } else {
        Ns_GetTime(&chanPtr->start);
    }
    chanPtr->clientData = (clientData != NULL) ? ns_strdup(clientData) : NULL;
    chanPtr->sockPtr = sockPtr;
    chanPtr->listenFd = -1;
    chanPtr->timeout.sec = chanPtr->recvTimeout.sec = chanPtr->sendTimeout.sec = -1;
    atomic_init(&chanPtr->refCount, 2);
    pthread_mutex_init(&chanPtr->lock, NULL);

    pthread_mutex_lock(&tableLock);
    if (!tableInit) {
        Tcl_InitHashTable(&channels, TCL_STRING_KEYS);
        tableInit = true;
    }
    hPtr = Tcl_CreateHashEntry(&channels, chanPtr->name, &isNew);
    Tcl_SetHashValue(hPtr, chanPtr);
    pthread_mutex_unlock(&tableLock);
    return chanPtr;
}

/*
 *----------------------------------------------------------------------
 * ConnChanSetDriverName --
 *
 *      Name another driver as the channel's (open -driver, listen -driver).
 *      The channel is in the table already: ns_connchan list may read the
 *      name from another thread, under the channel's lock.
 *----------------------------------------------------------------------
 */
void
ConnChanSetDriverName(ConnChan *chanPtr, const char *name)
{
    const char *newName = ConnChanHoldString(name), *oldName;

    pthread_mutex_lock(&chanPtr->lock);
    oldName = chanPtr->driverName;
    chanPtr->driverName = newName;
    pthread_mutex_unlock(&chanPtr->lock);
    ConnChanReleaseString(oldName);
}

/*
 *----------------------------------------------------------------------
 * ConnChanGet --
 *
 *      Look a channel up by name; with a server, only among its channels.
 *
 * Results:
 *      The channel with a reference for the caller, or NULL.
 *----------------------------------------------------------------------
 */
ConnChan *
ConnChanGet(const char *server, const char *name)
{
    ConnChan *chanPtr = NULL;

    pthread_mutex_lock(&tableLock);
    if (tableInit) {
        const Tcl_HashEntry *hPtr = Tcl_FindHashEntry(&channels, name);

        if (hPtr != NULL) {
            chanPtr = Tcl_GetHashValue(hPtr);
            if (server != NULL && strcmp(server, chanPtr->server) != 0) {
                chanPtr = NULL;
            } else {
                atomic_fetch_add(&chanPtr->refCount, 1);
            }
        }
    }
    pthread_mutex_unlock(&tableLock);
    return chanPtr;
}

/*
 *----------------------------------------------------------------------
 * ConnChanRelease --
 *
 *      Drop a reference; the last one closes the socket and frees.
 *----------------------------------------------------------------------
 */
void
ConnChanRelease(ConnChan *chanPtr)
{
    if (atomic_fetch_sub(&chanPtr->refCount, 1) != 1) {
        return;
    }
    if (chanPtr->sockPtr != NULL) {
        Ns_SockDestroy(chanPtr->sockPtr);
    }
    if (chanPtr->listenFd >= 0) {
        close(chanPtr->listenFd);
    }
    pthread_mutex_destroy(&chanPtr->lock);
    ConnChanReleaseString(chanPtr->server);
    ConnChanReleaseString(chanPtr->threadName);
    ConnChanReleaseString(chanPtr->driverName);
    ckfree(chanPtr->clientData);
    ckfree(chanPtr->address);
    ConnChanDropQueue(chanPtr);
    ckfree(chanPtr->queue);
    if (chanPtr->wsPtr != NULL) {
        WsChannelFree(chanPtr->wsPtr);
    }
    free(chanPtr->subscriptions);
    if (chanPtr->readerPtr != NULL) {
        WsFrameReaderFree(chanPtr->readerPtr);
        free(chanPtr->readerPtr);
    }
    ckfree(chanPtr->script);
    free(chanPtr);
}

/*
 *----------------------------------------------------------------------
 * ConnChanPeer --
 *
 *      The channel's peer as text: the sock's own, kept there only once.
 *      The sock stays until the channel is freed, so no lock is needed.
 *
 * Results:
 *      The remote address, a listening channel's address, or "".
 *----------------------------------------------------------------------
 */
const char *
ConnChanPeer(const ConnChan *chanPtr)
{
    return (chanPtr->address != NULL) ? chanPtr->address
         : (chanPtr->sockPtr != NULL) ? chanPtr->sockPtr->peer : "";
}

/*
 *----------------------------------------------------------------------
 * ConnChanReader, ConnChanKept --
 *
 *      The channel's reader, made when first needed: most channels, idle
 *      WebSockets among them, never keep a byte.  The bytes it keeps (none
 *      without a reader).  Called with the channel's lock held.
 *----------------------------------------------------------------------
 */
WsFrameReader *
ConnChanReader(ConnChan *chanPtr)
{
    if (chanPtr->readerPtr == NULL) {
        chanPtr->readerPtr = ns_malloc(sizeof(WsFrameReader));
        WsFrameReaderInit(chanPtr->readerPtr);
    }
    return chanPtr->readerPtr;
}

size_t
ConnChanKept(const ConnChan *chanPtr)
{
    return (chanPtr->readerPtr != NULL) ? WsFrameReaderPending(chanPtr->readerPtr) : 0;
}

/*
 *----------------------------------------------------------------------
 * FinishClose --
 *
 *      The second half of ConnChanClose: a WebSocket says goodbye (close
 *      frame, on-close) unless it did already, the callback never runs
 *      again, the channel leaves its subscriptions, and the table's
 *      reference goes.
 *----------------------------------------------------------------------
 */
static void
FinishClose(ConnChan *chanPtr, bool wasListed)
{
    Ns_Event *event;
    int       debugLevel;

    if (chanPtr->wsPtr != NULL) {
        WsChannelClosing(chanPtr);
    }
    pthread_mutex_lock(&chanPtr->lock);
    chanPtr->closed = true;
    event = chanPtr->event;
    chanPtr->event = NULL;
    debugLevel = chanPtr->debugLevel;
    pthread_mutex_unlock(&chanPtr->lock);

    if (debugLevel > 0) {
        Ns_Log(Notice, "ns_connchan: %s closed", chanPtr->name);
    }
    if (event != NULL) {
        Ns_EventDestroy(event);
    }
    if (chanPtr->listenFd >= 0) {
        /*
         * Refuse new connections (and reset those in the backlog) now,
         * not when the event thread lets go of the socket.
         */
        (void)shutdown(chanPtr->listenFd, SHUT_RDWR);
    }
    if (wasListed) {
        ConnChanRelease(chanPtr);
    }
}

typedef struct PendingClose {
    ConnChan *chanPtr;     /* referenced */
    bool      wasListed;
} PendingClose;

static void
FinishPendingClose(void *arg)
{
    PendingClose *closePtr = arg;

    FinishClose(closePtr->chanPtr, closePtr->wasListed);
    ConnChanRelease(closePtr->chanPtr);
    ckfree(closePtr);
}

/*
 *----------------------------------------------------------------------
 * ConnChanClose --
 *
 *      Close a channel: its name is gone at once, its callback never runs
 *      again, and the socket is closed when the last reference goes
 *      (right after the current callback, when closed from inside one).
 *      A WebSocket closed from another thread is finished by the event
 *      thread, where its on-close callback runs.
 *----------------------------------------------------------------------
 */
void
ConnChanClose(ConnChan *chanPtr)
{
    Tcl_HashEntry *hPtr;
    bool           wasListed = false;

    pthread_mutex_lock(&tableLock);
    hPtr = Tcl_FindHashEntry(&channels, chanPtr->name);
    if (hPtr != NULL && Tcl_GetHashValue(hPtr) == chanPtr) {
        Tcl_DeleteHashEntry(hPtr);
        wasListed = true;
    }
    pthread_mutex_unlock(&tableLock);
    /* A WebSocket leaves its subscriptions the moment it closes. */
    WsUnsubscribeAll(chanPtr);

    if (chanPtr->wsPtr != NULL && !Ns_EventIsEventThread()) {
        PendingClose *closePtr = ckalloc(sizeof(PendingClose));

        atomic_fetch_add(&chanPtr->refCount, 1);
        closePtr->chanPtr = chanPtr;
        closePtr->wasListed = wasListed;
        Ns_EventCall(FinishPendingClose, closePtr);
    } else {
        FinishClose(chanPtr, wasListed);
    }
}

/*
 *----------------------------------------------------------------------
 * ConnChanCloseWhenDrained --
 *
 *      Close the channel once its queued bytes are sent (a close frame
 *      must reach the peer), or after drainTimeout when they cannot be.
 *----------------------------------------------------------------------
 */
void
ConnChanCloseWhenDrained(ConnChan *chanPtr)
{
    bool now;

    pthread_mutex_lock(&chanPtr->lock);
    now = (chanPtr->queued == 0 || chanPtr->sockPtr == NULL);
    chanPtr->closeWhenDrained = true;
    pthread_mutex_unlock(&chanPtr->lock);
    if (now) {
        ConnChanClose(chanPtr);
    } else {
        ConnChanUpdateEvent(chanPtr);
    }
}

/*
 *----------------------------------------------------------------------
 * ConnChanSetError, ConnChanLookupError --
 *
 *      Turn a socket error into the interp's result and -errorcode; the
 *      message for an unknown channel name.
 *----------------------------------------------------------------------
 */
void
ConnChanSetError(Tcl_Interp *interp, const Ns_SockError *errPtr)
{
    Tcl_SetObjResult(interp, Tcl_NewStringObj(errPtr->message, -1));
    Tcl_SetObjErrorCode(interp, Tcl_NewStringObj(errPtr->errorCode, -1));
}

void
ConnChanLookupError(Tcl_Interp *interp, const char *name)
{
    Tcl_SetObjResult(interp, Tcl_ObjPrintf("channel \"%s\" does not exist", name));
    Tcl_SetErrorCode(interp, "NS", "LOOKUP", "CHANNEL", name, (char *)0);
}

/*
 *----------------------------------------------------------------------
 * ConnChanUpdateEvent --
 *
 *      Make the channel's event watch what is needed now: the callback's
 *      conditions (unless suspended), writability while bytes are queued,
 *      new connections for a listening channel.
 *----------------------------------------------------------------------
 */
void
ConnChanUpdateEvent(ConnChan *chanPtr)
{
    unsigned int   when = 0;
    const Ns_Time *timeoutPtr = NULL;
    int            fd;

    pthread_mutex_lock(&chanPtr->lock);
    if (!chanPtr->closed) {
        if (chanPtr->script != NULL && !chanPtr->suspended) {
            when |= chanPtr->when;
            if (chanPtr->timeout.sec >= 0) {
                timeoutPtr = &chanPtr->timeout;
            }
        }
        if (chanPtr->wsReading) {
            when |= NS_EV_READ | NS_EV_EXIT;
            if (chanPtr->timeout.sec >= 0) {
                timeoutPtr = &chanPtr->timeout;
            }
        }
        if (chanPtr->closeWhenDrained) {
            timeoutPtr = &drainTimeout;
        }
        if (chanPtr->queued > 0) {
            when |= NS_EV_WRITE;
        }
        if (chanPtr->listenFd >= 0) {
            when |= NS_EV_READ;
        }
        fd = (chanPtr->listenFd >= 0) ? chanPtr->listenFd
             : (chanPtr->sockPtr != NULL) ? chanPtr->sockPtr->fd : -1;
        if (chanPtr->event == NULL && (when != 0 || timeoutPtr != NULL) && fd >= 0) {
            atomic_fetch_add(&chanPtr->refCount, 1);
            chanPtr->event = Ns_EventCreate(fd, ChanEventProc, EventFree, chanPtr);
        }
        if (chanPtr->event != NULL) {
            Ns_EventSet(chanPtr->event, when, timeoutPtr);
        }
    }
    pthread_mutex_unlock(&chanPtr->lock);
}

static void
EventFree(void *arg)
{
    ConnChanRelease(arg);
}

/*
 *----------------------------------------------------------------------
 * ConnChanSetCallback --
 *
 *      Install (or replace) the channel's callback.  Bytes already waiting
 *      in the channel (read with the request) cannot wake epoll, so a
 *      read callback is called for them: as soon as the event thread gets
 *      to it, or, when a script in the event thread set the callback,
 *      right after the current event.
 *----------------------------------------------------------------------
 */
static void
SyntheticRead(void *arg)
{
    ConnChan *chanPtr = arg;

    ChanEventProc(NULL, chanPtr, NS_EV_READ);
    ConnChanRelease(chanPtr);
}

/*
 *----------------------------------------------------------------------
 * RunDeferredReads --
 *
 *      Run the read callbacks deferred by ConnChanSetCallback, unless
 *      called from within one of them.  Event thread only.
 *----------------------------------------------------------------------
 */
static void
RunDeferredReads(void)
{
    static bool running = false;

    if (running) {
        return;
    }
    running = true;
    while (deferredHead != NULL) {
        DeferredRead *readPtr = deferredHead;

        deferredHead = readPtr->nextPtr;
        if (deferredHead == NULL) {
            deferredTail = NULL;
        }
        SyntheticRead(readPtr->chanPtr);
        ckfree(readPtr);
    }
    running = false;
}

void
ConnChanSetCallback(ConnChan *chanPtr, const char *script, unsigned int when,
                    const char *whenString)
{
    bool pending;

    pthread_mutex_lock(&chanPtr->lock);
    ckfree(chanPtr->script);
    chanPtr->script = ns_strdup(script);
    chanPtr->when = when;
    snprintf(chanPtr->whenString, sizeof(chanPtr->whenString), "%s", whenString);
    chanPtr->suspended = false;
    chanPtr->callbackGen++;
    pending = (ConnChanKept(chanPtr) > 0 && (when & NS_EV_READ) != 0);
    pthread_mutex_unlock(&chanPtr->lock);
    ConnChanUpdateEvent(chanPtr);
    if (pending) {
        ConnChanScheduleRead(chanPtr);
    }
}

/*
 *----------------------------------------------------------------------
 * ConnChanScheduleRead --
 *
 *      Have the event thread handle the channel as readable, for bytes
 *      already in its buffer that epoll cannot report.
 *----------------------------------------------------------------------
 */
void
ConnChanScheduleRead(ConnChan *chanPtr)
{
    atomic_fetch_add(&chanPtr->refCount, 1);
    if (Ns_EventIsEventThread()) {
        /* Maybe inside a callback: Ns_EventCall would run it nested, at once. */
        DeferredRead *readPtr = ckalloc(sizeof(DeferredRead));

        readPtr->chanPtr = chanPtr;
        readPtr->nextPtr = NULL;
        if (deferredTail != NULL) {
            deferredTail->nextPtr = readPtr;
        } else {
            deferredHead = readPtr;
        }
        deferredTail = readPtr;
    } else {
        Ns_EventCall(SyntheticRead, chanPtr);
    }
}

/*
 *----------------------------------------------------------------------
 * RunCallback --
 *
 *      Run the channel's callback script with the reason appended, in the
 *      event thread's interp.  0 closes the channel, 1 keeps it, 2
 *      suspends the callback; an error or any other result is logged with
 *      the channel's name and closes it.
 *
 * Results:
 *      true when the channel is still open and its callback active.
 *----------------------------------------------------------------------
 */
static bool
RunCallback(ConnChan *chanPtr, char reason)
{
    Tcl_Interp *interp = Ns_TclThreadInterp(chanPtr->server);
    Tcl_Obj    *scriptObj;
    int         rc, value = 0;
    bool         active = false;
    char         why[2] = {reason, '\0'};
    unsigned int gen;

    pthread_mutex_lock(&chanPtr->lock);
    if (chanPtr->script == NULL || chanPtr->closed || chanPtr->suspended) {
        pthread_mutex_unlock(&chanPtr->lock);
        return false;
    }
    gen = chanPtr->callbackGen;
    scriptObj = Tcl_NewStringObj(chanPtr->script, -1);
    pthread_mutex_unlock(&chanPtr->lock);
    Tcl_AppendStringsToObj(scriptObj, " ", why, (char *)0);
    Tcl_IncrRefCount(scriptObj);

    rc = ConnChanEval(chanPtr, interp, scriptObj);
    if (rc != TCL_OK) {
        Tcl_DString ctx;

        Tcl_DStringInit(&ctx);
        Tcl_DStringAppend(&ctx, "ns_connchan callback of ", -1);
        Tcl_DStringAppend(&ctx, chanPtr->name, -1);
        Tcl_DStringAppend(&ctx, " (", 2);
        Tcl_DStringAppend(&ctx, why, 1);
        Tcl_DStringAppend(&ctx, ")", 1);
        Ns_TclLogErrorInfo(interp, Tcl_DStringValue(&ctx));
        Tcl_DStringFree(&ctx);
    } else if (Tcl_GetIntFromObj(NULL, Tcl_GetObjResult(interp), &value) != TCL_OK
               || value < 0 || value > 2) {
        Ns_Log(Warning, "ns_connchan callback of %s: invalid result \"%s\": must be 0, 1 or 2;"
               " closing the channel", chanPtr->name, Tcl_GetStringResult(interp));
        value = 0;
    }
    Tcl_ResetResult(interp);
    Tcl_DecrRefCount(scriptObj);

    if (rc != TCL_OK || value == 0) {
        ConnChanClose(chanPtr);
    } else if (value == 2) {
        /*
         * Suspend this callback only: one set meanwhile (from another
         * thread, or by the script itself) stays active.
         */
        pthread_mutex_lock(&chanPtr->lock);
        chanPtr->suspended = (chanPtr->callbackGen == gen);
        active = !chanPtr->suspended;
        pthread_mutex_unlock(&chanPtr->lock);
    } else {
        active = true;
    }
    return active;
}

/*
 *----------------------------------------------------------------------
 * StartAccepted --
 *
 *      Make a channel of a connection accepted on a listening channel (its
 *      TLS handshake done) and run the listen script with its name; a true
 *      result keeps the new channel, anything else closes it.  Event
 *      thread only.
 *----------------------------------------------------------------------
 */
static void
StartAccepted(const char *server, const char *listenScript, Ns_Sock *sockPtr)
{
    ConnChan   *newPtr = ConnChanCreate(server, sockPtr, sockPtr->peer, NULL, NULL);
    Tcl_Interp *interp = Ns_TclThreadInterp(server);
    Tcl_Obj    *scriptObj = Tcl_NewStringObj(listenScript, -1);
    int         keep = 0;

    Tcl_AppendStringsToObj(scriptObj, " ", newPtr->name, (char *)0);
    Tcl_IncrRefCount(scriptObj);
    if (ConnChanEval(newPtr, interp, scriptObj) != TCL_OK) {
        Ns_TclLogErrorInfo(interp, "ns_connchan listen callback");
    } else if (Tcl_GetBooleanFromObj(NULL, Tcl_GetObjResult(interp), &keep) != TCL_OK) {
        keep = 0;
    }
    Tcl_ResetResult(interp);
    Tcl_DecrRefCount(scriptObj);
    if (!keep) {
        ConnChanClose(newPtr);
    }
    ConnChanRelease(newPtr);
}

/*
 *----------------------------------------------------------------------
 * Handshake --
 *
 *      The server side of the TLS handshake of a connection accepted on a
 *      listening channel, driven by its own event so that the event thread
 *      never waits for a client: a client that stalls in the handshake
 *      would otherwise hold up every channel.  When the handshake is done,
 *      the connection becomes a channel (StartAccepted); when it fails or
 *      the driver's recvwait passes without progress, it is closed.
 *----------------------------------------------------------------------
 */
typedef struct Handshake {
    Ns_Sock  *sockPtr;          /* NULL once it belongs to a channel */
    Ns_Event *event;
    char     *server;           /* of the listening channel */
    char     *script;           /* its listen script */
    char      listenName[32];   /* its name, for the log */
    Ns_Time   timeout;          /* the listening driver's recvwait */
} Handshake;

static void
HandshakeFree(void *arg)
{
    Handshake *hsPtr = arg;

    Ns_SockDestroy(hsPtr->sockPtr);
    ckfree(hsPtr->server);
    ckfree(hsPtr->script);
    ckfree(hsPtr);
}

static void
HandshakeEventProc(Ns_Event *UNUSED(event), void *arg, unsigned int why)
{
    Handshake  *hsPtr = arg;
    Ns_IoStatus status = NS_IO_ERROR;

    if ((why & (NS_EV_TIMEOUT | NS_EV_EXIT)) == 0) {
        status = Ns_SockHandshake(hsPtr->sockPtr);
    }
    if (status == NS_IO_WANT_READ || status == NS_IO_WANT_WRITE) {
        Ns_EventSet(hsPtr->event, (status == NS_IO_WANT_READ) ? NS_EV_READ : NS_EV_WRITE,
                    &hsPtr->timeout);
        return;
    }
    /*
     * Done: out of epoll at once (in the event thread Ns_EventSet applies
     * immediately, a destroy only later), so that the channel's own event
     * can add the same fd.
     */
    Ns_EventSet(hsPtr->event, 0, NULL);
    Ns_EventDestroy(hsPtr->event);
    if (status == NS_IO_OK) {
        Ns_Sock *sockPtr = hsPtr->sockPtr;

        hsPtr->sockPtr = NULL;
        StartAccepted(hsPtr->server, hsPtr->script, sockPtr);
    } else if ((why & NS_EV_EXIT) == 0) {
        Ns_Log(Notice, "ns_connchan listen %s: TLS handshake with %s failed%s",
               hsPtr->listenName, hsPtr->sockPtr->peer,
               (why & NS_EV_TIMEOUT) != 0 ? ": timeout" : "");
    }
}

/*
 *----------------------------------------------------------------------
 * AcceptConnections --
 *
 *      A listening channel is readable: accept each waiting connection,
 *      and make it a channel (StartAccepted) at once, or for TLS once its
 *      handshake is done (Handshake).
 *----------------------------------------------------------------------
 */
static void
AcceptConnections(ConnChan *chanPtr)
{
    for (int i = 0; i < 64; i++) {
        Ns_SockError err;
        Ns_Sock     *sockPtr;
        char        *script;

        memset(&err, 0, sizeof(err));
        sockPtr = Ns_SockAccept(chanPtr->listenDriver, chanPtr->listenFd, &err);
        if (sockPtr == NULL) {
            bool closed;

            pthread_mutex_lock(&chanPtr->lock);
            closed = chanPtr->closed;
            pthread_mutex_unlock(&chanPtr->lock);
            if (err.message[0] != '\0' && !closed) {
                Ns_Log(Warning, "ns_connchan listen %s: accept: %s", chanPtr->name, err.message);
            }
            break;
        }
        pthread_mutex_lock(&chanPtr->lock);
        script = ns_strdup(chanPtr->script != NULL ? chanPtr->script : "");
        pthread_mutex_unlock(&chanPtr->lock);
        if (sockPtr->tls != NULL) {
            Handshake *hsPtr = ckalloc(sizeof(Handshake));

            hsPtr->sockPtr = sockPtr;
            hsPtr->server = ns_strdup(chanPtr->server);
            hsPtr->script = script;
            snprintf(hsPtr->listenName, sizeof(hsPtr->listenName), "%s", chanPtr->name);
            hsPtr->timeout = chanPtr->listenDriver->recvwait;
            hsPtr->event = Ns_EventCreate(sockPtr->fd, HandshakeEventProc, HandshakeFree, hsPtr);
            HandshakeEventProc(hsPtr->event, hsPtr, NS_EV_READ);
        } else {
            StartAccepted(chanPtr->server, script, sockPtr);
            ckfree(script);
        }
    }
}

/*
 *----------------------------------------------------------------------
 * HasInput --
 *
 *      Before a read callback on a TLS channel: is there anything for the
 *      callback's read to return?  A TLS socket turns readable for records
 *      that carry no application data (TLS 1.3 session tickets right after
 *      the handshake, key updates); a callback would then read "" and take
 *      it for EOF.  So read here, into the channel's read buffer, which
 *      the callback's read returns first.  Plain sockets need no check: a
 *      readable one has data or EOF.
 *
 * Results:
 *      false only when the socket had nothing (it would block).
 *----------------------------------------------------------------------
 */
static bool
HasInput(ConnChan *chanPtr)
{
    bool hasInput = true;

    pthread_mutex_lock(&chanPtr->lock);
    if (!chanPtr->closed && chanPtr->sockPtr != NULL && chanPtr->sockPtr->tls != NULL
        && ConnChanKept(chanPtr) == 0 && !chanPtr->eof) {
        Tcl_DString ds;
        size_t      n = 0;
        Ns_IoStatus status;

        Tcl_DStringInit(&ds);
        Tcl_DStringSetLength(&ds, CONNCHAN_READ_CHUNK);
        status = Ns_SockRecv(chanPtr->sockPtr, Tcl_DStringValue(&ds), CONNCHAN_READ_CHUNK, &n);
        if (status == NS_IO_OK) {
            WsFrameReaderAppend(ConnChanReader(chanPtr), Tcl_DStringValue(&ds), n);
            chanPtr->received += n;
        } else if (status == NS_IO_EOF) {
            chanPtr->eof = true;
        } else if (status == NS_IO_WANT_READ || status == NS_IO_WANT_WRITE) {
            hasInput = false;
        }
        Tcl_DStringFree(&ds);
    }
    pthread_mutex_unlock(&chanPtr->lock);
    return hasInput;
}

/*
 *----------------------------------------------------------------------
 * ChanEventProc --
 *
 *      The event thread's entry: flush queued bytes when writable, accept
 *      on listening channels, and run the callback for each reason that
 *      occurred and was asked for (r w e x t).
 *----------------------------------------------------------------------
 */
static void
ChanEventProc(Ns_Event *UNUSED(event), void *arg, unsigned int why)
{
    ConnChan    *chanPtr = arg;
    unsigned int wants;
    bool         active = true;

    atomic_fetch_add(&chanPtr->refCount, 1);
    if (chanPtr->listenFd >= 0) {
        if ((why & NS_EV_READ) != 0) {
            AcceptConnections(chanPtr);
        }
        RunDeferredReads();
        ConnChanRelease(chanPtr);
        return;
    }
    if ((why & NS_EV_WRITE) != 0) {
        Ns_SockError err;
        bool         drained;

        pthread_mutex_lock(&chanPtr->lock);
        if (!chanPtr->closed && chanPtr->sockPtr != NULL
            && ConnChanFlush(chanPtr, &err) != TCL_OK) {
            /* The peer is gone: let the callback see it as an exception. */
            why |= NS_EV_ERROR;
            ConnChanDropQueue(chanPtr);
        }
        drained = chanPtr->closeWhenDrained && chanPtr->queued == 0;
        pthread_mutex_unlock(&chanPtr->lock);
        if (drained) {
            ConnChanClose(chanPtr);
        }
    }
    if (chanPtr->closeWhenDrained && (why & (NS_EV_TIMEOUT | NS_EV_EXIT | NS_EV_ERROR)) != 0) {
        /* The last bytes could not be sent in time: give up on them. */
        ConnChanClose(chanPtr);
    }
    if (chanPtr->wsReading && !chanPtr->closed) {
        /* A WebSocket: frames are handled in C, Tcl sees whole messages. */
        if ((why & (NS_EV_READ | NS_EV_ERROR)) != 0) {
            WsChannelReadable(chanPtr);
        }
        if ((why & NS_EV_TIMEOUT) != 0 && !chanPtr->closed) {
            WsChannelTimeout(chanPtr);
        }
        if ((why & NS_EV_EXIT) != 0 && !chanPtr->closed) {
            WsChannelExit(chanPtr);
        }
        ConnChanUpdateEvent(chanPtr);
        RunDeferredReads();
        ConnChanRelease(chanPtr);
        return;
    }
    pthread_mutex_lock(&chanPtr->lock);
    wants = (chanPtr->script != NULL && !chanPtr->suspended) ? chanPtr->when : 0u;
    pthread_mutex_unlock(&chanPtr->lock);

    if ((why & NS_EV_READ) != 0 && (wants & NS_EV_READ) != 0 && !HasInput(chanPtr)) {
        why &= ~NS_EV_READ;
    }
    if (active && (why & NS_EV_READ) != 0 && (wants & NS_EV_READ) != 0) {
        active = RunCallback(chanPtr, 'r');
    }
    if (active && (why & NS_EV_WRITE) != 0 && (wants & NS_EV_WRITE) != 0) {
        active = RunCallback(chanPtr, 'w');
    }
    if (active && (why & NS_EV_ERROR) != 0 && (wants & NS_EV_ERROR) != 0) {
        active = RunCallback(chanPtr, 'e');
    }
    if (active && (why & NS_EV_EXIT) != 0 && (wants & NS_EV_EXIT) != 0) {
        active = RunCallback(chanPtr, 'x');
    }
    if (active && (why & NS_EV_TIMEOUT) != 0 && wants != 0) {
        active = RunCallback(chanPtr, 't');
    }
    ConnChanUpdateEvent(chanPtr);
    RunDeferredReads();
    ConnChanRelease(chanPtr);
}

/*
 *----------------------------------------------------------------------
 * ConnChanStartListening --
 *
 *      Make a listening channel accept through the event thread.
 *----------------------------------------------------------------------
 */
void
ConnChanStartListening(ConnChan *chanPtr, const char *script)
{
    pthread_mutex_lock(&chanPtr->lock);
    chanPtr->script = ns_strdup(script);
    pthread_mutex_unlock(&chanPtr->lock);
    ConnChanUpdateEvent(chanPtr);
}

/*
 *----------------------------------------------------------------------
 * ListEntry --
 *
 *      The 10 fields of an ns_connchan list entry.  Called with the
 *      channel's lock held.
 *----------------------------------------------------------------------
 */
static Tcl_Obj *
ListEntry(const ConnChan *chanPtr)
{
    Tcl_Obj    *entryObj = Tcl_NewListObj(0, NULL);
    Tcl_DString ds;

    Tcl_DStringInit(&ds);
    Ns_TimeToString(&chanPtr->start, &ds);
    Tcl_ListObjAppendElement(NULL, entryObj, Tcl_NewStringObj(chanPtr->name, -1));
    Tcl_ListObjAppendElement(NULL, entryObj, Tcl_NewStringObj(chanPtr->threadName, -1));
    Tcl_ListObjAppendElement(NULL, entryObj, Tcl_NewStringObj(Tcl_DStringValue(&ds), -1));
    Tcl_ListObjAppendElement(NULL, entryObj, Tcl_NewStringObj(chanPtr->driverName, -1));
    Tcl_ListObjAppendElement(NULL, entryObj, Tcl_NewStringObj(ConnChanPeer(chanPtr), -1));
    Tcl_ListObjAppendElement(NULL, entryObj, Tcl_NewWideIntObj((Tcl_WideInt)chanPtr->sent));
    Tcl_ListObjAppendElement(NULL, entryObj,
                             Tcl_NewWideIntObj((Tcl_WideInt)chanPtr->received));
    Tcl_ListObjAppendElement(NULL, entryObj, Tcl_NewStringObj(chanPtr->clientData != NULL
                                                              ? chanPtr->clientData : "", -1));
    Tcl_ListObjAppendElement(NULL, entryObj, Tcl_NewStringObj(chanPtr->script != NULL
                                                              ? chanPtr->script : "", -1));
    Tcl_ListObjAppendElement(NULL, entryObj, Tcl_NewStringObj(chanPtr->script != NULL
                                                              ? chanPtr->whenString : "", -1));
    Tcl_DStringFree(&ds);
    return entryObj;
}

/*
 *----------------------------------------------------------------------
 * ConnChanList --
 *
 *      One entry per open channel of the server, in no particular order.
 *----------------------------------------------------------------------
 */
Tcl_Obj *
ConnChanList(const char *server)
{
    Tcl_Obj       *listObj = Tcl_NewListObj(0, NULL);
    Tcl_HashSearch search;

    pthread_mutex_lock(&tableLock);
    if (tableInit) {
        for (Tcl_HashEntry *hPtr = Tcl_FirstHashEntry(&channels, &search); hPtr != NULL;
             hPtr = Tcl_NextHashEntry(&search)) {
            ConnChan *chanPtr = Tcl_GetHashValue(hPtr);

            if (server == NULL || strcmp(server, chanPtr->server) == 0) {
                pthread_mutex_lock(&chanPtr->lock);
                Tcl_ListObjAppendElement(NULL, listObj, ListEntry(chanPtr));
                pthread_mutex_unlock(&chanPtr->lock);
            }
        }
    }
    pthread_mutex_unlock(&tableLock);
    return listObj;
}

/*
 *----------------------------------------------------------------------
 * ConnChanStatus --
 *
 *      The status dict of a channel.
 *----------------------------------------------------------------------
 */
Tcl_Obj *
ConnChanStatus(ConnChan *chanPtr)
{
    Tcl_Obj    *dictObj = Tcl_NewDictObj();
    Tcl_DString ds;

#define PUT(key, valueObj) Tcl_DictObjPut(NULL, dictObj, Tcl_NewStringObj((key), -1), (valueObj))
    Tcl_DStringInit(&ds);
    pthread_mutex_lock(&chanPtr->lock);
    Ns_TimeToString(&chanPtr->start, &ds);
    PUT("driver", Tcl_NewStringObj(chanPtr->driverName, -1));
    PUT("fragments", Tcl_NewWideIntObj((Tcl_WideInt)(chanPtr->readerPtr != NULL
                                                     ? chanPtr->readerPtr->fragmentsLen : 0)));
    PUT("framebuffer", Tcl_NewWideIntObj((Tcl_WideInt)ConnChanKept(chanPtr)));
    PUT("peer", Tcl_NewStringObj(ConnChanPeer(chanPtr), -1));
    PUT("received", Tcl_NewWideIntObj((Tcl_WideInt)chanPtr->received));
    PUT("sendbuffer", Tcl_NewWideIntObj((Tcl_WideInt)chanPtr->queued));
    PUT("sent", Tcl_NewWideIntObj((Tcl_WideInt)chanPtr->sent));
    PUT("start", Tcl_NewStringObj(Tcl_DStringValue(&ds), -1));
    if (chanPtr->script != NULL) {
        PUT("callback", Tcl_NewStringObj(chanPtr->script, -1));
        PUT("condition", Tcl_NewStringObj(chanPtr->whenString, -1));
    }
    pthread_mutex_unlock(&chanPtr->lock);
#undef PUT
    Tcl_DStringFree(&ds);
    return dictObj;
}
