/*
 * connchancmd.c --
 *
 *      The ns_connchan command: NaviServer 5's subcommands, options, results
 *      and error messages, over the channels of connchan.c.  Every
 *      subcommand may be called from any thread.
 */

#include "websocket.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

/*
 *----------------------------------------------------------------------
 * InterpServer --
 *
 *      The server a command is about: -server if given, else the interp's.
 *----------------------------------------------------------------------
 */
static const char *
InterpServer(Tcl_Interp *interp, const char *server)
{
    return (server != NULL) ? server : Ns_TclInterpServer(interp);
}

/*
 *----------------------------------------------------------------------
 * GetChannel --
 *
 *      Look up a channel argument, setting the error when there is none.
 *
 * Results:
 *      The referenced channel (release it), or NULL.
 *----------------------------------------------------------------------
 */
static ConnChan *
GetChannel(Tcl_Interp *interp, const char *server, const char *name)
{
    ConnChan *chanPtr = ConnChanGet(InterpServer(interp, server), name);

    if (chanPtr == NULL) {
        ConnChanLookupError(interp, name);
    }
    return chanPtr;
}

/*
 *----------------------------------------------------------------------
 * GetDriver --
 *
 *      Look up a driver argument, setting the error when there is none.
 *
 * Results:
 *      The driver, or NULL.
 *----------------------------------------------------------------------
 */
static Ns_Driver *
GetDriver(Tcl_Interp *interp, const char *name)
{
    Ns_Driver *driver = Ns_DriverFind(name);

    if (driver == NULL) {
        Tcl_SetObjResult(interp, Tcl_ObjPrintf("no such driver \"%s\"", name));
        Tcl_SetErrorCode(interp, "NS", "LOOKUP", "DRIVER", name, (char *)0);
    }
    return driver;
}

/*
 *----------------------------------------------------------------------
 * CheckRange --
 *
 *      Check an integer argument against its range, with the message that
 *      a range in the argument spec would give.  A few ranges are checked
 *      here rather than in the spec because a spec's range shows in the
 *      usage text, and NaviServer's reads "/port/" and "?/level/?".
 *
 * Results:
 *      TCL_OK, or TCL_ERROR with the message in the interp.
 *----------------------------------------------------------------------
 */
static int
CheckRange(Tcl_Interp *interp, const char *name, int value, int minValue, int maxValue)
{
    int result = TCL_OK;

    if (value < minValue || value > maxValue) {
        Tcl_SetObjResult(interp, Tcl_ObjPrintf("expected integer in range [%d,%d] for '%s',"
                                               " but got %d", minValue, maxValue, name, value));
        result = TCL_ERROR;
    }
    return result;
}

/*
 *----------------------------------------------------------------------
 * ConnChanDetachObjCmd --
 *
 *      ns_connchan detach
 *----------------------------------------------------------------------
 */
