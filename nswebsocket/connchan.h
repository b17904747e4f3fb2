/*
 * connchan.h --
 *
 *      Connection channels inside the module: a socket taken from a
 *      connection (or opened, connected, accepted), its send buffer, its
 *      read-side buffers, and its callback.  Shared by the ns_connchan
 *      command (connchancmd.c) and the WebSocket layer.
 *
 *      Lock order: tableLock (connchan.c) before a channel's lock.  A
 *      channel's lock serialises all I/O on its socket (TLS state must never
 *      be used by two threads at once); the socket is non-blocking, so the
 *      lock is held only for the duration of one recv or send call.
 */

#ifndef CONNCHAN_H
#define CONNCHAN_H

#include "ns.h"
#include "wsreadframe.h"

#include <stdatomic.h>

#define CONNCHAN_READ_CHUNK 16384
#define CHAN_QUEUE_MAX      (1u << 31)   /* entries in a channel's send queue */

#ifndef UNUSED
#define UNUSED(x) x __attribute__((unused))
#endif

/* Bytes shared by the send queues of several channels (a multicast frame). */
typedef struct ChanBuf {
    atomic_int refCount;
    size_t     len;
    char       data[];
} ChanBuf;

typedef struct ChanQueueEntry {
    ChanBuf *bufPtr;        /* referenced */
    size_t   offset;        /* bytes of it already sent */
} ChanQueueEntry;

/* Flags of ConnChanWriteV. */
#define CHAN_WRITE_BUFFERED     1u   /* only queue */
#define CHAN_WRITE_LAST         2u   /* nothing may be written after this */
#define CHAN_WRITE_SKIP_BACKLOG 4u   /* drop queued messages not begun first */

typedef enum {
    CHAN_SEND_OK,           /* sent or queued */
    CHAN_SEND_OVER_LIMIT,   /* the queue is over the limit: nothing done */
    CHAN_SEND_FAILED        /* closed, or the peer is gone */
} ChanSendStatus;

typedef struct ConnChan {
    char             name[32];      /* "conn7", never reused */
    const char      *server;        /* virtual server it belongs to (shared) */
    const struct WsConfig *configPtr; /* the module's settings for that server */
    const char      *threadName;    /* thread that created it (shared) */
    const char      *driverName;    /* "http", "https": driver module (shared); set
                                     * again under lock by ConnChanSetDriverName */
    char            *address;       /* the peer as given when that is not the sock's
                                     * own text (a listening channel's address), else
                                     * NULL: ConnChanPeer */
    Ns_Time          start;         /* start of the request, or creation */
    char            *clientData;    /* from ns_conn clientdata at detach */
    atomic_int       refCount;      /* table + callers + the event */
    int              listenFd;      /* >= 0 for a listening channel (no sock) */
    Ns_Driver       *listenDriver;  /* driver that accepts for a listening channel */

    pthread_mutex_t  lock;          /* protects everything below */
    Ns_Sock         *sockPtr;       /* NULL once closed */
    int              debugLevel;
    /* The ring of bytes not yet taken by the kernel: CHAN_QUEUE_MAX entries at
     * most, so that head + count never passes 2^32. */
    uint32_t         queueHead;     /* first entry */
    uint32_t         queueCount;    /* entries in use */
    uint32_t         queueSize;     /* entries allocated */
    struct ChanQueueEntry *queue;
    size_t           queued;        /* bytes queued */
    uint64_t         sent;          /* bytes handed to the kernel */
    uint64_t         received;      /* bytes read */
    WsFrameReader   *readerPtr;     /* bytes read but not returned (detach leftover,
                                     * frames), and an unfinished fragmented message;
                                     * NULL until needed (ConnChanReader) */
    /* The callback (ns_connchan callback). */
    char            *script;        /* NULL when none */
    unsigned int     when;          /* NS_EV_READ | NS_EV_WRITE | NS_EV_ERROR | NS_EV_EXIT */
    unsigned int     callbackGen;   /* counts ns_connchan callback calls */
    char             whenString[8]; /* as given: "rw" ... */
    Ns_Time          timeout;       /* -timeout, sec < 0: none */
    Ns_Time          recvTimeout;   /* -receivetimeout, sec < 0: none */
    Ns_Time          sendTimeout;   /* -sendtimeout, sec < 0: none */
    Ns_Event        *event;         /* NULL until a callback or a pending send needs one */
    struct WsChannel *wsPtr;        /* WebSocket state, or NULL */
    bool             closed;
    bool             writesShut;    /* only a CHAN_WRITE_LAST message may be written */
    bool             eof;           /* the peer closed its side */
    bool             suspended;     /* the callback returned 2 */
    bool             closeWhenDrained; /* close as soon as the queue is empty */
    bool             corkPending;   /* queued while corked: the event thread flushes it */
    bool             wsReading;     /* a WebSocket read by the event thread */
    /*
     * WebSocket subscriptions, protected by subsLock (wsmulticast.c).  Every
     * server-side WebSocket is in the hidden "all", so that one is a flag
     * and costs no memory; the names of any others are allocated when the
     * first is added.
     */
    bool             inAll;         /* in the hidden subscription "all" */
    uint32_t         subscriptionsLen; /* bytes of the other names */
    char            *subscriptions; /* the other names, each ending with NUL
                                     * (malloc'd), or NULL */
} ConnChan;

