/*
 * ns.h --
 *
 *      The public C API of the nsws host (libnsd): what a loadable module such
 *      as nswebsocket.so may use.  Names follow NaviServer: Ns_Xxx functions and
 *      types.  Everything here is safe to call from any thread unless its
 *      comment says otherwise.
 */

#ifndef NS_H
#define NS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/in.h>
#include <pthread.h>
#include <tcl.h>

#define NS_EXPORT __attribute__((visibility("default")))

/* Result codes of the C API, as in NaviServer. */
typedef enum {
    NS_OK      = 0,
    NS_ERROR   = -1,
    NS_TIMEOUT = -2,
    NS_FILTER_BREAK = 1
} Ns_ReturnCode;

/* A copy of a string, freed with ckfree. */
static inline char *
ns_strdup(const char *string)
{
    size_t size = strlen(string) + 1;

    return memcpy(ckalloc(size), string, size);
}

/*
 * Memory from malloc rather than ckalloc, for what thousands of connections
 * keep for long: malloc rounds to 16 bytes, Tcl's allocator up to a power
 * of two, and it keeps freed blocks per thread.  As with ckalloc, never
 * NULL: out of memory is a panic.  Freed with free.  ns_calloc zeroes;
 * ns_realloc resizes such a block.
 */
static inline void *
ns_malloc(size_t size)
{
    void *ptr = malloc(size);

    if (ptr == NULL) {
        Tcl_Panic("unable to allocate %zu bytes", size);
    }
    return ptr;
}

static inline void *
ns_calloc(size_t size)
{
    return memset(ns_malloc(size), 0, size);
}

static inline void *
ns_realloc(void *ptr, size_t size)
{
    void *newPtr = realloc(ptr, size);

    if (newPtr == NULL) {
        Tcl_Panic("unable to allocate %zu bytes", size);
    }
    return newPtr;
}

/*
 * ---------------------------------------------------------------------
 * Time
 * ---------------------------------------------------------------------
 */

typedef struct Ns_Time {
    time_t sec;     /* whole seconds */
    long   usec;    /* microseconds, 0..999999 */
} Ns_Time;

NS_EXPORT void   Ns_GetTime(Ns_Time *timePtr);                  /* wall clock */
NS_EXPORT void   Ns_GetMonotonicTime(Ns_Time *timePtr);
NS_EXPORT void   Ns_IncrTime(Ns_Time *timePtr, time_t sec, long usec);
NS_EXPORT void   Ns_AdjTime(Ns_Time *timePtr);
NS_EXPORT long   Ns_DiffTime(const Ns_Time *t1, const Ns_Time *t0, Ns_Time *diffPtr);
NS_EXPORT int64_t Ns_TimeToMilliseconds(const Ns_Time *timePtr);
NS_EXPORT int64_t Ns_TimeToMicroseconds(const Ns_Time *timePtr);
NS_EXPORT Ns_ReturnCode Ns_ParseTime(const char *string, Ns_Time *timePtr);
NS_EXPORT void   Ns_TimeToString(const Ns_Time *timePtr, Tcl_DString *dsPtr);

/*
 * ---------------------------------------------------------------------
 * Logging.  Severities are NaviServer's; Debug(name) severities are created
 * on first use and start disabled.
 * ---------------------------------------------------------------------
 */

typedef int Ns_LogSeverity;
enum {
    Notice = 0, Warning, Error, Fatal, Bug, Debug, Dev,
    NS_LOG_NUM_PREDEFINED
};