static int
ConnChanDetachObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                     Tcl_Obj *const objv[])
{
    Ns_Conn *conn;
    int      result = TCL_OK;

    if (Ns_ParseObjv(NULL, NULL, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else if ((conn = Ns_TclGetConn(interp)) == NULL) {
        Tcl_SetObjResult(interp, Tcl_NewStringObj("no current connection", -1));
        Tcl_SetErrorCode(interp, "NS", "NOCONN", (char *)0);
        result = TCL_ERROR;
    } else {
        char    *leftover = NULL;
        size_t   leftoverLen = 0;
        Ns_Sock *sockPtr = Ns_ConnDetachSock(conn, &leftover, &leftoverLen);

        if (sockPtr == NULL) {
            Tcl_SetObjResult(interp, Tcl_NewStringObj("connection socket is detached", -1));
            Tcl_SetErrorCode(interp, "NS", "CONN", "DETACHED", (char *)0);
            result = TCL_ERROR;
        } else {
            Ns_Time   start;
            ConnChan *chanPtr;

            Ns_ConnStartTime(conn, &start);
            chanPtr = ConnChanCreate(Ns_ConnServer(conn), sockPtr, Ns_ConnPeerAddr(conn), &start,
                                     Ns_ConnClientData(conn));
            ConnChanUnread(chanPtr, leftover, leftoverLen);
            ckfree(leftover);
            Tcl_SetObjResult(interp, Tcl_NewStringObj(chanPtr->name, -1));
            ConnChanRelease(chanPtr);
        }
    }
    return result;
}

/*
 *----------------------------------------------------------------------
 * ConnChanCloseObjCmd --
 *
 *      ns_connchan close ?-server /server/? /channel/
 *----------------------------------------------------------------------
 */
static int
ConnChanCloseObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                    Tcl_Obj *const objv[])
{
    char        *server = NULL, *name = NULL;
    Ns_ObjvSpec  opts[] = {
        {"-server", Ns_ObjvServer, &server, NULL},
        {NULL, NULL, NULL, NULL}
    };
    Ns_ObjvSpec  args[] = {
        {"channel", Ns_ObjvString, &name, NULL},
        {NULL, NULL, NULL, NULL}
    };
    ConnChan *chanPtr;
    int       result = TCL_OK;

    if (Ns_ParseObjv(opts, args, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else if ((chanPtr = GetChannel(interp, server, name)) == NULL) {
        result = TCL_ERROR;
    } else {
        ConnChanClose(chanPtr);
        ConnChanRelease(chanPtr);
    }
    return result;
}

/*
 *----------------------------------------------------------------------
 * ConnChanExistsObjCmd --
 *
 *      ns_connchan exists /channel/
 *----------------------------------------------------------------------
 */
static int
ConnChanExistsObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                     Tcl_Obj *const objv[])
{
    char        *name = NULL;
    Ns_ObjvSpec  args[] = {
        {"channel", Ns_ObjvString, &name, NULL},
        {NULL, NULL, NULL, NULL}
    };
    int result = TCL_OK;

    if (Ns_ParseObjv(NULL, args, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        ConnChan *chanPtr = ConnChanGet(InterpServer(interp, NULL), name);

        Tcl_SetObjResult(interp, Tcl_NewBooleanObj(chanPtr != NULL));
        if (chanPtr != NULL) {
            ConnChanRelease(chanPtr);
        }
    }
    return result;
}

/*
 *----------------------------------------------------------------------
 * ConnChanListObjCmd --
 *
 *      ns_connchan list ?-server /server/?
 *----------------------------------------------------------------------
 */
static int
ConnChanListObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                   Tcl_Obj *const objv[])
{
    char        *server = NULL;
    Ns_ObjvSpec  opts[] = {
        {"-server", Ns_ObjvServer, &server, NULL},
        {NULL, NULL, NULL, NULL}
    };
    int result = TCL_OK;

    if (Ns_ParseObjv(opts, NULL, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        Tcl_SetObjResult(interp, ConnChanList(InterpServer(interp, server)));
    }
    return result;
}

/*
 *----------------------------------------------------------------------
 * ConnChanStatusObjCmd --
 *
 *      ns_connchan status ?-server /server/? /channel/
 *----------------------------------------------------------------------
 */
static int
ConnChanStatusObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                     Tcl_Obj *const objv[])
{
    char        *server = NULL, *name = NULL;
    Ns_ObjvSpec  opts[] = {
        {"-server", Ns_ObjvServer, &server, NULL},
        {NULL, NULL, NULL, NULL}
    };
    Ns_ObjvSpec  args[] = {
        {"channel", Ns_ObjvString, &name, NULL},
        {NULL, NULL, NULL, NULL}
    };
    ConnChan *chanPtr;
    int       result = TCL_OK;

    if (Ns_ParseObjv(opts, args, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else if ((chanPtr = GetChannel(interp, server, name)) == NULL) {
        result = TCL_ERROR;
    } else {
        Tcl_SetObjResult(interp, ConnChanStatus(chanPtr));
        ConnChanRelease(chanPtr);
    }
    return result;
}

/*
 *----------------------------------------------------------------------
 * ConnChanDebugObjCmd --
 *
 *      ns_connchan debug /channel/ ?/level/?  -- with level > 0 sends and
 *      reads of the channel are logged.
 *----------------------------------------------------------------------
 */
static int
ConnChanDebugObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                    Tcl_Obj *const objv[])
{
    char              *name = NULL;
    int                level = -1;
    Ns_ObjvSpec        args[] = {
        {"channel", Ns_ObjvString, &name,  NULL},
        {"?level",  Ns_ObjvInt,    &level, NULL},
        {NULL, NULL, NULL, NULL}
    };
    ConnChan *chanPtr;
    int       result = TCL_OK;

    if (Ns_ParseObjv(NULL, args, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else if (objc > 3 && CheckRange(interp, "level", level, 0, 2) != TCL_OK) {
        result = TCL_ERROR;
    } else if ((chanPtr = GetChannel(interp, NULL, name)) == NULL) {
        result = TCL_ERROR;
    } else {
        pthread_mutex_lock(&chanPtr->lock);
        if (level >= 0) {
            chanPtr->debugLevel = level;
        }
        level = chanPtr->debugLevel;
        pthread_mutex_unlock(&chanPtr->lock);
        Tcl_SetObjResult(interp, Tcl_NewIntObj(level));
        ConnChanRelease(chanPtr);
    }
    return result;
}

/*
 *----------------------------------------------------------------------
 * ParseWhen --
 *
 *      The "when" argument of callback: characters from r w e x.
 *----------------------------------------------------------------------
 */
static int
ParseWhen(Tcl_Interp *interp, const char *whenString, unsigned int *whenPtr)
{
    unsigned int when = 0;
    bool         valid = (*whenString != '\0');

    for (const char *p = whenString; *p != '\0' && valid; p++) {
        switch (*p) {
        case 'r': when |= NS_EV_READ; break;
        case 'w': when |= NS_EV_WRITE; break;
        case 'e': when |= NS_EV_ERROR; break;
        case 'x': when |= NS_EV_EXIT; break;
        default:  valid = false; break;
        }
    }
    if (!valid || strlen(whenString) > 4) {
        Tcl_SetObjResult(interp, Tcl_ObjPrintf("invalid when specification: \"%s\": should be"
                                               " one/more characters of r, w, e, or x",
                                               whenString));
        Tcl_SetErrorCode(interp, "NS", "INVALID", "WHEN", whenString, (char *)0);
        return TCL_ERROR;
    }
    *whenPtr = when;
    return TCL_OK;
}

/*
 *----------------------------------------------------------------------
 * ConnChanCallbackObjCmd --
 *
 *      ns_connchan callback ?-timeout /time/? ?-receivetimeout /time/?
 *                           ?-sendtimeout /time/? /channel/ /command/ /when/
 *----------------------------------------------------------------------
 */
static int
ConnChanCallbackObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                       Tcl_Obj *const objv[])
{
    Ns_Time     *timeoutPtr = NULL, *recvTimeoutPtr = NULL, *sendTimeoutPtr = NULL;
    char        *name = NULL, *script = NULL, *whenString = NULL;
    Ns_ObjvSpec  opts[] = {
        {"-timeout",        Ns_ObjvTime, &timeoutPtr,     NULL},
        {"-receivetimeout", Ns_ObjvTime, &recvTimeoutPtr, NULL},
        {"-sendtimeout",    Ns_ObjvTime, &sendTimeoutPtr, NULL},
        {NULL, NULL, NULL, NULL}
    };
    Ns_ObjvSpec  args[] = {
        {"channel", Ns_ObjvString, &name,       NULL},
        {"command", Ns_ObjvString, &script,     NULL},
        {"when",    Ns_ObjvString, &whenString, NULL},
        {NULL, NULL, NULL, NULL}
    };
    ConnChan    *chanPtr;
    unsigned int when = 0;
    int          result = TCL_OK;

    if (Ns_ParseObjv(opts, args, interp, 2, objc, objv) != NS_OK
        || ParseWhen(interp, whenString, &when) != TCL_OK) {
        result = TCL_ERROR;
    } else if ((chanPtr = GetChannel(interp, NULL, name)) == NULL) {
        result = TCL_ERROR;
    } else {
        pthread_mutex_lock(&chanPtr->lock);
        chanPtr->timeout.sec = chanPtr->recvTimeout.sec = chanPtr->sendTimeout.sec = -1;
        if (timeoutPtr != NULL) {
            chanPtr->timeout = *timeoutPtr;
        }
        if (recvTimeoutPtr != NULL) {
            chanPtr->recvTimeout = *recvTimeoutPtr;
        }
        if (sendTimeoutPtr != NULL) {
            chanPtr->sendTimeout = *sendTimeoutPtr;
        }
        pthread_mutex_unlock(&chanPtr->lock);
        ConnChanSetCallback(chanPtr, script, when, whenString);
        ConnChanRelease(chanPtr);
    }
    return result;
}

/*
 *----------------------------------------------------------------------
 * ConnChanWriteObjCmd --
 *
 *      ns_connchan write ?-buffered? /channel/ /message/
 *
 * Results:
 *      The number of bytes of message that the kernel took.
 *----------------------------------------------------------------------
 */
static int
ConnChanWriteObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                    Tcl_Obj *const objv[])
{
    int          buffered = 0;
    char        *name = NULL;
    Tcl_Obj     *msgObj = NULL;
    Ns_ObjvSpec  opts[] = {
        {"-buffered", Ns_ObjvBool, &buffered, INT2PTR(1)},
        {NULL, NULL, NULL, NULL}
    };
    Ns_ObjvSpec  args[] = {
        {"channel", Ns_ObjvString, &name,   NULL},
        {"message", Ns_ObjvObj,    &msgObj, NULL},
        {NULL, NULL, NULL, NULL}
    };
    ConnChan *chanPtr;
    int       result = TCL_OK;

    if (Ns_ParseObjv(opts, args, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else if ((chanPtr = GetChannel(interp, NULL, name)) == NULL) {
        result = TCL_ERROR;
    } else {
        int                  len;
        const unsigned char *bytes = Tcl_GetByteArrayFromObj(msgObj, &len);
        size_t               written = 0;
        Ns_SockError         err;

        if (ConnChanWrite(chanPtr, (const char *)bytes, (size_t)len, buffered != 0, &written,
                          &err) != TCL_OK) {
            ConnChanSetError(interp, &err);
            result = TCL_ERROR;
        } else {
            Tcl_SetObjResult(interp, Tcl_NewWideIntObj((Tcl_WideInt)written));
        }
        ConnChanRelease(chanPtr);
    }
    return result;
}

/*
 *----------------------------------------------------------------------
 * ReadFrame --
 *
 *      read -websocket: take one frame from what the channel has read, as
 *      NaviServer does (wsreadframe.c).  The socket is read only when no
 *      frame is there yet, so the bytes kept stay within a frame and a
 *      read, however many frames the peer sends ahead.  Frames and
 *      messages are limited by the module's maxmessage, like those of
 *      ws::handshake channels.
 *
 * Results:
 *      TCL_OK with the result dict, or the empty string at EOF without a
 *      whole frame; TCL_ERROR for a read error or a malformed frame.
 *----------------------------------------------------------------------
 */
static int
ReadFrame(Tcl_Interp *interp, ConnChan *chanPtr)
{
    Tcl_DString  ds;
    Ns_SockError err;
    uint64_t     maxMessage = chanPtr->configPtr->maxMessage;
    bool         ready;
    int          result;

    pthread_mutex_lock(&chanPtr->lock);
    ready = WsFrameReaderReady(ConnChanReader(chanPtr), maxMessage);
    pthread_mutex_unlock(&chanPtr->lock);

    Tcl_DStringInit(&ds);
    if (!ready && ConnChanReadSocket(chanPtr, &ds, &err) != TCL_OK) {
        ConnChanSetError(interp, &err);
        result = TCL_ERROR;
    } else {
        pthread_mutex_lock(&chanPtr->lock);
        result = WsFrameReaderNext(interp, ConnChanReader(chanPtr), Tcl_DStringValue(&ds),
                                   (size_t)Tcl_DStringLength(&ds), chanPtr->eof, maxMessage);
        pthread_mutex_unlock(&chanPtr->lock);
    }
    Tcl_DStringFree(&ds);
    return result;
}

/*
 *----------------------------------------------------------------------
 * ConnChanReadObjCmd --
 *
 *      ns_connchan read ?-websocket? /channel/
 *----------------------------------------------------------------------
 */
static int
ConnChanReadObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                   Tcl_Obj *const objv[])
{
    int          websocket = 0;
    char        *name = NULL;
    Ns_ObjvSpec  opts[] = {
        {"-websocket", Ns_ObjvBool, &websocket, INT2PTR(1)},
        {NULL, NULL, NULL, NULL}
    };
    Ns_ObjvSpec  args[] = {
        {"channel", Ns_ObjvString, &name, NULL},
        {NULL, NULL, NULL, NULL}
    };
    ConnChan *chanPtr;
    int       result = TCL_OK;

    if (Ns_ParseObjv(opts, args, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else if ((chanPtr = GetChannel(interp, NULL, name)) == NULL) {
        result = TCL_ERROR;
    } else {
        if (websocket) {
            result = ReadFrame(interp, chanPtr);
        } else {
            Tcl_DString  ds;
            Ns_SockError err;

            Tcl_DStringInit(&ds);
            if (ConnChanRead(chanPtr, &ds, &err) != TCL_OK) {
                ConnChanSetError(interp, &err);
                result = TCL_ERROR;
            } else {
                Tcl_SetObjResult(interp, Tcl_NewByteArrayObj((uint8_t *)Tcl_DStringValue(&ds),
                                                             Tcl_DStringLength(&ds)));
            }
            Tcl_DStringFree(&ds);
        }
        ConnChanRelease(chanPtr);
    }
    return result;
}

/*
 *----------------------------------------------------------------------
 * ConnChanWsEncodeObjCmd --
 *
 *      ns_connchan wsencode ?-binary? ?-fin 0|1? ?-mask?
 *                 ?-opcode continue|text|binary|close|ping|pong? ?--? /message/
 *
 * Results:
 *      The frame as a byte array.  Text is sent as UTF-8; -binary (or the
 *      binary opcode) takes the message's bytes as they are.
 *----------------------------------------------------------------------
 */
static int
ConnChanWsEncodeObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                       Tcl_Obj *const objv[])
{
    static Ns_ObjvTable opcodes[] = {
        {"continue", WS_OP_CONTINUATION}, {"text", WS_OP_TEXT}, {"binary", WS_OP_BINARY},
        {"close", WS_OP_CLOSE}, {"ping", WS_OP_PING}, {"pong", WS_OP_PONG}, {NULL, 0}
    };
    int                binary = 0, fin = 1, mask = 0, opcode = WS_OP_TEXT;
    Tcl_Obj           *msgObj = NULL;
    Ns_ObjvValueRange  finRange = {0, 1};
    Ns_ObjvSpec        opts[] = {
        {"-binary", Ns_ObjvBool,  &binary, INT2PTR(1)},
        {"-fin",    Ns_ObjvInt,   &fin,    &finRange},
        {"-mask",   Ns_ObjvBool,  &mask,   INT2PTR(1)},
        {"-opcode", Ns_ObjvIndex, &opcode, opcodes},
        {"--",      Ns_ObjvBreak, NULL,    NULL},
        {NULL, NULL, NULL, NULL}
    };
    Ns_ObjvSpec        args[] = {
        {"message", Ns_ObjvObj, &msgObj, NULL},
        {NULL, NULL, NULL, NULL}
    };
    int result = TCL_OK;

    if (Ns_ParseObjv(opts, args, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        Tcl_DString    ds;
        const uint8_t *data;
        int            len;
        uint8_t        key[4];
        Tcl_Obj       *frameObj;
        uint8_t       *out;
        size_t         frameLen;

        Tcl_DStringInit(&ds);
        if (binary || opcode == WS_OP_BINARY) {
            data = Tcl_GetByteArrayFromObj(msgObj, &len);
        } else {
            data = (const uint8_t *)Ns_Utf8FromObj(msgObj, &ds, &len);
        }
        if (mask && getrandom(key, sizeof(key), 0) != (ssize_t)sizeof(key)) {
            /* Masks need not be secret from us, only unpredictable to scripts. */
            uint32_t r = (uint32_t)rand();

            memcpy(key, &r, sizeof(key));
        }
        frameObj = Tcl_NewByteArrayObj(NULL, 0);
        out = Tcl_SetByteArrayLength(frameObj, len + WS_MAX_HEADER_LENGTH);
        frameLen = WsFrameEncode(out, (size_t)len + WS_MAX_HEADER_LENGTH, fin != 0,
                                 (unsigned int)opcode, data, (size_t)len, mask ? key : NULL);
        Tcl_SetByteArrayLength(frameObj, (int)frameLen);
        Tcl_DStringFree(&ds);
        Tcl_SetObjResult(interp, frameObj);
    }
    return result;
}

/*
 *----------------------------------------------------------------------
 * TlsOptionSpecs --
 *
 *      The client TLS options shared by connect and open.
 *----------------------------------------------------------------------
 */
typedef struct ClientOptions {
    char    *cafile, *capath, *cert, *hostname, *driver, *method, *unixSocket, *version;
    int      insecure, tls;
    Ns_Time *timeoutPtr;
    Ns_Set  *headers;
} ClientOptions;

static void
FillTls(const ClientOptions *optPtr, Ns_TlsOptions *tlsPtr)
{
    memset(tlsPtr, 0, sizeof(Ns_TlsOptions));
    tlsPtr->cafile = optPtr->cafile;
    tlsPtr->capath = optPtr->capath;
    tlsPtr->cert = optPtr->cert;
    tlsPtr->hostname = optPtr->hostname;
    tlsPtr->insecure = (optPtr->insecure != 0);
}

/*
 *----------------------------------------------------------------------
 * ConnChanConnectObjCmd --
 *
 *      ns_connchan connect ?-cafile /value/? ?-capath /value/? ?-cert /value/?
 *          ?-hostname /value/? ?-insecure? ?-timeout /time/? ?-tls? ?--? /host/ /port/
 *----------------------------------------------------------------------
 */
static int
ConnChanConnectObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                      Tcl_Obj *const objv[])
{
    ClientOptions      opt;
    char              *host = NULL;
    int                port = 0;
    Ns_ObjvSpec        opts[] = {
        {"-cafile",   Ns_ObjvString, &opt.cafile,     NULL},
        {"-capath",   Ns_ObjvString, &opt.capath,     NULL},
        {"-cert",     Ns_ObjvString, &opt.cert,       NULL},
        {"-hostname", Ns_ObjvString, &opt.hostname,   NULL},
        {"-insecure", Ns_ObjvBool,   &opt.insecure,   INT2PTR(1)},
        {"-timeout",  Ns_ObjvTime,   &opt.timeoutPtr, NULL},
        {"-tls",      Ns_ObjvBool,   &opt.tls,        INT2PTR(1)},
        {"--",        Ns_ObjvBreak,  NULL,            NULL},
        {NULL, NULL, NULL, NULL}
    };
    Ns_ObjvSpec        args[] = {
        {"host", Ns_ObjvString, &host, NULL},
        {"port", Ns_ObjvInt,    &port, NULL},
        {NULL, NULL, NULL, NULL}
    };
    int result = TCL_OK;

    memset(&opt, 0, sizeof(opt));
    if (Ns_ParseObjv(opts, args, interp, 2, objc, objv) != NS_OK
        || CheckRange(interp, "port", port, 1, 65535) != TCL_OK) {
        result = TCL_ERROR;
    } else {
        Ns_TlsOptions tls;
        Ns_SockError  err;
        Ns_Time       timeout = {1, 0};
        Ns_Sock      *sockPtr;

        if (opt.timeoutPtr != NULL) {
            timeout = *opt.timeoutPtr;
        }
        FillTls(&opt, &tls);
        memset(&err, 0, sizeof(err));
        sockPtr = Ns_SockConnect(host, port, opt.tls ? &tls : NULL, &timeout, &err);
        if (sockPtr == NULL) {
            ConnChanSetError(interp, &err);
            result = TCL_ERROR;
        } else {
            ConnChan *chanPtr = ConnChanCreate(InterpServer(interp, NULL), sockPtr,
                                               sockPtr->peer, NULL, NULL);

            Tcl_SetObjResult(interp, Tcl_NewStringObj(chanPtr->name, -1));
            ConnChanRelease(chanPtr);
        }
    }
    return result;
}

/*
 *----------------------------------------------------------------------
 * ConnChanOpenObjCmd --
 *
 *      ns_connchan open ?-cafile /value/? ?-capath /value/? ?-cert /value/?
 *          ?-driver /value/? ?-headers /setId/? ?-hostname /value/? ?-insecure?
 *          ?-method /value/? ?-timeout /time/? ?-unix_socket /value/?
 *          ?-version /value/? ?--? /url/
 *
 *      Connect to the URL's host and send the request head; the caller
 *      reads the response from the returned channel.
 *----------------------------------------------------------------------
 */
static int
ConnChanOpenObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                   Tcl_Obj *const objv[])
{
    ClientOptions  opt;
    char          *url = NULL;
    Ns_ObjvSpec    opts[] = {
        {"-cafile",      Ns_ObjvString, &opt.cafile,     NULL},
        {"-capath",      Ns_ObjvString, &opt.capath,     NULL},
        {"-cert",        Ns_ObjvString, &opt.cert,       NULL},
        {"-driver",      Ns_ObjvString, &opt.driver,     NULL},
        {"-headers",     Ns_ObjvSet,    &opt.headers,    NULL},
        {"-hostname",    Ns_ObjvString, &opt.hostname,   NULL},
        {"-insecure",    Ns_ObjvBool,   &opt.insecure,   INT2PTR(1)},
        {"-method",      Ns_ObjvString, &opt.method,     NULL},
        {"-timeout",     Ns_ObjvTime,   &opt.timeoutPtr, NULL},
        {"-unix_socket", Ns_ObjvString, &opt.unixSocket, NULL},
        {"-version",     Ns_ObjvString, &opt.version,    NULL},
        {"--",           Ns_ObjvBreak,  NULL,            NULL},
        {NULL, NULL, NULL, NULL}
    };
    Ns_ObjvSpec    args[] = {
        {"url", Ns_ObjvString, &url, NULL},
        {NULL, NULL, NULL, NULL}
    };
    int result = TCL_OK;

    memset(&opt, 0, sizeof(opt));
    if (Ns_ParseObjv(opts, args, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        bool          https = (strncmp(url, "https://", 8) == 0);
        const char   *authority = url + (https ? 8 : 7);
        const char   *hostStart = authority;
        const char   *pathStart, *hostEnd, *portStart = NULL;
        char          host[256];
        int           port = https ? 443 : 80;
        Ns_TlsOptions tls;
        Ns_SockError  err;
        Ns_Time       timeout = {1, 0};
        Ns_Sock      *sockPtr = NULL;
        Ns_Driver    *driver = NULL;

        if (!https && strncmp(url, "http://", 7) != 0) {
            Tcl_SetObjResult(interp, Tcl_ObjPrintf("invalid URL \"%s\": must be http or https",
                                                   url));
            Tcl_SetErrorCode(interp, "NS", "INVALID", "URL", url, (char *)0);
            return TCL_ERROR;
        }
        if (opt.driver != NULL) {
            /* The connection is the driver's kind: it must speak the URL's scheme. */
            driver = GetDriver(interp, opt.driver);
            if (driver == NULL) {
                return TCL_ERROR;
            }
            if (strcmp(driver->procs->protocol, https ? "https" : "http") != 0) {
                Tcl_SetObjResult(interp, Tcl_ObjPrintf("driver \"%s\" speaks %s, not %s",
                                                       opt.driver, driver->procs->protocol,
                                                       https ? "https" : "http"));
                Tcl_SetErrorCode(interp, "NS", "INVALID", "DRIVER", opt.driver, (char *)0);
                return TCL_ERROR;
            }
        }
        for (size_t i = 0; opt.headers != NULL && i < Ns_SetSize(opt.headers); i++) {
            const char *key = Ns_SetKey(opt.headers, i), *value = Ns_SetValue(opt.headers, i);

            /* A CR or LF would let a value add headers, or end the request. */
            if (strpbrk(key, "\r\n:") != NULL || *key == '\0'
                || (value != NULL && strpbrk(value, "\r\n") != NULL)) {
                Tcl_SetObjResult(interp, Tcl_ObjPrintf("invalid header \"%s\"", key));
                Tcl_SetErrorCode(interp, "NS", "INVALID", "HEADER", key, (char *)0);
                return TCL_ERROR;
            }
        }
        pathStart = strchr(hostStart, '/');
        if (pathStart == NULL) {
            pathStart = hostStart + strlen(hostStart);
        }
        if (*hostStart == '[') {
            hostEnd = memchr(hostStart, ']', (size_t)(pathStart - hostStart));
            if (hostEnd != NULL && hostEnd[1] == ':') {
                portStart = hostEnd + 2;
            }
            hostStart++;
        } else {
            hostEnd = memchr(hostStart, ':', (size_t)(pathStart - hostStart));
            if (hostEnd != NULL) {
                portStart = hostEnd + 1;
            } else {
                hostEnd = pathStart;
            }
        }
        if (hostEnd == NULL || hostEnd <= hostStart
            || (size_t)(hostEnd - hostStart) >= sizeof(host)) {
            Tcl_SetObjResult(interp, Tcl_ObjPrintf("invalid URL \"%s\"", url));
            Tcl_SetErrorCode(interp, "NS", "INVALID", "URL", url, (char *)0);
            return TCL_ERROR;
        }
        memcpy(host, hostStart, (size_t)(hostEnd - hostStart));
        host[hostEnd - hostStart] = '\0';
        if (portStart != NULL) {
            port = atoi(portStart);
        }
        if (opt.timeoutPtr != NULL) {
            timeout = *opt.timeoutPtr;
        }
        FillTls(&opt, &tls);
        memset(&err, 0, sizeof(err));
        sockPtr = (opt.unixSocket != NULL)
            ? Ns_SockConnectUnix(opt.unixSocket, https ? &tls : NULL, &timeout, &err)
            : Ns_SockConnect(host, port, https ? &tls : NULL, &timeout, &err);
        if (sockPtr == NULL) {
            ConnChanSetError(interp, &err);
            result = TCL_ERROR;
        } else {
            ConnChan    *chanPtr = ConnChanCreate(InterpServer(interp, NULL), sockPtr,
                                                  sockPtr->peer, NULL, NULL);
            Tcl_DString  req;
            size_t       written;

            if (driver != NULL) {
                ConnChanSetDriverName(chanPtr, driver->moduleName);
            }

            Tcl_DStringInit(&req);
            Tcl_DStringAppend(&req, opt.method != NULL ? opt.method : "GET", -1);
            Tcl_DStringAppend(&req, " ", 1);
            Tcl_DStringAppend(&req, *pathStart != '\0' ? pathStart : "/", -1);
            Tcl_DStringAppend(&req, " HTTP/", -1);
            Tcl_DStringAppend(&req, opt.version != NULL ? opt.version : "1.0", -1);
            Tcl_DStringAppend(&req, "\r\n", 2);
            if (opt.headers == NULL || Ns_SetIFind(opt.headers, "host") < 0) {
                Tcl_DStringAppend(&req, "Host: ", -1);
                Tcl_DStringAppend(&req, authority, (int)(pathStart - authority));
                Tcl_DStringAppend(&req, "\r\n", 2);
            }
            for (size_t i = 0; opt.headers != NULL && i < Ns_SetSize(opt.headers); i++) {
                Tcl_DStringAppend(&req, Ns_SetKey(opt.headers, i), -1);
                Tcl_DStringAppend(&req, ": ", 2);
                Tcl_DStringAppend(&req, Ns_SetValue(opt.headers, i), -1);
                Tcl_DStringAppend(&req, "\r\n", 2);
            }
            Tcl_DStringAppend(&req, "\r\n", 2);
            if (ConnChanWrite(chanPtr, Tcl_DStringValue(&req), (size_t)Tcl_DStringLength(&req),
                              false, &written, &err) != TCL_OK) {
                ConnChanClose(chanPtr);
                ConnChanSetError(interp, &err);
                result = TCL_ERROR;
            } else {
                Tcl_SetObjResult(interp, Tcl_NewStringObj(chanPtr->name, -1));
            }
            Tcl_DStringFree(&req);
            ConnChanRelease(chanPtr);
        }
    }
    return result;
}

/*
 *----------------------------------------------------------------------
 * ConnChanListenObjCmd --
 *
 *      ns_connchan listen ?-driver /value/? ?-server /server/? ?-bind? ?--?
 *                         /address/ /port/ /script/
 *
 * Results:
 *      A dict: channel (of the listening socket), port, sock, address.
 *----------------------------------------------------------------------
 */
static int
ConnChanListenObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                     Tcl_Obj *const objv[])
{
    char              *driverName = NULL, *server = NULL, *address = NULL, *script = NULL;
    int                bind = 0, port = 0;
    Ns_ObjvSpec        opts[] = {
        {"-driver", Ns_ObjvString, &driverName, NULL},
        {"-server", Ns_ObjvServer, &server,     NULL},
        {"-bind",   Ns_ObjvBool,   &bind,       INT2PTR(1)},
        {"--",      Ns_ObjvBreak,  NULL,        NULL},
        {NULL, NULL, NULL, NULL}
    };
    Ns_ObjvSpec        args[] = {
        {"address", Ns_ObjvString, &address, NULL},
        {"port",    Ns_ObjvInt,    &port,    NULL},
        {"script",  Ns_ObjvString, &script,  NULL},
        {NULL, NULL, NULL, NULL}
    };
    int result = TCL_OK;

    if (Ns_ParseObjv(opts, args, interp, 2, objc, objv) != NS_OK
        || CheckRange(interp, "port", port, 0, 65535) != TCL_OK) {
        result = TCL_ERROR;
    } else {
        /* Also without -driver: accepting needs a driver, nssock may not be configured. */
        Ns_Driver *driver = GetDriver(interp, (driverName != NULL) ? driverName : "nssock");
        int        boundPort = 0, fd;

        if (driver == NULL) {
            return TCL_ERROR;
        }
        fd = Ns_SockListen(address, port, 128, &boundPort);
        if (fd < 0) {
            Tcl_SetObjResult(interp, Tcl_ObjPrintf("cannot listen on [%s]:%d: %s", address, port,
                                                   Tcl_ErrnoMsg(Tcl_GetErrno())));
            Tcl_SetErrorCode(interp, "POSIX", Tcl_ErrnoId(), Tcl_ErrnoMsg(Tcl_GetErrno()),
                             (char *)0);
            result = TCL_ERROR;
        } else {
            ConnChan *chanPtr = ConnChanCreate(InterpServer(interp, server), NULL, address,
                                               NULL, NULL);
            Tcl_Obj  *dictObj = Tcl_NewDictObj();

            chanPtr->listenFd = fd;
            chanPtr->listenDriver = driver;
            ConnChanSetDriverName(chanPtr, driver->moduleName);
            ConnChanStartListening(chanPtr, script);
            Tcl_DictObjPut(NULL, dictObj, Tcl_NewStringObj("channel", -1),
                           Tcl_NewStringObj(chanPtr->name, -1));
            Tcl_DictObjPut(NULL, dictObj, Tcl_NewStringObj("port", -1), Tcl_NewIntObj(boundPort));
            Tcl_DictObjPut(NULL, dictObj, Tcl_NewStringObj("sock", -1), Tcl_NewIntObj(fd));
            Tcl_DictObjPut(NULL, dictObj, Tcl_NewStringObj("address", -1),
                           Tcl_NewStringObj(address, -1));
            Tcl_SetObjResult(interp, dictObj);
            ConnChanRelease(chanPtr);
        }
    }
    return result;
}

/*
 *----------------------------------------------------------------------
 * ConnChanObjCmd --
 *
 *      ns_connchan /subcommand/ ?/arg .../?
 *----------------------------------------------------------------------
 */
int
ConnChanObjCmd(ClientData clientData, Tcl_Interp *interp, int objc, Tcl_Obj *const objv[])
{
    static const Ns_SubCmdSpec subcmds[] = {
        {"callback", ConnChanCallbackObjCmd},
        {"connect",  ConnChanConnectObjCmd},
        {"close",    ConnChanCloseObjCmd},
        {"debug",    ConnChanDebugObjCmd},
        {"detach",   ConnChanDetachObjCmd},
        {"exists",   ConnChanExistsObjCmd},
        {"list",     ConnChanListObjCmd},
        {"listen",   ConnChanListenObjCmd},
        {"open",     ConnChanOpenObjCmd},
        {"read",     ConnChanReadObjCmd},
        {"status",   ConnChanStatusObjCmd},
        {"write",    ConnChanWriteObjCmd},
        {"wsencode", ConnChanWsEncodeObjCmd},
        {NULL, NULL}
    };

    return Ns_SubcmdObjv(subcmds, clientData, interp, objc, objv);
}
