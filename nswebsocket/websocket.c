/*
 * websocket.c --
 *
 *      A channel in WebSocket mode, on the event thread: bytes from the
 *      socket go through the RFC 6455 parser (wsframe.c) and Tcl runs once
 *      per whole message; pings are answered with the same payload, the
 *      close handshake is completed, protocol errors close with their
 *      code, and the idle timeout and heartbeat are kept.
 *
 *      The WebSocket state of a channel is touched by the event thread
 *      only; other threads (ws::close, ws::ping) hand their requests over
 *      with Ns_EventCall.  Sending is the channel's own, thread-safe path.
 */

#include "websocket.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const WsParserCallbacks parserCallbacks;

/*
 * The options in use, one copy of each distinct value with the number of
 * channels that hold it.  optionsLock is a leaf lock.
 */
typedef struct HeldOptions {
    WsOptions options;      /* first: what WsOptionsHold hands out */
    size_t    holders;
} HeldOptions;

static pthread_mutex_t optionsLock = PTHREAD_MUTEX_INITIALIZER;  /* protects options */
static Tcl_HashTable   options;                /* WsOptions (as key) -> HeldOptions */
static bool            optionsInit = false;

/*
 *----------------------------------------------------------------------
 * WsOptionsHold, WsOptionsRelease --
 *
 *      Hold the shared copy of a set of options, and let go of it again.
 *      The copy holds its strings as shared strings (ConnChanHoldString),
 *      so options are equal exactly when their bytes are, and serve as
 *      the table key; it goes with its last holder.
 *
 * Results:
 *      WsOptionsHold: the shared copy, equal to *valuePtr.
 *----------------------------------------------------------------------
 */
static void
ReleaseStrings(const WsOptions *optionsPtr)
{
    ConnChanReleaseString(optionsPtr->callback);
    ConnChanReleaseString(optionsPtr->onMessage);
    ConnChanReleaseString(optionsPtr->onClose);
    ConnChanReleaseString(optionsPtr->onError);
}

const WsOptions *
WsOptionsHold(const WsOptions *valuePtr)
{
    WsOptions      key;
    HeldOptions   *heldPtr;
    Tcl_HashEntry *hPtr;
    int            isNew;

    memset(&key, 0, sizeof(key));
    key.callback = ConnChanHoldString(valuePtr->callback);
    key.onMessage = ConnChanHoldString(valuePtr->onMessage);
    key.onClose = ConnChanHoldString(valuePtr->onClose);
    key.onError = ConnChanHoldString(valuePtr->onError);
    key.idleTimeout = valuePtr->idleTimeout;
    key.heartbeat = valuePtr->heartbeat;

    pthread_mutex_lock(&optionsLock);
    if (!optionsInit) {
        Tcl_InitHashTable(&options, (int)(sizeof(WsOptions) / sizeof(int)));
        optionsInit = true;
    }
    hPtr = Tcl_CreateHashEntry(&options, (const char *)&key, &isNew);
    if (isNew) {
        heldPtr = ckalloc(sizeof(HeldOptions));
        heldPtr->options = key;
        heldPtr->holders = 0;
        Tcl_SetHashValue(hPtr, heldPtr);
    } else {
        heldPtr = Tcl_GetHashValue(hPtr);
    }
    heldPtr->holders++;
    pthread_mutex_unlock(&optionsLock);
    if (!isNew) {
        /* The shared copy holds its strings already. */
        ReleaseStrings(&key);
    }
    return &heldPtr->options;
}

void
WsOptionsRelease(const WsOptions *optionsPtr)
{
    HeldOptions   *heldPtr = NULL;
    Tcl_HashEntry *hPtr;

    pthread_mutex_lock(&optionsLock);
    hPtr = Tcl_FindHashEntry(&options, (const char *)optionsPtr);
    if (hPtr != NULL && --((HeldOptions *)Tcl_GetHashValue(hPtr))->holders == 0) {
        heldPtr = Tcl_GetHashValue(hPtr);
        Tcl_DeleteHashEntry(hPtr);
    }
    pthread_mutex_unlock(&optionsLock);
    if (heldPtr != NULL) {
        ReleaseStrings(&heldPtr->options);
        ckfree(heldPtr);
    }
}

/*
 *----------------------------------------------------------------------
 * WsChannelCreate --
 *
 *      Put a channel into WebSocket mode with the given options (NULL:
 *      the module's defaults) and the module's other defaults.  The state
 *      lives as long as the channel, and comes from malloc as the channel
 *      does (see ConnChanCreate).
 *
 * Results:
 *      The WebSocket state (owned by the channel), or NULL when memory
 *      for it or its parser is not there.
 *----------------------------------------------------------------------
 */
