/*
 * wsclient.c --
 *
 *      ws::client::*: a small blocking WebSocket client (ws:// and wss://)
 *      for scripts and tests: open does the opening handshake and checks
 *      Sec-WebSocket-Accept, send masks its frames, receive waits for the
 *      next whole message (answering pings meanwhile), close ends it.  The
 *      calling thread does the reading; the event thread is not involved.
 */

#include "websocket.h"
#include "wsdigest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

/*
 *----------------------------------------------------------------------
 * ParseWsUrl --
 *
 *      Split ws://host:port/path (or wss://).
 *
 * Results:
 *      true when the URL is usable.
 *----------------------------------------------------------------------
 */
static bool
ParseWsUrl(const char *url, bool *tlsPtr, Tcl_DString *hostPtr, int *portPtr,
           Tcl_DString *authorityPtr, Tcl_DString *pathPtr)
{
    const char *p, *hostEnd, *pathStart;

    if (strncmp(url, "wss://", 6) == 0) {
        *tlsPtr = true;
        p = url + 6;
        *portPtr = 443;
    } else if (strncmp(url, "ws://", 5) == 0) {
        *tlsPtr = false;
        p = url + 5;
        *portPtr = 80;
    } else {
        return false;
    }
    pathStart = strchr(p, '/');
    if (pathStart == NULL) {
        pathStart = p + strlen(p);
    }
    Tcl_DStringAppend(authorityPtr, p, (int)(pathStart - p));
    if (*p == '[') {
        hostEnd = memchr(p, ']', (size_t)(pathStart - p));
        if (hostEnd == NULL) {
            return false;
        }
        Tcl_DStringAppend(hostPtr, p + 1, (int)(hostEnd - p - 1));
        hostEnd++;
    } else {
        hostEnd = memchr(p, ':', (size_t)(pathStart - p));
        if (hostEnd == NULL) {
            hostEnd = pathStart;
        }
        Tcl_DStringAppend(hostPtr, p, (int)(hostEnd - p));
    }
    if (*hostEnd == ':') {
        *portPtr = atoi(hostEnd + 1);
    }
    Tcl_DStringAppend(pathPtr, *pathStart != '\0' ? pathStart : "/", -1);
    return Tcl_DStringLength(hostPtr) > 0 && *portPtr > 0 && *portPtr < 65536;
}

/*
 *----------------------------------------------------------------------
 * ReadResponseHead --
 *
 *      Read the handshake response head (blocking up to the timeout); what
 *      follows it stays in the channel for the frame parser.
 *
 * Results:
 *      TCL_OK with the head in headPtr, or TCL_ERROR with *errPtr.
 *----------------------------------------------------------------------
 */
static int
ReadResponseHead(ConnChan *chanPtr, const Ns_Time *timeoutPtr, Tcl_DString *headPtr,
                 Ns_SockError *errPtr)
{
    int result = TCL_OK;

    chanPtr->recvTimeout = *timeoutPtr;
    for (;;) {
        const char *end;

        if (ConnChanRead(chanPtr, headPtr, errPtr) != TCL_OK) {
            result = TCL_ERROR;
            break;
        }
        end = strstr(Tcl_DStringValue(headPtr), "\r\n\r\n");
        if (end != NULL) {
            size_t headLen = (size_t)(end + 4 - Tcl_DStringValue(headPtr));
            size_t rest = (size_t)Tcl_DStringLength(headPtr) - headLen;

            ConnChanUnread(chanPtr, end + 4, rest);
            Tcl_DStringSetLength(headPtr, (int)headLen);
            break;
        }
        if (chanPtr->eof || Tcl_DStringLength(headPtr) > 65536) {
            snprintf(errPtr->message, sizeof(errPtr->message),
                     "no WebSocket handshake response");
            snprintf(errPtr->errorCode, sizeof(errPtr->errorCode), "NS WS HANDSHAKE");
            result = TCL_ERROR;
            break;
        }
    }
    chanPtr->recvTimeout.sec = -1;
    return result;
}

/*
 *----------------------------------------------------------------------
 * HeaderValue --
 *
 *      The value of a header in a response head (any case), into dsPtr.
 *----------------------------------------------------------------------
 */
static const char *
HeaderValue(const char *head, const char *name, Tcl_DString *dsPtr)
{
    size_t nameLen = strlen(name);

    for (const char *line = strstr(head, "\r\n"); line != NULL;
         line = strstr(line + 2, "\r\n")) {
        const char *p = line + 2;

        if (strncasecmp(p, name, nameLen) == 0 && p[nameLen] == ':') {
            const char *value = p + nameLen + 1;
            const char *end = strstr(value, "\r\n");

            while (*value == ' ' || *value == '\t') {
                value++;
            }
            Tcl_DStringAppend(dsPtr, value, (int)(end - value));
            return Tcl_DStringValue(dsPtr);
        }
    }
    return NULL;
}

