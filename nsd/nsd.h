/*
 * nsd.h --
 *
 *      Declarations shared between the files of the host (libnsd).  Nothing
 *      here is part of the public API of include/ns.h: modules must not use it.
 */

#ifndef NSD_H
#define NSD_H

#include "config.h"
#include "ns.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stdatomic.h>

#define NS_VERSION PACKAGE_VERSION

#define UNUSED(x) x __attribute__((unused))

#define NS_STRING_EMPTY(s) ((s) == NULL || *(s) == '\0')

struct NsServer;
struct Sock;
struct NsHttpRequest;

/*
 * ---------------------------------------------------------------------
 * Drivers (driver.c, nssock.c): a listening socket, its thread, and the
 * sockets it reads requests from.
 * ---------------------------------------------------------------------
 */

typedef enum {
    SOCK_READ_HEAD,      /* waiting for (the rest of) a request head */
    SOCK_READ_BODY,      /* head parsed, reading Content-Length bytes */
    SOCK_QUEUED          /* handed to a connection thread */
} SockState;

typedef struct Sock {
    Ns_Sock          base;          /* must stay first: the public view */
    struct Sock     *nextPtr;       /* driver's list of open socks */
    struct Sock     *prevPtr;
    struct Driver   *drvPtr;        /* the driver that accepted it */
    struct NsServer *servPtr;       /* server the requests go to */
    SockState        state;
    bool             handshakeDone; /* TLS handshake complete (always for plain) */
    bool             watchWrite;    /* epoll waits for writable: TLS recv wanted a write */
    Ns_Time          deadline;      /* monotonic: close when passed */
    char            *buf;           /* bytes read and not yet consumed */
    size_t           len;           /* bytes in buf */
    size_t           size;          /* bytes allocated for buf */
    size_t           headLen;       /* bytes of the parsed head, 0 before parsing */
    int64_t          bodyLen;       /* Content-Length of the request */
    bool             sentContinue;  /* "100 Continue" already sent */
    size_t           scanned;       /* head bytes already scanned for line ends */
    size_t           lineStart;     /* offset of the head line being received */
    unsigned int     lines;         /* complete head lines (leading empty ones apart) */
    unsigned int     emptyLines;    /* leading empty lines */
    unsigned int     requests;      /* requests served on this connection */
} Sock;

typedef struct Driver {
    Ns_Driver        base;          /* must stay first: the public view */
    struct Driver   *nextPtr;       /* all drivers */
    pthread_t        thread;
    bool             started;
    int              epollFd;
    int              wakeFd;        /* eventfd: socks returned, shutdown */
    pthread_mutex_t  lock;          /* protects the two fields below */
    Sock            *returnedPtr;   /* socks back from connection threads */
    bool             stopping;
    atomic_int       nopen;         /* open socks, wherever they are; not detached ones */
    /* Driver thread only: */
    Sock            *socksPtr;      /* socks being read or waiting for keep-alive */
    char            *readBuf;       /* where a sock's bytes arrive first (SockRead) */
    bool             acceptPaused;  /* listen fd out of epoll: maxsock or EMFILE */
    Ns_Time          acceptResume;  /* monotonic: not before this (EMFILE) */
    int              reserveFd;     /* held open to refuse connections at EMFILE */
    bool             refusing;      /* out of descriptors: refusing connections */
    unsigned long    refused;       /* how many, since refusing began */
} Driver;

/*
 * ---------------------------------------------------------------------
 * Connections (conn.c, pool.c): one request and its response.
 * ---------------------------------------------------------------------
 */

struct Ns_Conn {
    Sock            *sockPtr;       /* NULL once detached or closed */
    struct NsServer *servPtr;
    struct Ns_Conn  *nextPtr;       /* pool queue */
    Ns_Driver       *driver;        /* driver that read the request */
    char             peer[NS_PEER_TEXT_SIZE]; /* client address, kept after detach */
    int              peerPort;
    uintptr_t        id;
    Ns_Time          start;         /* wall clock, for the access log */
    char            *requestLine;   /* "GET /x HTTP/1.1" */
    char            *method;
    char            *target;        /* request-target as sent */
    char            *url;           /* decoded, normalised path */
    char            *query;         /* raw query string or NULL */
    int              versionMajor;
    int              versionMinor;
    Ns_Set          *headers;
    Ns_Set          *outputheaders;
    Ns_Set          *query_form;    /* parsed query + form, built on demand */
    const char      *content;       /* request body inside sockPtr->buf (or copy) */
    size_t           contentLength;
    char            *contentCopy;   /* body kept after detach */
    Tcl_Interp      *interp;        /* connection thread's interp */
    int              status;        /* response status, for the access log */
    int64_t          bytesSent;     /* body bytes sent */
    bool             headersSent;
    bool             responded;     /* a complete response was sent */
    bool             keepAlive;     /* both sides allow another request */
    bool             chunked;       /* streaming with chunked encoding */
    bool             detached;      /* the socket was taken by the application */
    char            *clientData;    /* ns_conn clientdata */
    char             headersId[32]; /* ns_set handles given out, "" when none */
    char             outputheadersId[32];
    char             formId[32];
    char            *authUser;
};
typedef struct Ns_Conn Conn;