WsChannel *
WsChannelCreate(ConnChan *chanPtr, bool isServer, const WsOptions *valuePtr)
{
    WsChannel      *wsPtr = calloc(1, sizeof(WsChannel));
    const WsConfig *cfgPtr = chanPtr->configPtr;
    WsOptions       defaults = {NULL, NULL, NULL, NULL, cfgPtr->idleTimeout, cfgPtr->heartbeat};

    if (wsPtr == NULL) {
        return NULL;
    }
    wsPtr->parserPtr = WsParserCreate(isServer, cfgPtr->maxMessage);
    if (wsPtr->parserPtr == NULL) {
        free(wsPtr);
        return NULL;
    }
    wsPtr->isServer = isServer;
    wsPtr->optionsPtr = WsOptionsHold(valuePtr != NULL ? valuePtr : &defaults);
    wsPtr->sendLimit = cfgPtr->sendLimit;
    wsPtr->slowPolicy = cfgPtr->slowPolicy;
    Ns_GetMonotonicTime(&wsPtr->lastReceive);
    if (!isServer) {
        wsPtr->pendingPtr = ckalloc(sizeof(Tcl_DString));
        Tcl_DStringInit(wsPtr->pendingPtr);
    }
    pthread_mutex_lock(&chanPtr->lock);
    chanPtr->wsPtr = wsPtr;
    pthread_mutex_unlock(&chanPtr->lock);
    return wsPtr;
}

/*
 *----------------------------------------------------------------------
 * WsChannelFree --
 *
 *      Free the WebSocket state (with the channel).
 *----------------------------------------------------------------------
 */
void
WsChannelFree(WsChannel *wsPtr)
{
    WsParserDestroy(wsPtr->parserPtr);
    WsOptionsRelease(wsPtr->optionsPtr);
    ckfree(wsPtr->protocol);
    if (wsPtr->pendingPtr != NULL) {
        Tcl_DStringFree(wsPtr->pendingPtr);
        ckfree(wsPtr->pendingPtr);
    }
    free(wsPtr);
}

/*
 *----------------------------------------------------------------------
 * WsChannelSetCallback --
 *
 *      Replace the channel's callback (ws::io), in the event thread.
 *----------------------------------------------------------------------
 */
void
WsChannelSetCallback(WsChannel *wsPtr, const char *callback)
{
    const WsOptions *oldPtr = wsPtr->optionsPtr;
    WsOptions        value = *oldPtr;

    value.callback = callback;
    wsPtr->optionsPtr = WsOptionsHold(&value);
    WsOptionsRelease(oldPtr);
}

/*
 *----------------------------------------------------------------------
 * WsChannelStart --
 *
 *      Let the event thread read the channel as a WebSocket, waking it
 *      for the idle timeout, the heartbeat and the close wait too.
 *----------------------------------------------------------------------
 */
void
WsChannelStart(ConnChan *chanPtr)
{
    const WsOptions *optionsPtr = chanPtr->wsPtr->optionsPtr;
    Ns_Time          tick = {-1, 0};
    bool             kept;

    if (ConnChanTimeSet(&optionsPtr->idleTimeout)) {
        tick = optionsPtr->idleTimeout;
    }
    if (ConnChanTimeSet(&optionsPtr->heartbeat)
        && (tick.sec < 0 || Ns_DiffTime(&optionsPtr->heartbeat, &tick, NULL) < 0)) {
        tick = optionsPtr->heartbeat;
    }
    pthread_mutex_lock(&chanPtr->lock);
    chanPtr->timeout = tick;
    chanPtr->wsReading = true;
    /* Frames that came with the upgrade request are not seen by epoll. */
    kept = (ConnChanKept(chanPtr) > 0);
    pthread_mutex_unlock(&chanPtr->lock);
    ConnChanUpdateEvent(chanPtr);
    if (kept) {
        ConnChanScheduleRead(chanPtr);
    }
}

/*
 * Callback scripts as Tcl lists, parsed once per thread: a copy of the list
 * per call keeps the compiled form of what is in it (an apply lambda, a
 * proc name's command lookup), where rebuilding the command from its
 * string would compile a lambda again for every message.
 */
#define PREFIX_CACHE_MAX 1024

static __thread Tcl_HashTable *prefixCache = NULL;

/*
 *----------------------------------------------------------------------
 * FreePrefixCache --
 *
 *      Drop this thread's parsed callback scripts (when full, at exit).
 *----------------------------------------------------------------------
 */
