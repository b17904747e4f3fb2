/*
 * websocket.h --
 *
 *      The WebSocket layer of the module: a channel in WebSocket mode
 *      (handshake done, frames parsed in C on the event thread), its
 *      options, subscriptions and multicast, and the ws::* commands.
 *
 *      Lock order: subsLock (wsmulticast.c) before a channel's lock.
 */

#ifndef WEBSOCKET_H
#define WEBSOCKET_H

#include "connchan.h"
#include "wsframe.h"

/* The hidden subscription every server-side WebSocket is in ("all"). */
#define WS_ALL_SUBSCRIPTION "\001all"

typedef enum {
    WS_SLOW_CLOSE,      /* close a slow consumer with 1008 */
    WS_SLOW_SKIP        /* drop messages it cannot take */
} WsSlowPolicy;

/* What ws::handshake checks beyond the protocol itself. */
typedef struct WsHandshakeSpec {
    Tcl_Obj *protocolsObj;  /* subprotocols the server speaks, or NULL */
    Tcl_Obj *originsObj;    /* allowed Origin glob patterns, or NULL for any */
    Ns_Set  *headers;       /* extra response headers, or NULL */
} WsHandshakeSpec;

/* A server's settings: ns/server/SERVER/module/websocket (WsConfigGet). */
typedef struct WsConfig {
    uint64_t     maxMessage;   /* maxmessage: largest message in bytes */
    Ns_Time      idleTimeout;  /* idletimeout: close when nothing arrives; 0: never */
    Ns_Time      heartbeat;    /* heartbeat: ping interval; 0: none */
    size_t       sendLimit;    /* sendlimit: bytes queued before a slow consumer */
    WsSlowPolicy slowPolicy;   /* slowconsumer: close or skip */
    Ns_Time      closeWait;    /* closewait: our close waits for the peer's */
    Ns_Time      closeLinger;  /* closelinger: then the peer may go on sending */
    Ns_Time      closeMax;     /* closemax: the longest a close may take */
    Ns_Time      callbackTimeout; /* callbacktimeout: the longest run of a callback */
} WsConfig;

/*
 * What the WebSockets of one ws::handshake call have in common: callbacks
 * and timers.  Thousands of channels share one copy of each distinct value
 * (WsOptionsHold), which never changes while held.  Read by the event
 * thread, and by the creating thread before the channel's name is out.
 */
typedef struct WsOptions {
    const char   *callback;      /* {*}callback channel message (NaviServer's), or NULL */
    const char   *onMessage;     /* {*}onMessage channel message text|binary, or NULL */
    const char   *onClose;       /* {*}onClose channel code reason, or NULL */
    const char   *onError;       /* {*}onError channel code reason, or NULL */
    Ns_Time       idleTimeout;   /* close when nothing arrives this long; 0: never */
    Ns_Time       heartbeat;     /* ping interval; 0: none */
} WsOptions;

/*
 * One per WebSocket, for as long as it is open: the fields are ordered so
 * that the flags share one word.  The message size limit is the parser's.
 */
typedef struct WsChannel {
    WsParser     *parserPtr;
    bool          isServer;      /* we are the server side (peer frames masked) */
    bool          binary;        /* deliver text messages as bytes too */
    bool          lingering;     /* event thread: our side is shut, reading until the
                                  * peer ends */
    const WsOptions *optionsPtr; /* shared: WsOptionsHold */
    char         *protocol;      /* negotiated subprotocol, or NULL */
    size_t        sendLimit;
    WsSlowPolicy  slowPolicy;
    /* Event thread state. */
    bool          closeSent;     /* our close frame is out: waiting for the peer's */
    bool          closeNotified; /* onClose ran */
    bool          pingPending;   /* heartbeat ping sent, no pong yet */
    bool          slowLogged;    /* skip policy: logged once */
    Ns_Time       lastReceive;   /* monotonic, for idletimeout */
    union {                      /* the heartbeat stops when the close starts */
        Ns_Time   pingSent;      /* before closeSent */
        Ns_Time   closeDeadline; /* after closeSent: give up waiting (see ClosingTick) */
    };
    Ns_Time       closeGiveUp;   /* after closeSent: the latest end, however slow */
    uint64_t      closeSentMark; /* bytes sent at the last closing tick */
    /* Client side (ws::client::receive): messages not yet taken. */
    Tcl_DString  *pendingPtr;    /* length-prefixed messages; NULL on the server side */
} WsChannel;

/* wshandshake.c */
void     WsAcceptKey(const char *key, char out[29]);
Ns_Sock *WsHandshake(Ns_Conn *conn, const WsHandshakeSpec *specPtr, Tcl_DString *protocolDsPtr,
                     char **leftoverPtr, size_t *leftoverLenPtr);

/* websocket.c */
const WsOptions *WsOptionsHold(const WsOptions *valuePtr);
void       WsOptionsRelease(const WsOptions *optionsPtr);
WsChannel *WsChannelCreate(ConnChan *chanPtr, bool isServer, const WsOptions *valuePtr);
void       WsChannelSetCallback(WsChannel *wsPtr, const char *callback);
ConnChan  *WsGetChannel(Tcl_Interp *interp, const char *name, bool client);
void       WsChannelFree(WsChannel *wsPtr);
void       WsChannelStart(ConnChan *chanPtr);
void       WsChannelReadable(ConnChan *chanPtr);
void       WsChannelTimeout(ConnChan *chanPtr);
void       WsChannelExit(ConnChan *chanPtr);
void       WsChannelClosing(ConnChan *chanPtr);
int        WsSendFrame(ConnChan *chanPtr, unsigned int opcode, const uint8_t *payload,
                       size_t len, bool mask, unsigned int flags, Ns_SockError *errPtr);
void       WsStartClose(ConnChan *chanPtr, int code, const char *reason);
void       WsNotifyClosed(ConnChan *chanPtr, int code, const char *reason);
void       WsRequestClose(ConnChan *chanPtr, int code, const char *reason);
void       WsRunOnOpen(ConnChan *chanPtr, const char *script);
int        WsSend(ConnChan *chanPtr, const char *frame, size_t len, size_t limit);
void       WsSlowConsumer(ConnChan *chanPtr);
bool       WsClientReadOnce(ConnChan *chanPtr, Tcl_Interp *interp);

/* wsmulticast.c */
int        WsSubscribe(ConnChan *chanPtr, const char *subscription);
int        WsUnsubscribe(ConnChan *chanPtr, const char *subscription);
void       WsUnsubscribeAll(ConnChan *chanPtr);
Tcl_Obj   *WsSubscriptions(ConnChan *chanPtr);
Tcl_Obj   *WsSubscriptionNames(const char *server);
Tcl_Obj   *WsSubscribers(const char *server, const char *subscription);
int        WsMulticast(const char *server, const char *subscription, const char *frame,
                       size_t len, Tcl_Obj *excludeObj, int *deliveredPtr);

/* wscmd.c */
Ns_ReturnCode   WsInitInterp(Tcl_Interp *interp);
void            WsConfigure(const char *server);
const WsConfig *WsConfigGet(const char *server);

/* wsclient.c */
Tcl_ObjCmdProc WsClientOpenObjCmd, WsClientSendObjCmd, WsClientReceiveObjCmd,
    WsClientCloseObjCmd;

#endif /* WEBSOCKET_H */