/*
 * ---------------------------------------------------------------------
 * Virtual servers (server.c, pool.c, op.c).
 * ---------------------------------------------------------------------
 */

typedef struct TraceEntry {
    struct TraceEntry *nextPtr;
    Ns_TclTraceProc   *proc;
    const void        *arg;
} TraceEntry;

typedef struct NsServer {
    const char      *name;
    struct NsServer *nextPtr;
    /* Config, read once at start-up. */
    int              minthreads;
    int              maxthreads;
    int              maxconnections;  /* queued requests before 503 */
    const char      *pagedir;
    bool             enabletclpages;
    const char      *library;         /* per-server Tcl library: modules/tcl */
    const char      *modulesSection;  /* ns/server/NAME/modules */
    TraceEntry      *tracesPtr;       /* interp init procs, appended at start-up only */
    Tcl_DString      initScript;      /* sourced into every new interp */
    /* Pool; lock protects all fields below it. */
    pthread_mutex_t  lock;
    pthread_cond_t   cond;            /* signalled: work queued, thread exit */
    Conn            *queueHead;
    Conn            *queueTail;
    int              queued;
    int              idle;            /* threads waiting for work */
    int              threads;         /* threads alive */
    int              active;          /* requests being served */
    bool             stopping;
} NsServer;

/* server.c */
NsServer       *NsGetServer(const char *name);
NsServer       *NsDefaultServer(void);
Ns_ReturnCode   NsInitServers(void);
void            NsStartServers(void);
void            NsStopServers(const Ns_Time *deadlinePtr);
void            NsRunAtStartup(void);
void            NsRunAtShutdown(const Ns_Time *toutPtr);

/* pool.c */
bool            NsQueueConn(NsServer *servPtr, Conn *connPtr);
void            NsStartPool(NsServer *servPtr);
void            NsStopPool(NsServer *servPtr, const Ns_Time *deadlinePtr);

/* driver.c */
Ns_ReturnCode   NsInitDrivers(void);
Ns_ReturnCode   NsStartDrivers(void);
void            NsStopDrivers(void);
void            NsSockReturn(Sock *sockPtr);         /* keep-alive: back to the driver */
void            NsSockRelease(Sock *sockPtr);        /* close and free */
void            NsSockForget(Driver *drvPtr);        /* a sock left: maxsock bookkeeping */
/* nssock.c */
const Ns_DriverProcs *NsSockDriverProcs(void);
Ns_Driver      *NsSockClientDriver(void);             /* of outgoing plain socks */
int             NsSockListen(const char *address, int port, int backlog, int *boundPortPtr);
void            NsSockSetPeer(Ns_Sock *sockPtr);
Ns_IoStatus     NsSockAccept(Ns_Driver *driver, int listenFd, Ns_Sock *sockPtr);
Ns_IoStatus     NsSockSetError(Ns_Sock *sockPtr, int errnum);
Ns_IoStatus     NsSockSetErrorText(Ns_Sock *sockPtr, const char *message);
void            NsSockClearError(Ns_Sock *sockPtr);
/* nsssl.c */
const Ns_DriverProcs *NsSslDriverProcs(void);
Ns_ReturnCode   NsSslClientInit(Ns_Sock *sockPtr, const char *host,
                                const Ns_TlsOptions *tlsPtr, Ns_SockError *errPtr);
/* sockapi.c */
void            NsSockErrorSet(Ns_SockError *errPtr, const char *message, ...);
Ns_Sock        *NsSockAlloc(void);
void            NsSockErrorPosix(Ns_SockError *errPtr, int errnum);

/* conn.c */
Conn           *NsConnCreate(Sock *sockPtr, const struct NsHttpRequest *reqPtr, int *statusPtr);
void            NsConnRun(Conn *connPtr);
void            NsConnFree(Conn *connPtr);
Ns_ReturnCode   NsConnSendError(Sock *sockPtr, int status);
const char     *NsStatusPhrase(int status);
Ns_ReturnCode   NsConnWriteHeaders(Conn *connPtr, int status, const char *mimeType,
                                   int64_t length);
Ns_ReturnCode   NsConnReturnRedirect(Conn *connPtr, const char *url);
Ns_ReturnCode   NsConnReturnNotice(Conn *connPtr, int status, const char *title,
                                   const char *notice);