static void
FreePrefixCache(ClientData UNUSED(clientData))
{
    Tcl_HashSearch search;

    for (Tcl_HashEntry *hPtr = Tcl_FirstHashEntry(prefixCache, &search); hPtr != NULL;
         hPtr = Tcl_NextHashEntry(&search)) {
        Tcl_DecrRefCount((Tcl_Obj *)Tcl_GetHashValue(hPtr));
    }
    Tcl_DeleteHashTable(prefixCache);
    ckfree(prefixCache);
    prefixCache = NULL;
}

/*
 *----------------------------------------------------------------------
 * CachedPrefix --
 *
 *      This thread's Tcl object for a callback script.  The cache is
 *      emptied when it grows past PREFIX_CACHE_MAX (scripts that differ per
 *      client must not grow it for ever).
 *----------------------------------------------------------------------
 */
static Tcl_Obj *
CachedPrefix(const char *script)
{
    Tcl_HashEntry *hPtr;
    Tcl_Obj       *prefixObj;
    int            isNew;

    if (prefixCache != NULL && prefixCache->numEntries >= PREFIX_CACHE_MAX) {
        Tcl_DeleteThreadExitHandler(FreePrefixCache, NULL);
        FreePrefixCache(NULL);
    }
    if (prefixCache == NULL) {
        prefixCache = ckalloc(sizeof(Tcl_HashTable));
        Tcl_InitHashTable(prefixCache, TCL_STRING_KEYS);
        Tcl_CreateThreadExitHandler(FreePrefixCache, NULL);
    }
    hPtr = Tcl_CreateHashEntry(prefixCache, script, &isNew);
    if (isNew) {
        int n;

        prefixObj = Tcl_NewStringObj(script, -1);
        Tcl_IncrRefCount(prefixObj);
        (void)Tcl_ListObjLength(NULL, prefixObj, &n);   /* parse it now, once */
        Tcl_SetHashValue(hPtr, prefixObj);
    }
    return Tcl_GetHashValue(hPtr);
}

/*
 *----------------------------------------------------------------------
 * RunScript --
 *
 *      Run {*}script with extra words in the event thread's interp.
 *
 * Results:
 *      TCL_OK or TCL_ERROR (logged with context).
 *----------------------------------------------------------------------
 */
static int
RunScript(ConnChan *chanPtr, const char *script, int objc, Tcl_Obj *const objv[],
          const char *what)
{
    Tcl_Interp *interp = Ns_TclThreadInterp(chanPtr->server);
    Tcl_Obj    *cmdObj = Tcl_DuplicateObj(CachedPrefix(script));
    int         result;

    Tcl_IncrRefCount(cmdObj);
    if (Tcl_ListObjReplace(interp, cmdObj, INT_MAX, 0, objc, objv) != TCL_OK) {
        result = TCL_ERROR;
    } else {
        result = ConnChanEval(chanPtr, interp, cmdObj);
    }
    if (result != TCL_OK) {
        char context[96];

        snprintf(context, sizeof(context), "websocket %s %s", chanPtr->name, what);
        Ns_TclLogErrorInfo(interp, context);
    }
    Tcl_DecrRefCount(cmdObj);
    Tcl_ResetResult(interp);
    return result;
}

/*
 *----------------------------------------------------------------------
 * WsSendFrame --
 *
 *      Send one frame on a WebSocket channel (any thread), as one write so
 *      that frames from several threads never interleave.  flags are
 *      those of ConnChanWriteV.
 *
 * Results:
 *      TCL_OK, or TCL_ERROR with *errPtr.
 *----------------------------------------------------------------------
 */
int
WsSendFrame(ConnChan *chanPtr, unsigned int opcode, const uint8_t *payload, size_t len,
            bool mask, unsigned int flags, Ns_SockError *errPtr)
{
    uint8_t       header[WS_MAX_HEADER_LENGTH];
    uint8_t       key[4] = {0, 0, 0, 0};
    struct iovec  iov[2];
    size_t        written = 0;
    int           result;
    uint8_t      *masked = NULL;

    if (mask) {
        uint32_t r = (uint32_t)random();

        memcpy(key, &r, sizeof(key));
    }
    iov[0].iov_base = header;
    iov[0].iov_len = WsFrameEncodeHeader(header, true, opcode, len, mask ? key : NULL);
    iov[1].iov_base = (void *)payload;
    iov[1].iov_len = len;
    if (mask && len > 0) {
        masked = ckalloc(len);
        memcpy(masked, payload, len);
        WsFrameMask(masked, len, key, 0);
        iov[1].iov_base = masked;
    }
    result = ConnChanWriteV(chanPtr, iov, 2, flags, &written, errPtr);
    ckfree(masked);
    return result;
}

/*
 *----------------------------------------------------------------------
 * SendClose --
 *
 *      Send a close frame with code and reason (event thread).
 *----------------------------------------------------------------------
 */