/*
 *----------------------------------------------------------------------
 * WsClientOpenObjCmd --
 *
 *      ws::client::open ?-timeout /time/? ?-headers /setId/?
 *          ?-protocols /value/? ?-insecure? ?-cafile /value/? ?--? /url/
 *
 * Results:
 *      The channel of the open WebSocket.
 *----------------------------------------------------------------------
 */
int
WsClientOpenObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                   Tcl_Obj *const objv[])
{
    Ns_Time     *timeoutPtr = NULL;
    Ns_Set      *headers = NULL;
    char        *protocols = NULL, *cafile = NULL, *url = NULL;
    int          insecure = 0;
    Ns_ObjvSpec  opts[] = {
        {"-timeout",   Ns_ObjvTime,   &timeoutPtr, NULL},
        {"-headers",   Ns_ObjvSet,    &headers,    NULL},
        {"-protocols", Ns_ObjvString, &protocols,  NULL},
        {"-insecure",  Ns_ObjvBool,   &insecure,   INT2PTR(1)},
        {"-cafile",    Ns_ObjvString, &cafile,     NULL},
        {"--",         Ns_ObjvBreak,  NULL,        NULL},
        {NULL, NULL, NULL, NULL}
    };
    Ns_ObjvSpec  args[] = {
        {"url", Ns_ObjvString, &url, NULL},
        {NULL, NULL, NULL, NULL}
    };
    Tcl_DString  host, authority, path, req, head, value;
    Ns_Time      timeout = {5, 0};
    Ns_SockError err;
    ConnChan    *chanPtr = NULL;
    bool         tls = false;
    int          port = 0, result = TCL_OK;

    if (Ns_ParseObjv(opts, args, interp, 1, objc, objv) != NS_OK) {
        return TCL_ERROR;
    }
    if (timeoutPtr != NULL) {
        timeout = *timeoutPtr;
    }
    Tcl_DStringInit(&host);
    Tcl_DStringInit(&authority);
    Tcl_DStringInit(&path);
    Tcl_DStringInit(&req);
    Tcl_DStringInit(&head);
    Tcl_DStringInit(&value);
    memset(&err, 0, sizeof(err));
    if (!ParseWsUrl(url, &tls, &host, &port, &authority, &path)) {
        Tcl_SetObjResult(interp, Tcl_ObjPrintf("invalid WebSocket URL \"%s\": must be ws:// or"
                                               " wss://", url));
        Tcl_SetErrorCode(interp, "NS", "INVALID", "URL", url, (char *)0);
        result = TCL_ERROR;
    } else {
        Ns_TlsOptions tlsOptions;
        Ns_Sock      *sockPtr;

        memset(&tlsOptions, 0, sizeof(tlsOptions));
        tlsOptions.insecure = (insecure != 0);
        tlsOptions.cafile = cafile;
        sockPtr = Ns_SockConnect(Tcl_DStringValue(&host), port, tls ? &tlsOptions : NULL,
                                 &timeout, &err);
        if (sockPtr == NULL) {
            ConnChanSetError(interp, &err);
            result = TCL_ERROR;
        } else {
            chanPtr = ConnChanCreate(Ns_TclInterpServer(interp), sockPtr, sockPtr->peer,
                                     NULL, NULL);
        }
    }
    if (result == TCL_OK) {
        unsigned char nonce[16];
        char          key[25], accept[29];
        size_t        written;

        if (getrandom(nonce, sizeof(nonce), 0) != (ssize_t)sizeof(nonce)) {
            for (size_t i = 0; i < sizeof(nonce); i++) {
                nonce[i] = (unsigned char)random();
            }
        }
        (void)WsBase64Encode(nonce, sizeof(nonce), key);
        WsAcceptKey(key, accept);
        Tcl_DStringAppend(&req, "GET ", -1);
        Tcl_DStringAppend(&req, Tcl_DStringValue(&path), -1);
        Tcl_DStringAppend(&req, " HTTP/1.1\r\nHost: ", -1);
        Tcl_DStringAppend(&req, Tcl_DStringValue(&authority), -1);
        Tcl_DStringAppend(&req, "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ", -1);
        Tcl_DStringAppend(&req, key, -1);
        Tcl_DStringAppend(&req, "\r\n", 2);
        if (protocols != NULL) {
            Tcl_DStringAppend(&req, "Sec-WebSocket-Protocol: ", -1);
            Tcl_DStringAppend(&req, protocols, -1);
            Tcl_DStringAppend(&req, "\r\n", 2);
        }
        for (size_t i = 0; headers != NULL && i < Ns_SetSize(headers); i++) {
            Tcl_DStringAppend(&req, Ns_SetKey(headers, i), -1);
            Tcl_DStringAppend(&req, ": ", 2);
            Tcl_DStringAppend(&req, Ns_SetValue(headers, i), -1);
            Tcl_DStringAppend(&req, "\r\n", 2);
        }
        Tcl_DStringAppend(&req, "\r\n", 2);
        if (ConnChanWrite(chanPtr, Tcl_DStringValue(&req), (size_t)Tcl_DStringLength(&req),
                          false, &written, &err) != TCL_OK
            || ReadResponseHead(chanPtr, &timeout, &head, &err) != TCL_OK) {
            ConnChanSetError(interp, &err);
            result = TCL_ERROR;
        } else if (strncmp(Tcl_DStringValue(&head), "HTTP/1.1 101 ", 13) != 0) {
            Tcl_SetObjResult(interp, Tcl_ObjPrintf("WebSocket handshake refused: %.*s",
                                                   (int)strcspn(Tcl_DStringValue(&head), "\r"),
                                                   Tcl_DStringValue(&head)));
            Tcl_SetErrorCode(interp, "NS", "WS", "HANDSHAKE", (char *)0);
            result = TCL_ERROR;
        } else if (HeaderValue(Tcl_DStringValue(&head), "Sec-WebSocket-Accept", &value) == NULL
                   || strcmp(Tcl_DStringValue(&value), accept) != 0) {
            Tcl_SetObjResult(interp, Tcl_NewStringObj("WebSocket handshake: wrong or missing"
                                                      " Sec-WebSocket-Accept", -1));
            Tcl_SetErrorCode(interp, "NS", "WS", "HANDSHAKE", (char *)0);
            result = TCL_ERROR;
        } else if (WsChannelCreate(chanPtr, false, NULL) == NULL) {
            Tcl_SetObjResult(interp, Tcl_NewStringObj("out of memory", -1));
            result = TCL_ERROR;
        } else {
            Tcl_SetObjResult(interp, Tcl_NewStringObj(chanPtr->name, -1));
        }
    }
    if (chanPtr != NULL) {
        if (result != TCL_OK) {
            ConnChanClose(chanPtr);
        }
        ConnChanRelease(chanPtr);
    }
    Tcl_DStringFree(&host);
    Tcl_DStringFree(&authority);
    Tcl_DStringFree(&path);
    Tcl_DStringFree(&req);
    Tcl_DStringFree(&head);
    Tcl_DStringFree(&value);
    return result;
}