NS_EXPORT void Ns_Log(Ns_LogSeverity severity, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
NS_EXPORT void Ns_VALog(Ns_LogSeverity severity, const char *fmt, va_list ap);
NS_EXPORT bool Ns_LogSeverityEnabled(Ns_LogSeverity severity);
NS_EXPORT Ns_LogSeverity Ns_CreateLogSeverity(const char *name);
NS_EXPORT const char *Ns_ThreadGetName(void);  /* the calling thread's name in the log */
NS_EXPORT void Ns_Fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/*
 * ---------------------------------------------------------------------
 * Configuration: the sections and parameters read from the config file.
 * Returned strings live as long as the process.
 * ---------------------------------------------------------------------
 */

typedef struct Ns_Set Ns_Set;

NS_EXPORT const char *Ns_ConfigGetValue(const char *section, const char *key);
NS_EXPORT const char *Ns_ConfigString(const char *section, const char *key, const char *def);
NS_EXPORT int     Ns_ConfigInt(const char *section, const char *key, int def);
NS_EXPORT int     Ns_ConfigIntRange(const char *section, const char *key, int def,
                                    int min, int max);
NS_EXPORT int64_t Ns_ConfigWideInt(const char *section, const char *key, int64_t def);
NS_EXPORT bool    Ns_ConfigBool(const char *section, const char *key, bool def);
NS_EXPORT void    Ns_ConfigTime(const char *section, const char *key, const char *def,
                                Ns_Time *timePtr);
NS_EXPORT Ns_Set *Ns_ConfigGetSection(const char *section);     /* NULL when absent */
NS_EXPORT const char *Ns_ConfigGetPath(const char *server, const char *module, ...);

/*
 * ---------------------------------------------------------------------
 * Ns_Set: an ordered list of key/value string pairs (headers, forms,
 * config sections).  Keys may repeat.  Not locked: one thread at a time.
 * ---------------------------------------------------------------------
 */

typedef struct Ns_SetField {
    char *name;
    char *value;
} Ns_SetField;

struct Ns_Set {
    char        *name;      /* set name, may be NULL */
    size_t       size;      /* number of fields in use */
    size_t       maxSize;   /* fields allocated */
    Ns_SetField *fields;
};

#define Ns_SetSize(s)       ((s)->size)
#define Ns_SetName(s)       ((s)->name)
#define Ns_SetKey(s, i)     ((s)->fields[(i)].name)
#define Ns_SetValue(s, i)   ((s)->fields[(i)].value)

NS_EXPORT Ns_Set *Ns_SetCreate(const char *name);
NS_EXPORT void    Ns_SetFree(Ns_Set *set);
NS_EXPORT size_t  Ns_SetPut(Ns_Set *set, const char *key, const char *value);
NS_EXPORT size_t  Ns_SetPutSz(Ns_Set *set, const char *key, ssize_t keyLength,
                              const char *value, ssize_t valueLength);
NS_EXPORT void    Ns_SetUpdate(Ns_Set *set, const char *key, const char *value);
NS_EXPORT void    Ns_SetIUpdate(Ns_Set *set, const char *key, const char *value);
NS_EXPORT int     Ns_SetFind(const Ns_Set *set, const char *key);   /* -1 when absent */
NS_EXPORT int     Ns_SetIFind(const Ns_Set *set, const char *key);
NS_EXPORT const char *Ns_SetGet(const Ns_Set *set, const char *key);
NS_EXPORT const char *Ns_SetIGet(const Ns_Set *set, const char *key);
NS_EXPORT void    Ns_SetDelete(Ns_Set *set, int index);
NS_EXPORT void    Ns_SetTrunc(Ns_Set *set, size_t size);
NS_EXPORT void    Ns_SetPutValue(Ns_Set *set, size_t index, const char *value);
NS_EXPORT Ns_Set *Ns_SetCopy(const Ns_Set *old);
/* Delete the first field with key (true when there was one). */
NS_EXPORT bool    Ns_SetDeleteKey(Ns_Set *set, const char *key);
NS_EXPORT bool    Ns_SetIDeleteKey(Ns_Set *set, const char *key);
/* True when key occurs at most once. */
NS_EXPORT bool    Ns_SetUnique(const Ns_Set *set, const char *key);
NS_EXPORT bool    Ns_SetIUnique(const Ns_Set *set, const char *key);
/* Append the fields of low whose keys high lacks; move all fields of from to to. */
NS_EXPORT void    Ns_SetMerge(Ns_Set *high, const Ns_Set *low);
NS_EXPORT void    Ns_SetIMerge(Ns_Set *high, const Ns_Set *low);
NS_EXPORT void    Ns_SetMove(Ns_Set *to, Ns_Set *from);

/* Tcl access to sets: Ns_TclEnterSet gives the set a handle in the interp. */
typedef enum {
    NS_TCL_SET_STATIC  = 0,    /* owned by C code, never freed by Tcl */
    NS_TCL_SET_DYNAMIC = 1     /* owned by the interp, freed by ns_set free/cleanup */
} Ns_TclSetType;

NS_EXPORT int     Ns_TclEnterSet(Tcl_Interp *interp, Ns_Set *set, Ns_TclSetType type);
NS_EXPORT Ns_Set *Ns_TclGetSet(Tcl_Interp *interp, const char *setId);
NS_EXPORT int     Ns_TclGetSet2(Tcl_Interp *interp, const char *setId, Ns_Set **setPtr);
NS_EXPORT int     Ns_TclFreeSet(Tcl_Interp *interp, const char *setId);

/*
 * ---------------------------------------------------------------------
 * Command argument parsing from spec tables (as NaviServer's Ns_ParseObjv).
 * The usage text of "wrong # args" errors is generated from the same tables.
 * ---------------------------------------------------------------------
 */

typedef struct Ns_ObjvSpec Ns_ObjvSpec;
typedef int (Ns_ObjvProc)(Ns_ObjvSpec *spec, Tcl_Interp *interp, int *objcPtr,
                          Tcl_Obj *const objv[]);

struct Ns_ObjvSpec {
    const char  *key;     /* "-option", "--", "name" or "?name" (optional arg) */
    Ns_ObjvProc *proc;    /* parser and converter */
    void        *dest;    /* where the converted value goes */
    void        *arg;     /* parser argument (e.g. table for Ns_ObjvIndex) */
};

typedef struct Ns_ObjvTable {
    const char *key;
    int         value;
} Ns_ObjvTable;

typedef struct Ns_ObjvValueRange {
    int64_t minValue;
    int64_t maxValue;
} Ns_ObjvValueRange;

/* Parsers.  dest types: Int int*, WideInt Tcl_WideInt*, Bool int*, String char**,
 * Obj Tcl_Obj**, Time Ns_Time**, Index int* (arg: Ns_ObjvTable*),
 * Flags unsigned int* (arg: Ns_ObjvTable*), Set Ns_Set**, Args int* (count of the
 * remaining words, which it consumes; dest may be NULL),
 * Break ("--"), ByteArray (dest: unsigned char** , arg: int* length). */
NS_EXPORT Ns_ObjvProc Ns_ObjvInt, Ns_ObjvWideInt, Ns_ObjvBool, Ns_ObjvString, Ns_ObjvObj,
    Ns_ObjvTime, Ns_ObjvIndex, Ns_ObjvFlags, Ns_ObjvSet, Ns_ObjvArgs, Ns_ObjvBreak,
    Ns_ObjvByteArray, Ns_ObjvServer;

/* Ns_ObjvBool with arg == INT2PTR(value): a flag option taking no value. */
#define INT2PTR(i) ((void *)(intptr_t)(i))
#define PTR2INT(p) ((int)(intptr_t)(p))

NS_EXPORT int Ns_ParseObjv(Ns_ObjvSpec *optSpec, Ns_ObjvSpec *argSpec, Tcl_Interp *interp,
                           int offset, int objc, Tcl_Obj *const objv[]);
NS_EXPORT void Ns_WrongNumArgs(Tcl_Interp *interp, Ns_ObjvSpec *optSpec,
                               Ns_ObjvSpec *argSpec, int offset, Tcl_Obj *const objv[]);

/* Subcommand dispatch with exact matching from a table ending in {NULL, NULL}. */
typedef struct Ns_SubCmdSpec {
    const char     *key;
    Tcl_ObjCmdProc *proc;
} Ns_SubCmdSpec;

NS_EXPORT int Ns_SubcmdObjv(const Ns_SubCmdSpec *subcmdSpec, ClientData clientData,
                            Tcl_Interp *interp, int objc, Tcl_Obj *const objv[]);

/* UTF-8 on the wire: the bytes of a Tcl string (in dsPtr), a Tcl string of bytes. */
NS_EXPORT const char *Ns_Utf8FromObj(Tcl_Obj *objPtr, Tcl_DString *dsPtr, int *lenPtr);
NS_EXPORT Tcl_Obj    *Ns_Utf8ToObj(const char *bytes, size_t len);

/* Format the interp result (printf style); returns TCL_OK and sets no -errorcode. */
NS_EXPORT int Ns_TclPrintfResult(Tcl_Interp *interp, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * ---------------------------------------------------------------------
 * Sockets and drivers (DESIGN §3).  A driver is a table of non-blocking
 * functions; TLS "want read/write" never leaks above it.
 * ---------------------------------------------------------------------
 */

typedef enum {
    NS_IO_OK = 0,        /* some bytes moved (or handshake complete) */
    NS_IO_WANT_READ,     /* would block until readable */
    NS_IO_WANT_WRITE,    /* would block until writable */
    NS_IO_EOF,           /* orderly end of stream */
    NS_IO_ERROR          /* errno or TLS reason: Ns_SockErrorString */
} Ns_IoStatus;

typedef struct Ns_Driver Ns_Driver;

/*
 * A peer's address.  Room for IPv4 and IPv6 only, not for the path of a
 * Unix-domain socket, of which just the family is kept: a sock lives as
 * long as its connection, and an idle server may hold many thousands.
 */
typedef union Ns_SockAddr {
    struct sockaddr     sa;
    struct sockaddr_in  sin;
    struct sockaddr_in6 sin6;
} Ns_SockAddr;

/*
 * The text of a peer address: the longest IPv6 text is 39 characters (the
 * forms with an IPv4 tail, "::ffff:1.2.3.4", are shorter).
 */
#define NS_PEER_TEXT_SIZE 40

typedef struct Ns_Sock {
    int         fd;                     /* non-blocking socket */
    int         errnum;                 /* errno of the last NS_IO_ERROR, 0 for TLS */
    Ns_Driver  *driver;                 /* driver that owns it */
    void       *tls;                    /* driver-private (SSL *) or NULL */
    char       *errorMsg;               /* text of the last NS_IO_ERROR without an errno
                                         * (TLS), owned by the sock; else NULL.  Read
                                         * either with Ns_SockErrorString */
    Ns_SockAddr peerAddr;               /* remote address */
    int         peerPort;               /* remote port */
    char        peer[NS_PEER_TEXT_SIZE]; /* remote address as text, no brackets; "unix" */
} Ns_Sock;

typedef struct Ns_DriverProcs {
    const char *name;       /* "nssock", "nsssl" */
    const char *protocol;   /* "http", "https" */
    int         defaultPort;
    /* Set up the driver's private state from its config section; NULL: none. */
    Ns_ReturnCode (*initProc)(Ns_Driver *driver, const char *section);
    /* Accept one connection from the listening fd into sockPtr (fd, peer set). */
    Ns_IoStatus (*acceptProc)(Ns_Driver *driver, int listenFd, Ns_Sock *sockPtr);
    /* Complete a TLS handshake step; plain drivers: NULL (nothing to do). */
    Ns_IoStatus (*handshakeProc)(Ns_Sock *sockPtr);
    /* Non-blocking recv/send; *nPtr gets the byte count on NS_IO_OK. */
    Ns_IoStatus (*recvProc)(Ns_Sock *sockPtr, void *buf, size_t len, size_t *nPtr);
    Ns_IoStatus (*sendProc)(Ns_Sock *sockPtr, const struct iovec *iov, int iovcnt,
                            size_t *nPtr);
    /* Release driver state and close the fd. */
    void        (*closeProc)(Ns_Sock *sockPtr);
} Ns_DriverProcs;

struct Ns_Driver {
    const Ns_DriverProcs *procs;
    const char *moduleName;   /* config name, e.g. "http" */
    const char *section;      /* "ns/module/http" */
    const char *server;       /* default virtual server */
    const char *address;      /* listen address as configured */
    const char *hostname;     /* for ns_conn location */
    int         port;         /* port as configured (0: ephemeral) */
    int         boundPort;    /* port actually bound */
    int         listenFd;     /* -1 when not listening */
    void       *ctx;          /* driver-private (SSL_CTX *) */
    /* Limits, all from the driver's config section. */
    int         backlog;
    int64_t     maxinput;     /* body bytes */
    int         maxline;      /* request line bytes */
    int         maxheaders;   /* header count */
    int         maxheaderline;/* bytes of one header line */
    int         maxsock;      /* open sockets handled by this driver */
    Ns_Time     recvwait;     /* head/body must arrive within this */
    Ns_Time     sendwait;     /* a blocked send gives up after this */
    Ns_Time     keepwait;     /* idle keep-alive connections close after this */
};

/* What went wrong in a socket call, for the Tcl layer to report. */
typedef struct Ns_SockError {
    char errorCode[160];    /* a Tcl list for -errorcode: "POSIX ECONNREFUSED {connection
                               refused}", "OPENSSL {certificate verify failed}", "NS_TIMEOUT" */
    char message[256];      /* lowercase message, e.g. "connection refused" */
} Ns_SockError;

/* Client-side TLS settings (ns_connchan connect -tls, open https://). */
typedef struct Ns_TlsOptions {
    const char *cafile;       /* CA file to verify with; NULL: ns/httpclient cafile, else system */
    const char *capath;       /* CA directory; NULL: as cafile */
    const char *cert;         /* client certificate (PEM), or NULL */
    const char *key;          /* its key (PEM); NULL: in the cert file */
    const char *hostname;     /* SNI and the name the certificate must match; NULL: host */
    bool        insecure;     /* do not verify the server certificate */
} Ns_TlsOptions;

NS_EXPORT Ns_Driver  *Ns_DriverFind(const char *moduleName);

/*
 * Outgoing and extra listening sockets.  Ns_SockConnect waits (up to the
 * timeout) for the TCP connection and, with tlsPtr, the TLS handshake; the
 * socket is non-blocking afterwards.  Ns_SockConnectUnix does the same over
 * a Unix-domain socket.  Results: a new sock (free with Ns_SockDestroy), or
 * NULL with *errPtr filled in.
 */
NS_EXPORT Ns_Sock *Ns_SockConnect(const char *host, int port, const Ns_TlsOptions *tlsPtr,
                                  const Ns_Time *timeoutPtr, Ns_SockError *errPtr);
NS_EXPORT Ns_Sock *Ns_SockConnectUnix(const char *path, const Ns_TlsOptions *tlsPtr,
                                      const Ns_Time *timeoutPtr, Ns_SockError *errPtr);
/* A non-blocking listening fd (port 0: ephemeral, see *boundPortPtr), or -1 and errno. */
NS_EXPORT int      Ns_SockListen(const char *address, int port, int backlog,
                                 int *boundPortPtr);
/* Accept one waiting connection through driver (plain or TLS, handshake not yet done);
 * NULL when none is waiting (errPtr->message empty) or on error. */
NS_EXPORT Ns_Sock *Ns_SockAccept(Ns_Driver *driver, int listenFd, Ns_SockError *errPtr);
/* One step of the TLS handshake of an accepted sock: NS_IO_OK when complete (or plain). */
NS_EXPORT Ns_IoStatus Ns_SockHandshake(Ns_Sock *sockPtr);
/* Close (through the driver) and free a sock that the caller owns. */
NS_EXPORT void     Ns_SockDestroy(Ns_Sock *sockPtr);
/* Describe sockPtr's last NS_IO_ERROR in *errPtr. */
NS_EXPORT void     Ns_SockGetError(const Ns_Sock *sockPtr, Ns_SockError *errPtr);
/* The text of sockPtr's last NS_IO_ERROR ("Connection reset by peer"), "" when none. */
NS_EXPORT const char *Ns_SockErrorString(const Ns_Sock *sockPtr);
NS_EXPORT Ns_IoStatus Ns_SockRecv(Ns_Sock *sockPtr, void *buf, size_t len, size_t *nPtr);
NS_EXPORT Ns_IoStatus Ns_SockSend(Ns_Sock *sockPtr, const struct iovec *iov, int iovcnt,
                                  size_t *nPtr);
/* Send everything, waiting up to timeoutPtr (NULL: driver sendwait). */
NS_EXPORT Ns_ReturnCode Ns_SockSendAll(Ns_Sock *sockPtr, const struct iovec *iov, int iovcnt,
                                       const Ns_Time *timeoutPtr);
NS_EXPORT void        Ns_SockClose(Ns_Sock *sockPtr);
/* Poll fd for events until a monotonic deadline: 1 ready, 0 passed, -1 errno. */
NS_EXPORT int         Ns_SockWaitUntil(int fd, short events, const Ns_Time *deadlinePtr);

/*
 * ---------------------------------------------------------------------
 * Connections: one HTTP request being served by a connection thread.
 * ---------------------------------------------------------------------
 */

typedef struct Ns_Conn Ns_Conn;

NS_EXPORT Ns_Conn    *Ns_GetConn(void);                /* this thread's, or NULL */
NS_EXPORT Ns_Conn    *Ns_TclGetConn(Tcl_Interp *interp);
NS_EXPORT const char *Ns_ConnServer(const Ns_Conn *conn);
NS_EXPORT const char *Ns_ConnMethod(const Ns_Conn *conn);
NS_EXPORT const char *Ns_ConnUrl(const Ns_Conn *conn);
NS_EXPORT Ns_Set     *Ns_ConnHeaders(const Ns_Conn *conn);
NS_EXPORT Ns_Set     *Ns_ConnOutputHeaders(const Ns_Conn *conn);
NS_EXPORT const char *Ns_ConnPeerAddr(const Ns_Conn *conn);
NS_EXPORT int         Ns_ConnPeerPort(const Ns_Conn *conn);
NS_EXPORT Ns_Sock    *Ns_ConnSock(const Ns_Conn *conn);   /* NULL once detached */
NS_EXPORT uintptr_t   Ns_ConnId(const Ns_Conn *conn);
NS_EXPORT void        Ns_ConnStartTime(const Ns_Conn *conn, Ns_Time *timePtr);
NS_EXPORT const char *Ns_ConnClientData(const Ns_Conn *conn);   /* ns_conn clientdata, or NULL */

/*
 * Take the socket away from the connection: the caller owns it from now on,
 * the connection does not count against maxconnections any more, and later
 * writes to the connection fail with "connection socket is detached".
 * Bytes already read past the request (pipelined data) are handed over in
 * *leftoverPtr (caller frees with ckfree) and *leftoverLenPtr.
 */
NS_EXPORT Ns_Sock *Ns_ConnDetachSock(Ns_Conn *conn, char **leftoverPtr, size_t *leftoverLenPtr);

/* Writing a response (the connection thread only). */
NS_EXPORT Ns_ReturnCode Ns_ConnReturnData(Ns_Conn *conn, int status, const char *data,
                                          ssize_t len, const char *mimeType);
NS_EXPORT Ns_ReturnCode Ns_ConnReturnStatus(Ns_Conn *conn, int status);
NS_EXPORT Ns_ReturnCode Ns_ConnWriteVData(Ns_Conn *conn, const struct iovec *iov, int iovcnt);
NS_EXPORT void          Ns_ConnSetStatus(Ns_Conn *conn, int status);  /* for the access log */
NS_EXPORT void          Ns_ConnSetLengthHeader(Ns_Conn *conn, size_t length);

/* Request procs, as ns_register_proc registers them from Tcl. */
typedef Ns_ReturnCode (Ns_OpProc)(void *arg, Ns_Conn *conn);
typedef void (Ns_FreeProc)(void *arg);
#define NS_OP_NOINHERIT 0x02u

NS_EXPORT void Ns_RegisterRequest(const char *server, const char *method, const char *url,
                                  Ns_OpProc *proc, Ns_FreeProc *deleteProc, void *arg,
                                  unsigned int flags);

/*
 * ---------------------------------------------------------------------
 * Tcl interps and module initialisation.
 * ---------------------------------------------------------------------
 */

typedef Ns_ReturnCode (Ns_TclTraceProc)(Tcl_Interp *interp, const void *arg);

/* Call proc in every interp of the server when it is created (commands etc.). */
NS_EXPORT Ns_ReturnCode Ns_TclRegisterTrace(const char *server, Ns_TclTraceProc *proc,
                                            const void *arg);
/* A fresh interp for the server, initialised as connection interps are. */
NS_EXPORT Tcl_Interp *Ns_TclAllocateInterp(const char *server);
NS_EXPORT void        Ns_TclDeAllocateInterp(Tcl_Interp *interp);
/* This thread's interp for the server, created on first use and deleted by the host
 * when the thread ends (connection threads, the event thread). */
NS_EXPORT Tcl_Interp *Ns_TclThreadInterp(const char *server);
NS_EXPORT const char *Ns_TclInterpServer(Tcl_Interp *interp);
NS_EXPORT void        Ns_TclLogErrorInfo(Tcl_Interp *interp, const char *context);

/*
 * ---------------------------------------------------------------------
 * The event thread (DESIGN §2): one epoll loop that owns every socket with
 * a callback.  All Ns_Event calls are safe from any thread; the event's proc
 * always runs in the event thread, one at a time.
 * ---------------------------------------------------------------------
 */

#define NS_EV_READ    0x01u   /* readable (or EOF) */
#define NS_EV_WRITE   0x02u   /* writable */
#define NS_EV_ERROR   0x04u   /* error or hang-up on the fd */
#define NS_EV_EXIT    0x08u   /* the server is shutting down (always delivered) */
#define NS_EV_TIMEOUT 0x10u   /* the event's timeout passed */

typedef struct Ns_Event Ns_Event;
typedef void (Ns_EventProc)(Ns_Event *event, void *arg, unsigned int why);
typedef void (Ns_EventFreeProc)(void *arg);
typedef void (Ns_EventCallProc)(void *arg);

/* A new event on fd, watching nothing yet. */
NS_EXPORT Ns_Event *Ns_EventCreate(int fd, Ns_EventProc *proc, Ns_EventFreeProc *freeProc,
                                   void *arg);
/* Watch for the NS_EV_* in when; timeoutPtr (relative, NULL: none) fires NS_EV_TIMEOUT
 * when nothing else happened for that long. */
NS_EXPORT void Ns_EventSet(Ns_Event *event, unsigned int when, const Ns_Time *timeoutPtr);
/* Stop watching; the event thread then calls freeProc(arg).  No proc call follows. */
NS_EXPORT void Ns_EventDestroy(Ns_Event *event);
/* Run proc(arg) in the event thread (at once when already there). */
NS_EXPORT void Ns_EventCall(Ns_EventCallProc *proc, void *arg);
NS_EXPORT bool Ns_EventIsEventThread(void);

/* Callbacks at shutdown, in the order registered. */
typedef void (Ns_ShutdownProc)(const Ns_Time *toutPtr, void *arg);
NS_EXPORT void Ns_RegisterAtShutdown(Ns_ShutdownProc *proc, void *arg);
NS_EXPORT bool Ns_InfoShutdownPending(void);

/* The entry point a C module exports (each module defines it; libnsd does not). */
typedef Ns_ReturnCode (Ns_ModuleInitProc)(const char *server, const char *module);
NS_EXPORT Ns_ReturnCode Ns_ModuleInit(const char *server, const char *module);

NS_EXPORT const char *Ns_InfoHomePath(void);
NS_EXPORT int         Ns_Main(int argc, char **argv);
NS_EXPORT const char *Ns_InfoServerVersion(void);

#endif /* NS_H */