static void
SendClose(ConnChan *chanPtr, int code, const char *reason)
{
    WsChannel   *wsPtr = chanPtr->wsPtr;
    uint8_t      payload[WS_MAX_CONTROL_PAYLOAD];
    size_t       len = WsCloseEncode(payload, code, reason, strlen(reason));
    Ns_SockError err;

    if (!wsPtr->closeSent) {
        unsigned int flags = CHAN_WRITE_LAST;

        /*
         * Writes shut before the close: a slow consumer (WsSlowConsumer).
         * What it could not take is dropped, so that its close is not
         * stuck behind it.
         */
        pthread_mutex_lock(&chanPtr->lock);
        if (chanPtr->writesShut) {
            flags |= CHAN_WRITE_SKIP_BACKLOG;
        }
        pthread_mutex_unlock(&chanPtr->lock);
        wsPtr->closeSent = true;
        (void)WsSendFrame(chanPtr, WS_OP_CLOSE, payload, len, !wsPtr->isServer, flags, &err);
    }
}

/*
 *----------------------------------------------------------------------
 * WsNotifyClosed --
 *
 *      The WebSocket is over: leave every subscription at once and run
 *      the on-close callback (once) with the close code and reason.
 *----------------------------------------------------------------------
 */
void
WsNotifyClosed(ConnChan *chanPtr, int code, const char *reason)
{
    WsChannel *wsPtr = chanPtr->wsPtr;

    WsUnsubscribeAll(chanPtr);
    if (!wsPtr->closeNotified) {
        wsPtr->closeNotified = true;
        if (wsPtr->optionsPtr->onClose != NULL) {
            Tcl_Obj *objv[3];

            objv[0] = Tcl_NewStringObj(chanPtr->name, -1);
            objv[1] = Tcl_NewIntObj(code);
            objv[2] = Tcl_NewStringObj(reason, -1);
            (void)RunScript(chanPtr, wsPtr->optionsPtr->onClose, 3, objv,
                            "on-close callback");
        }
    }
}

/*
 *----------------------------------------------------------------------
 * EndConnection --
 *
 *      The WebSocket is over (close handshake or error): a server channel
 *      closes once its last frame is out.  A client channel stays until
 *      ws::client::receive has handed out the messages that came before
 *      the end (it closes the channel then), or ws::client::close.
 *----------------------------------------------------------------------
 */
static void
EndConnection(ConnChan *chanPtr)
{
    if (chanPtr->wsPtr->isServer) {
        ConnChanCloseWhenDrained(chanPtr);
    }
}

/*
 *----------------------------------------------------------------------
 * Fail --
 *
 *      End the WebSocket because of an error: send a close frame with the
 *      code (if none went out yet), tell the application, and close the
 *      TCP connection once the frame is sent (RFC 6455 §7.1.7; a client
 *      channel: see EndConnection).
 *----------------------------------------------------------------------
 */
static void
Fail(ConnChan *chanPtr, int code, const char *reason)
{
    WsChannel *wsPtr = chanPtr->wsPtr;

    if (code != 1006) {
        SendClose(chanPtr, code, reason);
    }
    if (wsPtr->optionsPtr->onError != NULL && !wsPtr->closeNotified) {
        Tcl_Obj *objv[3];

        objv[0] = Tcl_NewStringObj(chanPtr->name, -1);
        objv[1] = Tcl_NewIntObj(code);
        objv[2] = Tcl_NewStringObj(reason, -1);
        (void)RunScript(chanPtr, wsPtr->optionsPtr->onError, 3, objv, "on-error callback");
    }
    WsNotifyClosed(chanPtr, code, reason);
    EndConnection(chanPtr);
}

/*
 *----------------------------------------------------------------------
 * WsStartClose --
 *
 *      Begin the close handshake from our side (event thread): send the
 *      close frame and wait, a bounded time, for the peer's.
 *----------------------------------------------------------------------
 */
void
WsStartClose(ConnChan *chanPtr, int code, const char *reason)
{
    WsChannel *wsPtr = chanPtr->wsPtr;
    Ns_Time    tick = {1, 0};

    if (wsPtr->closeSent) {
        return;
    }
    SendClose(chanPtr, code, reason);
    Ns_GetMonotonicTime(&wsPtr->closeDeadline);
    wsPtr->closeGiveUp = wsPtr->closeDeadline;
    Ns_IncrTime(&wsPtr->closeDeadline, chanPtr->configPtr->closeWait.sec,
                chanPtr->configPtr->closeWait.usec);
    Ns_IncrTime(&wsPtr->closeGiveUp, chanPtr->configPtr->closeMax.sec,
                chanPtr->configPtr->closeMax.usec);
    WsNotifyClosed(chanPtr, code, reason);
    pthread_mutex_lock(&chanPtr->lock);
    chanPtr->timeout = tick;
    pthread_mutex_unlock(&chanPtr->lock);
    ConnChanUpdateEvent(chanPtr);
}