/*
 *----------------------------------------------------------------------
 * WsClientSendObjCmd --
 *
 *      ws::client::send ?-binary? /channel/ /message/  -- one masked frame.
 *----------------------------------------------------------------------
 */
int
WsClientSendObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                   Tcl_Obj *const objv[])
{
    int          binary = 0;
    char        *name = NULL;
    Tcl_Obj     *msgObj = NULL;
    Ns_ObjvSpec  opts[] = {
        {"-binary", Ns_ObjvBool, &binary, INT2PTR(1)},
        {NULL, NULL, NULL, NULL}
    };
    Ns_ObjvSpec  args[] = {
        {"channel", Ns_ObjvString, &name,   NULL},
        {"message", Ns_ObjvObj,    &msgObj, NULL},
        {NULL, NULL, NULL, NULL}
    };
    ConnChan *chanPtr;
    int       result = TCL_OK;

    if (Ns_ParseObjv(opts, args, interp, 1, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else if ((chanPtr = WsGetChannel(interp, name, true)) == NULL) {
        result = TCL_ERROR;
    } else {
        Tcl_DString    ds;
        const uint8_t *data;
        int            len;
        Ns_SockError   err;

        Tcl_DStringInit(&ds);
        if (binary) {
            data = Tcl_GetByteArrayFromObj(msgObj, &len);
        } else {
            data = (const uint8_t *)Ns_Utf8FromObj(msgObj, &ds, &len);
        }
        if (WsSendFrame(chanPtr, binary ? WS_OP_BINARY : WS_OP_TEXT, data, (size_t)len, true,
                        0, &err) != TCL_OK) {
            ConnChanSetError(interp, &err);
            result = TCL_ERROR;
        }
        Tcl_DStringFree(&ds);
        ConnChanRelease(chanPtr);
    }
    return result;
}

/*
 *----------------------------------------------------------------------
 * PopMessage --
 *
 *      Take the oldest received message of a client channel.
 *----------------------------------------------------------------------
 */
static bool
PopMessage(WsChannel *wsPtr, Tcl_Obj **msgObjPtr)
{
    const char *buf = Tcl_DStringValue(wsPtr->pendingPtr);
    int         len = Tcl_DStringLength(wsPtr->pendingPtr);
    uint64_t    n;
    size_t      used;

    if (len < 9) {
        return false;
    }
    memcpy(&n, buf + 1, sizeof(n));
    if (buf[0] == WS_OP_TEXT && !wsPtr->binary) {
        *msgObjPtr = Ns_Utf8ToObj(buf + 9, (size_t)n);
    } else {
        *msgObjPtr = Tcl_NewByteArrayObj((const unsigned char *)buf + 9, (int)n);
    }
    used = 9 + (size_t)n;
    memmove(Tcl_DStringValue(wsPtr->pendingPtr), buf + used, (size_t)len - used);
    Tcl_DStringSetLength(wsPtr->pendingPtr, len - (int)used);
    return true;
}

/*
 *----------------------------------------------------------------------
 * WsClientReceiveObjCmd --
 *
 *      ws::client::receive ?-timeout /time/? /channel/  -- wait for the next
 *      whole message (text as a string, binary as bytes).
 *----------------------------------------------------------------------
 */
int
WsClientReceiveObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                      Tcl_Obj *const objv[])
{
    Ns_Time     *timeoutPtr = NULL;
    char        *name = NULL;
    Ns_ObjvSpec  opts[] = {
        {"-timeout", Ns_ObjvTime, &timeoutPtr, NULL},
        {NULL, NULL, NULL, NULL}
    };
    Ns_ObjvSpec  args[] = {
        {"channel", Ns_ObjvString, &name, NULL},
        {NULL, NULL, NULL, NULL}
    };
    ConnChan *chanPtr;
    int       result = TCL_OK;

    if (Ns_ParseObjv(opts, args, interp, 1, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else if ((chanPtr = WsGetChannel(interp, name, true)) == NULL) {
        result = TCL_ERROR;
    } else {
        WsChannel *wsPtr = chanPtr->wsPtr;
        Tcl_Obj   *msgObj = NULL;
        Ns_Time    timeout = {5, 0};

        if (timeoutPtr != NULL) {
            timeout = *timeoutPtr;
        }
        while (!PopMessage(wsPtr, &msgObj)) {
            if (chanPtr->closed || WsParserClosed(wsPtr->parserPtr)) {
                Tcl_SetObjResult(interp, Tcl_ObjPrintf("WebSocket \"%s\" is closed", name));
                Tcl_SetErrorCode(interp, "NS", "WS", "CLOSED", name, (char *)0);
                /* Every message from before the close is out: the channel goes now. */
                ConnChanCloseWhenDrained(chanPtr);
                result = TCL_ERROR;
                break;
            }
            pthread_mutex_lock(&chanPtr->lock);
            chanPtr->recvTimeout = timeout;
            pthread_mutex_unlock(&chanPtr->lock);
            if (!WsClientReadOnce(chanPtr, interp)) {
                result = TCL_ERROR;
                break;
            }
        }
        if (msgObj != NULL) {
            Tcl_SetObjResult(interp, msgObj);
        }
        ConnChanRelease(chanPtr);
    }
    return result;
}

/*
 *----------------------------------------------------------------------
 * WsClientCloseObjCmd --
 *
 *      ws::client::close /channel/  -- send a 1000 close frame and close.
 *----------------------------------------------------------------------
 */
int
WsClientCloseObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                    Tcl_Obj *const objv[])
{
    char        *name = NULL;
    Ns_ObjvSpec  args[] = {
        {"channel", Ns_ObjvString, &name, NULL},
        {NULL, NULL, NULL, NULL}
    };
    ConnChan *chanPtr;
    int       result = TCL_OK;

    if (Ns_ParseObjv(NULL, args, interp, 1, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else if ((chanPtr = WsGetChannel(interp, name, true)) == NULL) {
        result = TCL_ERROR;
    } else {
        uint8_t      payload[2] = {0x03, 0xe8};   /* 1000, normal closure */
        Ns_SockError err;

        (void)WsSendFrame(chanPtr, WS_OP_CLOSE, payload, sizeof(payload), true,
                          CHAN_WRITE_LAST, &err);
        ConnChanClose(chanPtr);
        ConnChanRelease(chanPtr);
    }
    return result;
}
