/*
 * wscmd.c --
 *
 *      The ws::* commands on the server side: the API of NaviServer's
 *      websocket module (handshake, send, multicast, subscribe, io, log,
 *      build_msg), implemented in C and extended (callbacks for close and
 *      error, subprotocols, origins, limits, timeouts, close, ping,
 *      introspection).
 */

#include "websocket.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static Ns_LogSeverity debugWs;

/*
 *----------------------------------------------------------------------
 * EncodeFrame --
 *
 *      The bytes to send for ws::send/ws::multicast: the frame as given
 *      (made by ns_connchan wsencode), or with -text/-binary a frame made
 *      here from the payload.
 *----------------------------------------------------------------------
 */
static void
EncodeFrame(Tcl_Obj *msgObj, bool text, bool binary, Tcl_DString *dsPtr)
{
    int                  len;
    const unsigned char *data;
    Tcl_DString          utf8Ds;

    Tcl_DStringInit(&utf8Ds);
    if (text) {
        data = (const unsigned char *)Ns_Utf8FromObj(msgObj, &utf8Ds, &len);
    } else {
        data = Tcl_GetByteArrayFromObj(msgObj, &len);
    }
    if (text || binary) {
        uint8_t header[WS_MAX_HEADER_LENGTH];
        size_t  hlen = WsFrameEncodeHeader(header, true, text ? WS_OP_TEXT : WS_OP_BINARY,
                                           (uint64_t)len, NULL);

        Tcl_DStringAppend(dsPtr, (const char *)header, (int)hlen);
    }
    Tcl_DStringAppend(dsPtr, (const char *)data, len);
    Tcl_DStringFree(&utf8Ds);
}

/*
 *----------------------------------------------------------------------
 * WsHandshakeObjCmd --
 *
 *      ws::handshake ?-readevent bool? ?-callback script? ?-onmessage script?
 *          ?-onopen script?
 *          ?-onclose script? ?-onerror script? ?-protocols list?
 *          ?-origins list? ?-headers setId? ?-binary? ?-maxmessage bytes?
 *          ?-idletimeout time? ?-heartbeat time? ?-sendlimit bytes?
 *          ?-slowconsumer close|skip?
 *
 * Results:
 *      The new channel, or "" when the request was no valid upgrade (the
 *      client then got 400, 403 or 426).
 *----------------------------------------------------------------------
 */