/*
 * Parser callbacks; arg is the channel.  After the channel was closed
 * (maybe by the application inside a message callback) the rest of the
 * input is ignored.
 */

static bool
Active(const ConnChan *chanPtr)
{
    return !chanPtr->closed && !chanPtr->wsPtr->closeNotified;
}

static void
OnMessage(void *arg, unsigned int opcode, uint8_t *data, size_t len)
{
    ConnChan        *chanPtr = arg;
    WsChannel       *wsPtr = chanPtr->wsPtr;
    const WsOptions *optionsPtr = wsPtr->optionsPtr;
    Tcl_Obj         *objv[3];

    if (!Active(chanPtr)) {
        return;
    }
    if (!wsPtr->isServer) {
        /* ws::client::receive takes these: opcode, 8-byte length, payload. */
        uint64_t n = len;

        Tcl_DStringAppend(wsPtr->pendingPtr, (const char *)&(uint8_t){(uint8_t)opcode}, 1);
        Tcl_DStringAppend(wsPtr->pendingPtr, (const char *)&n, sizeof(n));
        Tcl_DStringAppend(wsPtr->pendingPtr, (const char *)data, (int)len);
        return;
    }
    if (optionsPtr->callback == NULL && optionsPtr->onMessage == NULL) {
        return;
    }
    objv[0] = Tcl_NewStringObj(chanPtr->name, -1);
    if (opcode == WS_OP_TEXT && !wsPtr->binary) {
        objv[1] = Ns_Utf8ToObj((const char *)data, len);
    } else {
        objv[1] = Tcl_NewByteArrayObj(data, (int)len);
    }
    objv[2] = Tcl_NewStringObj(opcode == WS_OP_TEXT ? "text" : "binary", -1);
    if (RunScript(chanPtr, optionsPtr->onMessage != NULL ? optionsPtr->onMessage
                                                         : optionsPtr->callback,
                  optionsPtr->onMessage != NULL ? 3 : 2, objv, "message callback") != TCL_OK
        && Active(chanPtr)) {
        Fail(chanPtr, 1011, "internal error");
    }
}

static void
OnPing(void *arg, uint8_t *data, size_t len)
{
    ConnChan    *chanPtr = arg;
    Ns_SockError err;

    if (Active(chanPtr) && !chanPtr->wsPtr->closeSent) {
        (void)WsSendFrame(chanPtr, WS_OP_PONG, data, len, !chanPtr->wsPtr->isServer, 0, &err);
    }
}

static void
OnPong(void *arg, uint8_t *UNUSED(data), size_t UNUSED(len))
{
    ConnChan *chanPtr = arg;

    chanPtr->wsPtr->pingPending = false;
}

static void
OnClose(void *arg, int code, const uint8_t *reason, size_t len)
{
    ConnChan  *chanPtr = arg;
    WsChannel *wsPtr = chanPtr->wsPtr;
    char       text[WS_MAX_CONTROL_PAYLOAD + 1];

    memcpy(text, reason, len);
    text[len] = '\0';
    if (!wsPtr->closeSent) {
        /* Echo the code: the close handshake is complete on both sides. */
        SendClose(chanPtr, code == WS_CLOSE_NO_STATUS ? 0 : code, "");
    }
    WsNotifyClosed(chanPtr, code, text);
    EndConnection(chanPtr);
}

static void
OnError(void *arg, int code, const char *reason)
{
    ConnChan *chanPtr = arg;

    if (Active(chanPtr)) {
        Ns_Log(Notice, "websocket %s: protocol error from %s: %s (closing with %d)",
               chanPtr->name, ConnChanPeer(chanPtr), reason, code);
        Fail(chanPtr, code, reason);
    }
}

static const WsParserCallbacks parserCallbacks = {
    OnMessage, OnPing, OnPong, OnClose, OnError
};

/*
 *----------------------------------------------------------------------
 * WsChannelReadable --
 *
 *      Read what the socket has and feed it to the parser (event thread).
 *      EOF or a read error without a close frame is an abnormal close
 *      (1006) for the application.
 *----------------------------------------------------------------------
 */