Ns_Set         *NsConnGetQuery(Conn *connPtr);
void            NsConnLocation(Conn *connPtr, Tcl_DString *dsPtr);

/* tclconn.c */
Conn           *NsTclGetConn(ClientData clientData, Tcl_Interp *interp);
Conn           *NsTclConnSock(ClientData clientData, Tcl_Interp *interp);

/* op.c */
Ns_ReturnCode   NsDispatch(Conn *connPtr);
void            NsUnregisterRequest(NsServer *servPtr, const char *method, const char *url,
                                    bool inherit);

/* fastpath.c */
Ns_ReturnCode   NsFastpathServe(Conn *connPtr);
Ns_ReturnCode   NsConnReturnFile(Conn *connPtr, int status, const char *mimeType,
                                 const char *path);
const char     *NsMimeType(const char *path);

/* event.c */
bool            NsStopEvents(const Ns_Time *deadlinePtr);

/* tclinit.c */
typedef struct NsInterp {
    Tcl_Interp *interp;
    NsServer   *servPtr;
    Conn       *connPtr;      /* request being served, or NULL */
    Tcl_Obj    *globalsObj;   /* globals of a clean interp, kept across requests */
    bool        initInterp;   /* the start-up interp that builds the blueprint */
} NsInterp;
void            NsTclInitServer(NsServer *servPtr, const char *globalLibrary);
NsInterp       *NsGetInterpData(Tcl_Interp *interp);
Tcl_Interp     *NsTclConnInterp(NsServer *servPtr);   /* this thread's, cached */
void            NsTclFreeThreadInterps(void);
void            NsTclRunCleanup(Tcl_Interp *interp);
Ns_ReturnCode   NsTclEvalFile(Tcl_Interp *interp, const char *path);

/* tclpage.c */
struct stat;
int             NsTclRunPage(Tcl_Interp *interp, const char *path, const struct stat *stPtr);

/* config.c */
Ns_ReturnCode   NsConfigRead(const char *file);
void            NsConfigSetDefault(const char *section, const char *key, const char *value);

/* modload.c */
Ns_ReturnCode   NsLoadModules(NsServer *servPtr);

/* main.c / nsmain.c */
extern const char *nsHome;
extern const char *nsConfigFile;
extern Ns_Time     nsBootTime;
void            NsSetShutdownPending(void);

/*
 * Tcl commands implemented in libnsd.  All take the interp's NsInterp as
 * clientData, but none may depend on it unless its file says so.
 */

/* tclset.c */
Tcl_ObjCmdProc NsTclSetObjCmd;
/* nsv.c */
Tcl_ObjCmdProc NsTclNsvSetObjCmd, NsTclNsvGetObjCmd, NsTclNsvExistsObjCmd,
    NsTclNsvUnsetObjCmd, NsTclNsvIncrObjCmd, NsTclNsvAppendObjCmd, NsTclNsvLappendObjCmd,
    NsTclNsvArrayObjCmd, NsTclNsvNamesObjCmd;
/* tclthread.c */
Tcl_ObjCmdProc NsTclMutexObjCmd, NsTclThreadObjCmd;
/* tclconn.c, tclresp.c */
Tcl_ObjCmdProc NsTclConnObjCmd, NsTclReturnObjCmd, NsTclRespondObjCmd, NsTclWriteObjCmd,
    NsTclHeadersObjCmd, NsTclReturnRedirectObjCmd, NsTclReturnNotFoundObjCmd,
    NsTclReturnForbiddenObjCmd, NsTclReturnUnauthorizedObjCmd, NsTclReturnFileObjCmd,
    NsTclQueryGetObjCmd, NsTclGetFormObjCmd;
/* driver.c */
Tcl_ObjCmdProc NsTclDriverObjCmd;
/* modload.c */
Tcl_ObjCmdProc NsTclModuleLoadObjCmd;
/* op.c */
Tcl_ObjCmdProc NsTclRegisterProcObjCmd, NsTclUnRegisterOpObjCmd;
/* config.c */
Tcl_ObjCmdProc NsTclConfigObjCmd, NsTclConfigSectionObjCmd, NsTclConfigSectionsObjCmd;
/* server.c */
Tcl_ObjCmdProc NsTclInfoObjCmd, NsTclAtStartupObjCmd, NsTclAtShutdownObjCmd;
/* tcltime.c */
Tcl_ObjCmdProc NsTclTimeObjCmd, NsTclSleepObjCmd;
/* tclurl.c */
Tcl_ObjCmdProc NsTclUrlEncodeObjCmd, NsTclUrlDecodeObjCmd, NsTclParseUrlObjCmd;

#include "log.h"

#endif /* NSD_H */