static int
WsHandshakeObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                  Tcl_Obj *const objv[])
{
    static Ns_ObjvTable policies[] = {{"close", WS_SLOW_CLOSE}, {"skip", WS_SLOW_SKIP},
                                      {NULL, 0}};
    /* Options not given (-1, 0) leave the server's settings (WsChannelCreate). */
    int             readevent = 1, binary = 0, policy = -1;
    char           *callback = NULL, *onMessage = NULL, *onOpen = NULL, *onClose = NULL;
    char           *onError = NULL;
    Tcl_WideInt     maxMessage = 0;
    Tcl_WideInt     sendLimit = 0;
    Ns_Time        *idlePtr = NULL, *heartbeatPtr = NULL;
    WsHandshakeSpec spec = {NULL, NULL, NULL};
    Ns_ObjvSpec     opts[] = {
        {"-readevent",    Ns_ObjvBool,    &readevent,        NULL},
        {"-callback",     Ns_ObjvString,  &callback,         NULL},
        {"-onmessage",    Ns_ObjvString,  &onMessage,        NULL},
        {"-onopen",       Ns_ObjvString,  &onOpen,           NULL},
        {"-onclose",      Ns_ObjvString,  &onClose,          NULL},
        {"-onerror",      Ns_ObjvString,  &onError,          NULL},
        {"-protocols",    Ns_ObjvObj,     &spec.protocolsObj, NULL},
        {"-origins",      Ns_ObjvObj,     &spec.originsObj,  NULL},
        {"-headers",      Ns_ObjvSet,     &spec.headers,     NULL},
        {"-binary",       Ns_ObjvBool,    &binary,           INT2PTR(1)},
        {"-maxmessage",   Ns_ObjvWideInt, &maxMessage,       NULL},
        {"-idletimeout",  Ns_ObjvTime,    &idlePtr,          NULL},
        {"-heartbeat",    Ns_ObjvTime,    &heartbeatPtr,     NULL},
        {"-sendlimit",    Ns_ObjvWideInt, &sendLimit,        NULL},
        {"-slowconsumer", Ns_ObjvIndex,   &policy,           policies},
        {NULL, NULL, NULL, NULL}
    };
    Ns_Conn *conn;
    int      result = TCL_OK;

    if (Ns_ParseObjv(opts, NULL, interp, 1, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else if ((conn = Ns_TclGetConn(interp)) == NULL) {
        Tcl_SetObjResult(interp, Tcl_NewStringObj("no current connection", -1));
        Tcl_SetErrorCode(interp, "NS", "NOCONN", (char *)0);
        result = TCL_ERROR;
    } else {
        Tcl_DString protocol;
        char       *leftover = NULL;
        size_t      leftoverLen = 0;
        Ns_Time     start;
        Ns_Sock    *sockPtr;

        Tcl_DStringInit(&protocol);
        Ns_ConnStartTime(conn, &start);
        sockPtr = WsHandshake(conn, &spec, &protocol, &leftover, &leftoverLen);
        if (sockPtr != NULL) {
            ConnChan  *chanPtr = ConnChanCreate(Ns_ConnServer(conn), sockPtr,
                                                Ns_ConnPeerAddr(conn), &start,
                                                Ns_ConnClientData(conn));
            WsOptions  options = {
                (callback != NULL && *callback != '\0') ? callback : NULL,
                onMessage, onClose, onError,
                (idlePtr != NULL) ? *idlePtr : chanPtr->configPtr->idleTimeout,
                (heartbeatPtr != NULL) ? *heartbeatPtr : chanPtr->configPtr->heartbeat
            };
            WsChannel *wsPtr;

            ConnChanUnread(chanPtr, leftover, leftoverLen);
            ckfree(leftover);
            /* Every channel of one ws::handshake call shares its options. */
            wsPtr = WsChannelCreate(chanPtr, true, &options);
            if (wsPtr == NULL) {
                Tcl_SetObjResult(interp, Tcl_NewStringObj("out of memory", -1));
                ConnChanClose(chanPtr);
                result = TCL_ERROR;
            } else {
                wsPtr->protocol = (Tcl_DStringLength(&protocol) > 0)
                    ? ns_strdup(Tcl_DStringValue(&protocol)) : NULL;
                wsPtr->binary = (binary != 0);
                if (maxMessage > 0) {
                    WsParserSetMaxMessageSize(wsPtr->parserPtr, (uint64_t)maxMessage);
                }
                if (sendLimit > 0) {
                    wsPtr->sendLimit = (size_t)sendLimit;
                }
                if (policy >= 0) {
                    wsPtr->slowPolicy = (WsSlowPolicy)policy;
                }
                (void)WsSubscribe(chanPtr, WS_ALL_SUBSCRIPTION);
                Tcl_SetObjResult(interp, Tcl_NewStringObj(chanPtr->name, -1));
                if (onOpen != NULL) {
                    WsRunOnOpen(chanPtr, onOpen);
                }
                if (readevent) {
                    WsChannelStart(chanPtr);
                }
            }
            ConnChanRelease(chanPtr);
        }
        Tcl_DStringFree(&protocol);
    }
    return result;
}

/*
 *----------------------------------------------------------------------
 * WsSendObjCmd --
 *
 *      ws::send ?-text? ?-binary? /channel/ /message/  -- the message is a
 *      frame (ns_connchan wsencode), or with -text/-binary a payload.
 *
 * Results:
 *      1 when sent or queued, 0 when the channel is gone or failed (as
 *      NaviServer's ws::send).
 *----------------------------------------------------------------------
 */
static int
WsSendObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc, Tcl_Obj *const objv[])
{
    int          text = 0, binary = 0;
    char        *name = NULL;
    Tcl_Obj     *msgObj = NULL;
    Ns_ObjvSpec  opts[] = {
        {"-text",   Ns_ObjvBool, &text,   INT2PTR(1)},
        {"-binary", Ns_ObjvBool, &binary, INT2PTR(1)},
        {NULL, NULL, NULL, NULL}
    };
    Ns_ObjvSpec  args[] = {
        {"channel", Ns_ObjvString, &name,   NULL},
        {"message", Ns_ObjvObj,    &msgObj, NULL},
        {NULL, NULL, NULL, NULL}
    };
    int result = TCL_OK;

    if (Ns_ParseObjv(opts, args, interp, 1, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        ConnChan *chanPtr = ConnChanGet(Ns_TclInterpServer(interp), name);
        int       ok = 0;

        if (chanPtr != NULL) {
            Tcl_DString  frame;
            size_t       limit = (chanPtr->wsPtr != NULL) ? chanPtr->wsPtr->sendLimit : 0;

            Tcl_DStringInit(&frame);
            EncodeFrame(msgObj, text != 0, binary != 0, &frame);
            ok = WsSend(chanPtr, Tcl_DStringValue(&frame), (size_t)Tcl_DStringLength(&frame),
                        limit);
            Tcl_DStringFree(&frame);
            ConnChanRelease(chanPtr);
        }
        Tcl_SetObjResult(interp, Tcl_NewBooleanObj(ok));
    }
    return result;
}

/*
 *----------------------------------------------------------------------
 * WsMulticastObjCmd --
 *
 *      ws::multicast ?-exclude list? ?-text? ?-binary? /subscription/
 *                    /message/
 *
 * Results:
 *      The number of channels the message went to.
 *----------------------------------------------------------------------
 */
static int
WsMulticastObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                  Tcl_Obj *const objv[])
{
    int          text = 0, binary = 0;
    Tcl_Obj     *excludeObj = NULL, *msgObj = NULL;
    char        *subscription = NULL;
    Ns_ObjvSpec  opts[] = {
        {"-exclude", Ns_ObjvObj,  &excludeObj, NULL},
        {"-text",    Ns_ObjvBool, &text,       INT2PTR(1)},
        {"-binary",  Ns_ObjvBool, &binary,     INT2PTR(1)},
        {NULL, NULL, NULL, NULL}
    };
    Ns_ObjvSpec  args[] = {
        {"subscription", Ns_ObjvString, &subscription, NULL},
        {"message",      Ns_ObjvObj,    &msgObj,       NULL},
        {NULL, NULL, NULL, NULL}
    };
    int result = TCL_OK;

    if (Ns_ParseObjv(opts, args, interp, 1, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        Tcl_DString frame;
        int         delivered = 0;

        Tcl_DStringInit(&frame);
        EncodeFrame(msgObj, text != 0, binary != 0, &frame);
        result = WsMulticast(Ns_TclInterpServer(interp), subscription, Tcl_DStringValue(&frame),
                             (size_t)Tcl_DStringLength(&frame), excludeObj, &delivered);
        Tcl_DStringFree(&frame);
        Tcl_SetObjResult(interp, Tcl_NewIntObj(delivered));
    }
    return result;
}

/*
 *----------------------------------------------------------------------
 * WsSubscribeObjCmd, WsUnsubscribeObjCmd --
 *
 *      ws::subscribe /channel/ /subscription/   -> number of subscribers
 *      ws::unsubscribe /channel/ /subscription/ -> 1 when it was subscribed
 *----------------------------------------------------------------------
 */
static int
SubscribeCmd(Tcl_Interp *interp, int objc, Tcl_Obj *const objv[], bool subscribe)
{
    char        *name = NULL, *subscription = NULL;
    Ns_ObjvSpec  args[] = {
        {"channel",      Ns_ObjvString, &name,         NULL},
        {"subscription", Ns_ObjvString, &subscription, NULL},
        {NULL, NULL, NULL, NULL}
    };
    ConnChan *chanPtr;
    int       result = TCL_OK;

    if (Ns_ParseObjv(NULL, args, interp, 1, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else if ((chanPtr = WsGetChannel(interp, name, false)) == NULL) {
        result = TCL_ERROR;
    } else {
        Tcl_SetObjResult(interp, Tcl_NewIntObj(subscribe ? WsSubscribe(chanPtr, subscription)
                                                         : WsUnsubscribe(chanPtr, subscription)));
        ConnChanRelease(chanPtr);
    }
    return result;
}

static int
WsSubscribeObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                  Tcl_Obj *const objv[])
{
    return SubscribeCmd(interp, objc, objv, true);
}

static int
WsUnsubscribeObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                    Tcl_Obj *const objv[])
{
    return SubscribeCmd(interp, objc, objv, false);
}

/*
 *----------------------------------------------------------------------
 * WsSubscriptionsObjCmd, WsSubscribersObjCmd --
 *
 *      ws::subscriptions ?/channel/?  -- the channel's subscriptions, or
 *      every subscription with subscribers.
 *      ws::subscribers /subscription/ -- its channels.
 *----------------------------------------------------------------------
 */
static int
WsSubscriptionsObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                      Tcl_Obj *const objv[])
{
    char        *name = NULL;
    Ns_ObjvSpec  args[] = {
        {"?channel", Ns_ObjvString, &name, NULL},
        {NULL, NULL, NULL, NULL}
    };
    int result = TCL_OK;

    if (Ns_ParseObjv(NULL, args, interp, 1, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else if (name == NULL) {
        Tcl_SetObjResult(interp, WsSubscriptionNames(Ns_TclInterpServer(interp)));
    } else {
        ConnChan *chanPtr = WsGetChannel(interp, name, false);

        if (chanPtr == NULL) {
            result = TCL_ERROR;
        } else {
            Tcl_SetObjResult(interp, WsSubscriptions(chanPtr));
            ConnChanRelease(chanPtr);
        }
    }
    return result;
}

static int
WsSubscribersObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                    Tcl_Obj *const objv[])
{
    char        *subscription = NULL;
    Ns_ObjvSpec  args[] = {
        {"subscription", Ns_ObjvString, &subscription, NULL},
        {NULL, NULL, NULL, NULL}
    };
    int result = TCL_OK;

    if (Ns_ParseObjv(NULL, args, interp, 1, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        Tcl_SetObjResult(interp, WsSubscribers(Ns_TclInterpServer(interp), subscription));
    }
    return result;
}

/*
 *----------------------------------------------------------------------
 * WsCloseObjCmd --
 *
 *      ws::close ?-code /integer/? ?-reason /value/? /channel/  -- start the
 *      close handshake (the event thread finishes it).
 *----------------------------------------------------------------------
 */
static int
WsCloseObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
              Tcl_Obj *const objv[])
{
    int               code = 1000;
    char             *reason = "", *name = NULL;
    Ns_ObjvValueRange range = {1000, 4999};
    Ns_ObjvSpec       opts[] = {
        {"-code",   Ns_ObjvInt,    &code,   &range},
        {"-reason", Ns_ObjvString, &reason, NULL},
        {NULL, NULL, NULL, NULL}
    };
    Ns_ObjvSpec       args[] = {
        {"channel", Ns_ObjvString, &name, NULL},
        {NULL, NULL, NULL, NULL}
    };
    ConnChan *chanPtr;
    int       result = TCL_OK;

    if (Ns_ParseObjv(opts, args, interp, 1, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else if (!WsCloseCodeValid(code)) {
        Tcl_SetObjResult(interp, Tcl_ObjPrintf("invalid close code %d", code));
        Tcl_SetErrorCode(interp, "NS", "WS", "CLOSECODE", (char *)0);
        result = TCL_ERROR;
    } else if ((chanPtr = WsGetChannel(interp, name, false)) == NULL) {
        result = TCL_ERROR;
    } else {
        WsRequestClose(chanPtr, code, reason);
        ConnChanRelease(chanPtr);
    }
    return result;
}

/*
 *----------------------------------------------------------------------
 * WsPingObjCmd --
 *
 *      ws::ping /channel/ ?/payload/?
 *----------------------------------------------------------------------
 */
static int
WsPingObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc, Tcl_Obj *const objv[])
{
    char        *name = NULL;
    Tcl_Obj     *payloadObj = NULL;
    Ns_ObjvSpec  args[] = {
        {"channel",  Ns_ObjvString, &name,       NULL},
        {"?payload", Ns_ObjvObj,    &payloadObj, NULL},
        {NULL, NULL, NULL, NULL}
    };
    ConnChan *chanPtr;
    int       result = TCL_OK;

    if (Ns_ParseObjv(NULL, args, interp, 1, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else if ((chanPtr = WsGetChannel(interp, name, false)) == NULL) {
        result = TCL_ERROR;
    } else {
        int                  len = 0;
        const unsigned char *data = (payloadObj != NULL)
            ? Tcl_GetByteArrayFromObj(payloadObj, &len) : (const unsigned char *)"";
        Ns_SockError         err;

        if (len > WS_MAX_CONTROL_PAYLOAD) {
            Tcl_SetObjResult(interp, Tcl_NewStringObj("ping payload longer than 125 bytes", -1));
            Tcl_SetErrorCode(interp, "NS", "WS", "TOOLONG", (char *)0);
            result = TCL_ERROR;
        } else if (WsSendFrame(chanPtr, WS_OP_PING, data, (size_t)len,
                               !chanPtr->wsPtr->isServer, 0, &err) != TCL_OK) {
            ConnChanSetError(interp, &err);
            result = TCL_ERROR;
        }
        ConnChanRelease(chanPtr);
    }
    return result;
}

/*
 *----------------------------------------------------------------------
 * WsIoObjCmd --
 *
 *      ws::io /channel/ /callback/ /when/  -- the read handler of NaviServer's
 *      module, for channels made with -readevent false: as an ns_connchan
 *      callback (on the event thread, and only there) it reads what is
 *      there and calls the callback per message.
 *
 * Results:
 *      1 while the channel is open, 0 when it closed (for ns_connchan).
 *----------------------------------------------------------------------
 */
static int
WsIoObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc, Tcl_Obj *const objv[])
{
    char        *name = NULL, *callback = NULL, *when = NULL;
    Ns_ObjvSpec  args[] = {
        {"channel",  Ns_ObjvString, &name,     NULL},
        {"callback", Ns_ObjvString, &callback, NULL},
        {"when",     Ns_ObjvString, &when,     NULL},
        {NULL, NULL, NULL, NULL}
    };
    ConnChan *chanPtr;
    int       result = TCL_OK;

    if (Ns_ParseObjv(NULL, args, interp, 1, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else if ((chanPtr = WsGetChannel(interp, name, false)) == NULL) {
        result = TCL_ERROR;
    } else if (!Ns_EventIsEventThread()) {
        /* Elsewhere it would read and parse beside the event thread. */
        Ns_TclPrintfResult(interp, "ws::io runs only as a channel callback"
                           " (ns_connchan callback)");
        Tcl_SetErrorCode(interp, "NS", "WS", "THREAD", (char *)0);
        ConnChanRelease(chanPtr);
        result = TCL_ERROR;
    } else {
        const char *current = chanPtr->wsPtr->optionsPtr->callback;
        bool        open = true;

        if (*callback != '\0' && (current == NULL || strcmp(current, callback) != 0)) {
            WsChannelSetCallback(chanPtr->wsPtr, callback);
        }
        if (when[0] == 'r' || when[0] == 'e') {
            WsChannelReadable(chanPtr);
            open = !chanPtr->closed;
        } else if (when[0] == 'x') {
            WsChannelExit(chanPtr);
            open = false;
        }
        Tcl_SetObjResult(interp, Tcl_NewIntObj(open ? 1 : 0));
        ConnChanRelease(chanPtr);
    }
    return result;
}

/*
 *----------------------------------------------------------------------
 * WsLogObjCmd --
 *
 *      ws::log /message/ ?/message .../?  -- to the Debug(ws) severity.
 *----------------------------------------------------------------------
 */
static int
WsLogObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc, Tcl_Obj *const objv[])
{
    int          remain = 0;
    Ns_ObjvSpec  args[] = {
        {"message", Ns_ObjvArgs, &remain, NULL},
        {NULL, NULL, NULL, NULL}
    };
    int result = TCL_OK;

    if (Ns_ParseObjv(NULL, args, interp, 1, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else if (Ns_LogSeverityEnabled(debugWs)) {
        Tcl_Obj *msgObj = Tcl_ConcatObj(objc - 1, objv + 1);

        Ns_Log(debugWs, "%s", Tcl_GetString(msgObj));
        Tcl_DecrRefCount(msgObj);
    }
    return result;
}

/*
 *----------------------------------------------------------------------
 * WsBuildMsgObjCmd --
 *
 *      ws::build_msg ?-opcode continue|text|binary|close|ping|pong? ?-mask?
 *                    ?--? /payload/  -- kept for applications of
 *      NaviServer's module: the frame of ns_connchan wsencode, with the
 *      options and usage of ws::build_msg.
 *----------------------------------------------------------------------
 */
static int
WsBuildMsgObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                 Tcl_Obj *const objv[])
{
    /* The values index the table: the name is passed on to wsencode. */
    static Ns_ObjvTable opcodes[] = {
        {"continue", 0}, {"text", 1}, {"binary", 2}, {"close", 3}, {"ping", 4}, {"pong", 5},
        {NULL, 0}
    };
    int          opcode = 1, mask = 0;
    Tcl_Obj     *payloadObj = NULL;
    Ns_ObjvSpec  opts[] = {
        {"-opcode", Ns_ObjvIndex, &opcode, opcodes},
        {"-mask",   Ns_ObjvBool,  &mask,   INT2PTR(1)},
        {"--",      Ns_ObjvBreak, NULL,    NULL},
        {NULL, NULL, NULL, NULL}
    };
    Ns_ObjvSpec  args[] = {
        {"payload", Ns_ObjvObj, &payloadObj, NULL},
        {NULL, NULL, NULL, NULL}
    };
    int result = TCL_OK;

    if (Ns_ParseObjv(opts, args, interp, 1, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        Tcl_Obj *cmdObj = Tcl_NewListObj(0, NULL);

        /* The same frame as ns_connchan wsencode makes, from the same code. */
        Tcl_IncrRefCount(cmdObj);
        Tcl_ListObjAppendElement(NULL, cmdObj, Tcl_NewStringObj("ns_connchan", -1));
        Tcl_ListObjAppendElement(NULL, cmdObj, Tcl_NewStringObj("wsencode", -1));
        Tcl_ListObjAppendElement(NULL, cmdObj, Tcl_NewStringObj("-opcode", -1));
        Tcl_ListObjAppendElement(NULL, cmdObj, Tcl_NewStringObj(opcodes[opcode].key, -1));
        if (mask) {
            Tcl_ListObjAppendElement(NULL, cmdObj, Tcl_NewStringObj("-mask", -1));
        }
        Tcl_ListObjAppendElement(NULL, cmdObj, Tcl_NewStringObj("--", -1));
        Tcl_ListObjAppendElement(NULL, cmdObj, payloadObj);
        result = Tcl_EvalObjEx(interp, cmdObj, 0);
        Tcl_DecrRefCount(cmdObj);
    }
    return result;
}

/*
 *----------------------------------------------------------------------
 * WsInitInterp --
 *
 *      Create the ws::* commands in an interp.
 *----------------------------------------------------------------------
 */
Ns_ReturnCode
WsInitInterp(Tcl_Interp *interp)
{
    static const struct {
        const char     *name;
        Tcl_ObjCmdProc *proc;
    } cmds[] = {
        {"::ws::handshake",       WsHandshakeObjCmd},
        {"::ws::send",            WsSendObjCmd},
        {"::ws::multicast",       WsMulticastObjCmd},
        {"::ws::subscribe",       WsSubscribeObjCmd},
        {"::ws::unsubscribe",     WsUnsubscribeObjCmd},
        {"::ws::subscriptions",   WsSubscriptionsObjCmd},
        {"::ws::subscribers",     WsSubscribersObjCmd},
        {"::ws::close",           WsCloseObjCmd},
        {"::ws::ping",            WsPingObjCmd},
        {"::ws::io",              WsIoObjCmd},
        {"::ws::log",             WsLogObjCmd},
        {"::ws::build_msg",       WsBuildMsgObjCmd},
        {"::ws::client::open",    WsClientOpenObjCmd},
        {"::ws::client::send",    WsClientSendObjCmd},
        {"::ws::client::receive", WsClientReceiveObjCmd},
        {"::ws::client::close",   WsClientCloseObjCmd},
    };

    Tcl_Eval(interp, "namespace eval ::ws::client {}");
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        Tcl_CreateObjCommand(interp, cmds[i].name, cmds[i].proc, NULL, NULL);
    }
    return NS_OK;
}

/*
 *----------------------------------------------------------------------
 * WsConfigure, WsConfigGet --
 *
 *      The module's settings per server, from ns/server/SERVER/module/
 *      websocket: WsConfigure reads them when the server loads the module
 *      (at start-up, before any thread can look), WsConfigGet finds them
 *      (the defaults for a server that did not load it).
 *----------------------------------------------------------------------
 */
typedef struct ServerConfig {
    char                *server;
    WsConfig             config;
    struct ServerConfig *nextPtr;
} ServerConfig;

static ServerConfig  *serverConfigs = NULL;
/* The defaults, for every parameter not set (idletimeout, heartbeat: 0, off). */
static const WsConfig defaultConfig = {
    .maxMessage = 1024 * 1024,
    .sendLimit = 1024 * 1024,
    .slowPolicy = WS_SLOW_CLOSE,
    .closeWait = {2, 0},
    .closeLinger = {10, 0},
    .closeMax = {30, 0},
    .callbackTimeout = {5, 0}
};

/*
 * ConfigTime: a time parameter whose default is the value already there.
 */
static void
ConfigTime(const char *section, const char *key, Ns_Time *timePtr)
{
    char def[48];

    if (timePtr->usec == 0) {
        snprintf(def, sizeof(def), "%llds", (long long)timePtr->sec);
    } else {
        snprintf(def, sizeof(def), "%lld.%06lds", (long long)timePtr->sec, (long)timePtr->usec);
    }
    Ns_ConfigTime(section, key, def, timePtr);
}

void
WsConfigure(const char *server)
{
    const char   *section = Ns_ConfigGetPath(server, "websocket", (char *)0);
    const char   *policy = Ns_ConfigGetValue(section, "slowconsumer");
    ServerConfig *scPtr = ckalloc(sizeof(ServerConfig));
    WsConfig     *cfgPtr = &scPtr->config;

    *cfgPtr = defaultConfig;
    cfgPtr->maxMessage = (uint64_t)Ns_ConfigWideInt(section, "maxmessage",
                                                    (int64_t)cfgPtr->maxMessage);
    cfgPtr->sendLimit = (size_t)Ns_ConfigWideInt(section, "sendlimit",
                                                 (int64_t)cfgPtr->sendLimit);
    if (policy != NULL && strcmp(policy, "skip") == 0) {
        cfgPtr->slowPolicy = WS_SLOW_SKIP;
    } else if (policy != NULL && strcmp(policy, "close") == 0) {
        cfgPtr->slowPolicy = WS_SLOW_CLOSE;
    } else if (policy != NULL) {
        Ns_Log(Warning, "config: %s/slowconsumer: \"%s\" is neither close nor skip,"
               " keeping the default", section, policy);
    }
    ConfigTime(section, "idletimeout", &cfgPtr->idleTimeout);
    ConfigTime(section, "heartbeat", &cfgPtr->heartbeat);
    ConfigTime(section, "closewait", &cfgPtr->closeWait);
    ConfigTime(section, "closelinger", &cfgPtr->closeLinger);
    ConfigTime(section, "closemax", &cfgPtr->closeMax);
    ConfigTime(section, "callbacktimeout", &cfgPtr->callbackTimeout);
    scPtr->server = ns_strdup(server);
    scPtr->nextPtr = serverConfigs;
    serverConfigs = scPtr;
    /* Here, at start-up, not per interp: interps are made by many threads. */
    debugWs = Ns_CreateLogSeverity("Debug(ws)");
}

const WsConfig *
WsConfigGet(const char *server)
{
    for (const ServerConfig *scPtr = serverConfigs; scPtr != NULL; scPtr = scPtr->nextPtr) {
        if (strcmp(scPtr->server, server) == 0) {
            return &scPtr->config;
        }
    }
    return &defaultConfig;
}