void
WsChannelReadable(ConnChan *chanPtr)
{
    WsChannel   *wsPtr = chanPtr->wsPtr;
    Tcl_DString  ds;
    Ns_SockError err;

    Tcl_DStringInit(&ds);
    if (ConnChanReadEvent(chanPtr, &ds, &err) != TCL_OK) {
        if (Active(chanPtr)) {
            Fail(chanPtr, 1006, err.message);
        }
    } else if (Tcl_DStringLength(&ds) == 0) {
        if (chanPtr->eof && Active(chanPtr)) {
            Fail(chanPtr, 1006, "connection closed without a close frame");
        } else if (chanPtr->eof) {
            ConnChanClose(chanPtr);
        }
    } else {
        Ns_GetMonotonicTime(&wsPtr->lastReceive);
        ConnChanCork();
        (void)WsParserFeed(wsPtr->parserPtr, (uint8_t *)Tcl_DStringValue(&ds),
                           (size_t)Tcl_DStringLength(&ds), &parserCallbacks, chanPtr);
        ConnChanUncork();
        if (wsPtr->closeSent && WsParserClosed(wsPtr->parserPtr)) {
            ConnChanCloseWhenDrained(chanPtr);
        }
    }
    Tcl_DStringFree(&ds);
}

/*
 *----------------------------------------------------------------------
 * ClosingTick --
 *
 *      Our close frame is queued or sent and the channel was quiet for a
 *      tick.  The wait for the peer's close (closewait) counts from when
 *      what was queued was last seen going out, so that a slow reader
 *      still gets the close frame.  When the wait is over, our sending
 *      side is shut (the peer gets EOF after the close frame), and for
 *      closelinger more what the peer sends is read and dropped: closing
 *      at once would answer a message it sent before reading our close
 *      with a reset, which can destroy that close and everything before
 *      it in the peer's buffers.  Then, or when the queue stalls, or
 *      after closemax in all, the channel is closed.
 *----------------------------------------------------------------------
 */
static void
ClosingTick(ConnChan *chanPtr, const Ns_Time *nowPtr)
{
    WsChannel      *wsPtr = chanPtr->wsPtr;
    const WsConfig *cfgPtr = chanPtr->configPtr;
    size_t          queued;
    uint64_t        sent;
    Ns_SockError    err;

    pthread_mutex_lock(&chanPtr->lock);
    /*
     * A slow reader frees a little space at a time, less than wakes a
     * writer: try anyway, or a close frame of a few bytes could wait for
     * half the socket buffer to be read.
     */
    if (chanPtr->queued > 0 && !chanPtr->closed && chanPtr->sockPtr != NULL
        && ConnChanFlush(chanPtr, &err) != TCL_OK) {
        ConnChanDropQueue(chanPtr);
    }
    queued = chanPtr->queued;
    sent = chanPtr->sent;
    pthread_mutex_unlock(&chanPtr->lock);

    if (Ns_DiffTime(nowPtr, &wsPtr->closeGiveUp, NULL) >= 0) {
        ConnChanClose(chanPtr);
    } else if (queued > 0 && sent != wsPtr->closeSentMark) {
        wsPtr->closeSentMark = sent;
        wsPtr->closeDeadline = *nowPtr;
        Ns_IncrTime(&wsPtr->closeDeadline, cfgPtr->closeWait.sec, cfgPtr->closeWait.usec);
    } else if (Ns_DiffTime(nowPtr, &wsPtr->closeDeadline, NULL) < 0) {
        /* Still waiting for the peer's close. */
    } else if (queued > 0 || wsPtr->lingering || !wsPtr->isServer) {
        ConnChanClose(chanPtr);
    } else {
        wsPtr->lingering = true;
        ConnChanShutdownSend(chanPtr);
        wsPtr->closeDeadline = *nowPtr;
        Ns_IncrTime(&wsPtr->closeDeadline, cfgPtr->closeLinger.sec, cfgPtr->closeLinger.usec);
    }
}

/*
 *----------------------------------------------------------------------
 * WsChannelTimeout --
 *
 *      The channel was quiet for its tick: close an idle WebSocket, ping
 *      for the heartbeat (and give up when the pong does not come), or
 *      stop waiting for the peer's close frame.
 *----------------------------------------------------------------------
 */