/* Is a time option set (greater than zero; sec < 0 or 0 say none)? */
static inline bool
ConnChanTimeSet(const Ns_Time *timePtr)
{
    return timePtr->sec > 0 || (timePtr->sec == 0 && timePtr->usec > 0);
}

/* connchan.c */
const char *ConnChanHoldString(const char *string);
void        ConnChanSetDriverName(ConnChan *chanPtr, const char *name);
void        ConnChanReleaseString(const char *shared);
int         ConnChanEval(ConnChan *chanPtr, Tcl_Interp *interp, Tcl_Obj *scriptObj);
ConnChan   *ConnChanCreate(const char *server, Ns_Sock *sockPtr, const char *peer,
                           const Ns_Time *startPtr, const char *clientData);
ConnChan   *ConnChanGet(const char *server, const char *name);   /* referenced, or NULL */
void        ConnChanRelease(ConnChan *chanPtr);
const char *ConnChanPeer(const ConnChan *chanPtr);
WsFrameReader *ConnChanReader(ConnChan *chanPtr);
size_t      ConnChanKept(const ConnChan *chanPtr);
void        ConnChanClose(ConnChan *chanPtr);
Tcl_Obj    *ConnChanList(const char *server);
Tcl_Obj    *ConnChanStatus(ConnChan *chanPtr);

/* chanio.c */
ChanBuf    *ChanBufCreate(const char *data, size_t len);
void        ChanBufRelease(ChanBuf *bufPtr);
int         ConnChanWrite(ConnChan *chanPtr, const char *data, size_t len, bool buffered,
                          size_t *writtenPtr, Ns_SockError *errPtr);
int         ConnChanWriteV(ConnChan *chanPtr, const struct iovec *iov, int iovcnt,
                           unsigned int flags, size_t *writtenPtr, Ns_SockError *errPtr);
ChanSendStatus ConnChanWriteShared(ConnChan *chanPtr, ChanBuf *bufPtr, size_t limit);
void        ConnChanShutWrites(ConnChan *chanPtr);
void        ConnChanShutdownSend(ConnChan *chanPtr);
void        ConnChanCork(void);
void        ConnChanUncork(void);
int         ConnChanFlush(ConnChan *chanPtr, Ns_SockError *errPtr);
void        ConnChanDropQueue(ConnChan *chanPtr);
int         ConnChanRead(ConnChan *chanPtr, Tcl_DString *dsPtr, Ns_SockError *errPtr);
int         ConnChanReadSocket(ConnChan *chanPtr, Tcl_DString *dsPtr, Ns_SockError *errPtr);
int         ConnChanReadEvent(ConnChan *chanPtr, Tcl_DString *dsPtr, Ns_SockError *errPtr);
void        ConnChanUnread(ConnChan *chanPtr, const char *data, size_t len);
void        ConnChanSetClosedError(Ns_SockError *errPtr, const char *name);

void        ConnChanSetCallback(ConnChan *chanPtr, const char *script, unsigned int when,
                                const char *whenString);
void        ConnChanUpdateEvent(ConnChan *chanPtr);
void        ConnChanScheduleRead(ConnChan *chanPtr);
void        ConnChanCloseWhenDrained(ConnChan *chanPtr);
void        ConnChanSetError(Tcl_Interp *interp, const Ns_SockError *errPtr);
void        ConnChanLookupError(Tcl_Interp *interp, const char *name);
void        ConnChanStartListening(ConnChan *chanPtr, const char *script);

/* connchancmd.c */
Tcl_ObjCmdProc ConnChanObjCmd;

#endif /* CONNCHAN_H */