void
WsChannelTimeout(ConnChan *chanPtr)
{
    WsChannel       *wsPtr = chanPtr->wsPtr;
    const WsOptions *optionsPtr = wsPtr->optionsPtr;
    Ns_Time          now, quiet;

    Ns_GetMonotonicTime(&now);
    Ns_DiffTime(&now, &wsPtr->lastReceive, &quiet);
    if (wsPtr->closeSent) {
        ClosingTick(chanPtr, &now);
    } else if (ConnChanTimeSet(&optionsPtr->idleTimeout)
               && Ns_DiffTime(&quiet, &optionsPtr->idleTimeout, NULL) >= 0) {
        WsStartClose(chanPtr, 1001, "idle timeout");
    } else if (ConnChanTimeSet(&optionsPtr->heartbeat)) {
        Ns_Time sincePing;

        Ns_DiffTime(&now, &wsPtr->pingSent, &sincePing);
        if (wsPtr->pingPending && Ns_DiffTime(&sincePing, &optionsPtr->heartbeat, NULL) >= 0) {
            Fail(chanPtr, 1011, "no pong to the heartbeat ping");
        } else if (!wsPtr->pingPending) {
            Ns_SockError err;

            wsPtr->pingPending = true;
            wsPtr->pingSent = now;
            (void)WsSendFrame(chanPtr, WS_OP_PING, (const uint8_t *)"nsws", 4,
                              !wsPtr->isServer, 0, &err);
        }
    }
}

/*
 *----------------------------------------------------------------------
 * WsChannelExit --
 *
 *      Server shutdown: every WebSocket gets a 1001 close and its on-close
 *      callback.
 *----------------------------------------------------------------------
 */
void
WsChannelExit(ConnChan *chanPtr)
{
    if (Active(chanPtr)) {
        SendClose(chanPtr, 1001, "server shutdown");
        WsNotifyClosed(chanPtr, 1001, "server shutdown");
    }
    ConnChanClose(chanPtr);
}

/*
 *----------------------------------------------------------------------
 * WsRequestClose --
 *
 *      Ask the event thread to start the close handshake (ws::close from
 *      any thread).
 *----------------------------------------------------------------------
 */
typedef struct CloseRequest {
    ConnChan *chanPtr;       /* referenced */
    int       code;
    char      reason[WS_MAX_CLOSE_REASON + 1];
} CloseRequest;

static void
DoCloseRequest(void *arg)
{
    CloseRequest *reqPtr = arg;

    if (!reqPtr->chanPtr->closed) {
        WsStartClose(reqPtr->chanPtr, reqPtr->code, reqPtr->reason);
    }
    ConnChanRelease(reqPtr->chanPtr);
    ckfree(reqPtr);
}

void
WsRequestClose(ConnChan *chanPtr, int code, const char *reason)
{
    CloseRequest *reqPtr = ckalloc(sizeof(CloseRequest));

    atomic_fetch_add(&chanPtr->refCount, 1);
    reqPtr->chanPtr = chanPtr;
    reqPtr->code = code;
    snprintf(reqPtr->reason, sizeof(reqPtr->reason), "%s", reason);
    Ns_EventCall(DoCloseRequest, reqPtr);
}

/*
 *----------------------------------------------------------------------
 * WsRunOnOpen --
 *
 *      Run the on-open callback in the event thread, before any message of
 *      the channel: every callback of a WebSocket runs in the same interp.
 *----------------------------------------------------------------------
 */
typedef struct OpenRequest {
    ConnChan *chanPtr;       /* referenced */
    char     *script;
} OpenRequest;

static void
DoOnOpen(void *arg)
{
    OpenRequest *reqPtr = arg;

    if (!reqPtr->chanPtr->closed) {
        Tcl_Obj *nameObj = Tcl_NewStringObj(reqPtr->chanPtr->name, -1);

        (void)RunScript(reqPtr->chanPtr, reqPtr->script, 1, &nameObj, "on-open callback");
    }
    ConnChanRelease(reqPtr->chanPtr);
    ckfree(reqPtr->script);
    ckfree(reqPtr);
}

void
WsRunOnOpen(ConnChan *chanPtr, const char *script)
{
    OpenRequest *reqPtr = ckalloc(sizeof(OpenRequest));

    atomic_fetch_add(&chanPtr->refCount, 1);
    reqPtr->chanPtr = chanPtr;
    reqPtr->script = ns_strdup(script);
    Ns_EventCall(DoOnOpen, reqPtr);
}

/*
 *----------------------------------------------------------------------
 * WsSlowConsumer --
 *
 *      A channel cannot take what it is sent fast enough: close it with
 *      1008 or, by policy, let it miss messages.  Logged once.
 *----------------------------------------------------------------------
 */
void
WsSlowConsumer(ConnChan *chanPtr)
{
    WsChannel *wsPtr = chanPtr->wsPtr;
    bool       first;

    pthread_mutex_lock(&chanPtr->lock);
    first = !wsPtr->slowLogged;
    wsPtr->slowLogged = true;
    pthread_mutex_unlock(&chanPtr->lock);
    if (first) {
        Ns_Log(Warning, "websocket %s (%s): slow consumer, over %zu bytes queued: %s",
               chanPtr->name, ConnChanPeer(chanPtr), wsPtr->sendLimit,
               wsPtr->slowPolicy == WS_SLOW_CLOSE ? "closing with 1008" : "skipping messages");
        if (wsPtr->slowPolicy == WS_SLOW_CLOSE) {
            /*
             * Nothing more goes out before the close frame: a message
             * queued meanwhile would follow a gap, the ones just refused.
             */
            ConnChanShutWrites(chanPtr);
            WsRequestClose(chanPtr, 1008, "slow consumer");
        }
    }
}

/*
 *----------------------------------------------------------------------
 * WsSend --
 *
 *      Send a frame to one WebSocket (ws::send), minding the slow consumer
 *      limit: a channel with more than limit bytes queued (0: no limit)
 *      gets nothing.
 *
 * Results:
 *      1 when sent or queued, 0 otherwise.
 *----------------------------------------------------------------------
 */
int
WsSend(ConnChan *chanPtr, const char *frame, size_t len, size_t limit)
{
    ChanBuf       *bufPtr = ChanBufCreate(frame, len);
    /*
     * The limit is on what is still queued from before: a consumer that
     * keeps up takes a message of any size.
     */
    ChanSendStatus status = ConnChanWriteShared(chanPtr, bufPtr, (limit > 0) ? limit + len : 0);

    ChanBufRelease(bufPtr);
    if (status == CHAN_SEND_OVER_LIMIT && chanPtr->wsPtr != NULL) {
        WsSlowConsumer(chanPtr);
    }
    return (status == CHAN_SEND_OK) ? 1 : 0;
}

/*
 *----------------------------------------------------------------------
 * WsClientReadOnce --
 *
 *      ws::client::receive: read once (waiting up to the channel's receive
 *      timeout) and feed the parser in the calling thread.
 *
 * Results:
 *      false with an error in interp (timeout, or the peer is gone).
 *----------------------------------------------------------------------
 */
bool
WsClientReadOnce(ConnChan *chanPtr, Tcl_Interp *interp)
{
    WsChannel   *wsPtr = chanPtr->wsPtr;
    Tcl_DString  ds;
    Ns_SockError err;
    bool         ok = true;

    Tcl_DStringInit(&ds);
    if (ConnChanRead(chanPtr, &ds, &err) != TCL_OK) {
        ConnChanSetError(interp, &err);
        ok = false;
    } else if (Tcl_DStringLength(&ds) == 0 && chanPtr->eof) {
        Tcl_SetObjResult(interp, Tcl_ObjPrintf("WebSocket \"%s\" is closed", chanPtr->name));
        Tcl_SetErrorCode(interp, "NS", "WS", "CLOSED", chanPtr->name, (char *)0);
        ok = false;
    } else {
        (void)WsParserFeed(wsPtr->parserPtr, (uint8_t *)Tcl_DStringValue(&ds),
                           (size_t)Tcl_DStringLength(&ds), &parserCallbacks, chanPtr);
    }
    Tcl_DStringFree(&ds);
    return ok;
}

/*
 *----------------------------------------------------------------------
 * WsChannelClosing --
 *
 *      The channel is being closed (ns_connchan close, ws::client::close,
 *      or the end of a close handshake).  A server-side WebSocket that has
 *      not said goodbye yet sends a 1000 close and runs its on-close now.
 *      Event thread only.
 *----------------------------------------------------------------------
 */
void
WsChannelClosing(ConnChan *chanPtr)
{
    if (chanPtr->wsPtr->isServer && Active(chanPtr)) {
        SendClose(chanPtr, 1000, "");
        WsNotifyClosed(chanPtr, 1000, "");
    }
}

/*
 *----------------------------------------------------------------------
 * WsGetChannel --
 *
 *      Look up a channel argument of a ws::* command: it must be a
 *      WebSocket, and with client, one opened by ws::client::open.
 *
 * Results:
 *      The referenced channel (release it), or NULL with an error.
 *----------------------------------------------------------------------
 */
ConnChan *
WsGetChannel(Tcl_Interp *interp, const char *name, bool client)
{
    ConnChan *chanPtr = ConnChanGet(Ns_TclInterpServer(interp), name);

    if (chanPtr == NULL) {
        ConnChanLookupError(interp, name);
    } else if (chanPtr->wsPtr == NULL || (client && chanPtr->wsPtr->isServer)) {
        Tcl_SetObjResult(interp, Tcl_ObjPrintf("channel \"%s\" is not a WebSocket%s", name,
                                               client ? " client" : ""));
        Tcl_SetErrorCode(interp, "NS", "WS", client ? "NOTCLIENT" : "NOTWEBSOCKET", name,
                         (char *)0);
        ConnChanRelease(chanPtr);
        chanPtr = NULL;
    }
    return chanPtr;
}
