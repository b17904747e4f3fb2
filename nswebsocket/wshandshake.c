/*
 * wshandshake.c --
 *
 *      The server side of the WebSocket opening handshake (RFC 6455 §4.2):
 *      check the upgrade request, pick a subprotocol, check the Origin, and
 *      send the 101 response in one write, or answer 400, 403 or 426.
 */

#include "websocket.h"
#include "wsdigest.h"

#include <ctype.h>

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

/*
 *----------------------------------------------------------------------
 * HasToken --
 *
 *      Does a comma-separated header value contain token (any case)?
 *----------------------------------------------------------------------
 */
static bool
HasToken(const char *value, const char *token)
{
    size_t tokenLen = strlen(token);

    while (value != NULL && *value != '\0') {
        const char *end;
        size_t      len;

        while (*value == ' ' || *value == '\t' || *value == ',') {
            value++;
        }
        end = value;
        while (*end != '\0' && *end != ',') {
            end++;
        }
        len = (size_t)(end - value);
        while (len > 0 && (value[len - 1] == ' ' || value[len - 1] == '\t')) {
            len--;
        }
        if (len == tokenLen && strncasecmp(value, token, len) == 0) {
            return true;
        }
        value = end;
    }
    return false;
}

/*
 *----------------------------------------------------------------------
 * WsAcceptKey --
 *
 *      Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64(SHA-1(key +
 *      GUID)).  out must hold 29 bytes.
 *----------------------------------------------------------------------
 */
void
WsAcceptKey(const char *key, char out[29])
{
    unsigned char digest[WS_SHA1_LENGTH];
    Tcl_DString   ds;

    Tcl_DStringInit(&ds);
    Tcl_DStringAppend(&ds, key, -1);
    Tcl_DStringAppend(&ds, WS_GUID, -1);
    WsSha1((const uint8_t *)Tcl_DStringValue(&ds), (size_t)Tcl_DStringLength(&ds), digest);
    Tcl_DStringFree(&ds);
    (void)WsBase64Encode(digest, WS_SHA1_LENGTH, out);
}

/*
 *----------------------------------------------------------------------
 * KeyIsValid --
 *
 *      A Sec-WebSocket-Key must be base64 of exactly 16 bytes: 24
 *      characters ending in "==".
 *----------------------------------------------------------------------
 */
static bool
KeyIsValid(const char *key)
{
    /*
     * 22 base64 digits and "==" are 16 bytes; nothing needs decoding.  (As
     * before, when the key went through EVP_DecodeBlock, the bits of the
     * last digit that fall outside the 16 bytes are not checked.)
     */
    if (key == NULL || strlen(key) != 24 || key[22] != '=' || key[23] != '=') {
        return false;
    }
    for (int i = 0; i < 22; i++) {
        if (!isalnum((unsigned char)key[i]) && key[i] != '+' && key[i] != '/') {
            return false;
        }
    }
    return true;
}

/*
 *----------------------------------------------------------------------
 * ChooseProtocol --
 *
 *      The first subprotocol of the client's list (in its order of
 *      preference) that the server accepts, or NULL.
 *----------------------------------------------------------------------
 */
static const char *
ChooseProtocol(const char *offered, Tcl_Obj *acceptedObj, Tcl_DString *dsPtr)
{
    Tcl_Obj **accepted;
    int       n;

    if (offered == NULL || acceptedObj == NULL
        || Tcl_ListObjGetElements(NULL, acceptedObj, &n, &accepted) != TCL_OK) {
        return NULL;
    }
    while (*offered != '\0') {
        const char *end;

        while (*offered == ' ' || *offered == '\t' || *offered == ',') {
            offered++;
        }
        end = offered;
        while (*end != '\0' && *end != ',' && *end != ' ' && *end != '\t') {
            end++;
        }
        for (int i = 0; i < n && end > offered; i++) {
            int         len;
            const char *name = Tcl_GetStringFromObj(accepted[i], &len);

            if ((size_t)len == (size_t)(end - offered)
                && strncmp(name, offered, (size_t)len) == 0) {
                Tcl_DStringAppend(dsPtr, name, len);
                return Tcl_DStringValue(dsPtr);
            }
        }
        offered = end;
    }
    return NULL;
}

/*
 *----------------------------------------------------------------------
 * OriginAllowed --
 *
 *      With an allow-list (glob patterns), the request's Origin must match
 *      one; without one, any origin (or none) is fine.
 *----------------------------------------------------------------------
 */
static bool
OriginAllowed(const char *origin, Tcl_Obj *allowedObj)
{
    Tcl_Obj **allowed;
    int       n;

    if (allowedObj == NULL || Tcl_ListObjGetElements(NULL, allowedObj, &n, &allowed) != TCL_OK
        || n == 0) {
        return true;
    }
    for (int i = 0; i < n && origin != NULL; i++) {
        if (Tcl_StringCaseMatch(origin, Tcl_GetString(allowed[i]), 1)) {
            return true;
        }
    }
    return false;
}

/*
 *----------------------------------------------------------------------
 * Refuse --
 *
 *      Answer a request that cannot be upgraded.
 *----------------------------------------------------------------------
 */
static void
Refuse(Ns_Conn *conn, int status, const char *reason)
{
    Tcl_DString ds;

    if (status == 426) {
        Ns_SetUpdate(Ns_ConnOutputHeaders(conn), "Sec-WebSocket-Version", "13");
    }
    Tcl_DStringInit(&ds);
    Tcl_DStringAppend(&ds, reason, -1);
    Tcl_DStringAppend(&ds, "\n", 1);
    (void)Ns_ConnReturnData(conn, status, Tcl_DStringValue(&ds), Tcl_DStringLength(&ds),
                            "text/plain");
    Tcl_DStringFree(&ds);
    Ns_Log(Notice, "ws::handshake: %d for %s %s: %s", status, Ns_ConnPeerAddr(conn),
           Ns_ConnUrl(conn), reason);
}

/*
 *----------------------------------------------------------------------
 * WsHandshake --
 *
 *      Check the connection's request and, when it is a valid upgrade,
 *      send the 101 response (one write) and detach the socket.
 *
 * Results:
 *      The detached socket (the caller owns it), with the chosen
 *      subprotocol in protocolDsPtr and bytes read beyond the request in
 *      *leftoverPtr; or NULL after answering 400, 403 or 426.
 *----------------------------------------------------------------------
 */
Ns_Sock *
WsHandshake(Ns_Conn *conn, const WsHandshakeSpec *specPtr, Tcl_DString *protocolDsPtr,
            char **leftoverPtr, size_t *leftoverLenPtr)
{
    const Ns_Set *headers = Ns_ConnHeaders(conn);
    const char   *key = Ns_SetIGet(headers, "sec-websocket-key");
    const char   *version = Ns_SetIGet(headers, "sec-websocket-version");
    const char   *protocol;
    char          accept[29];
    Tcl_DString   response;
    struct iovec  iov;
    Ns_Sock      *sockPtr;

    if (strcmp(Ns_ConnMethod(conn), "GET") != 0
        || !HasToken(Ns_SetIGet(headers, "upgrade"), "websocket")
        || !HasToken(Ns_SetIGet(headers, "connection"), "upgrade")) {
        Refuse(conn, 400, "not a WebSocket upgrade request");
        return NULL;
    }
    if (version == NULL || strcmp(version, "13") != 0) {
        Refuse(conn, 426, "unsupported WebSocket version: only 13 is supported");
        return NULL;
    }
    if (!KeyIsValid(key)) {
        Refuse(conn, 400, "invalid Sec-WebSocket-Key");
        return NULL;
    }
    if (!OriginAllowed(Ns_SetIGet(headers, "origin"), specPtr->originsObj)) {
        Refuse(conn, 403, "origin not allowed");
        return NULL;
    }

    WsAcceptKey(key, accept);
    protocol = ChooseProtocol(Ns_SetIGet(headers, "sec-websocket-protocol"),
                              specPtr->protocolsObj, protocolDsPtr);
    Tcl_DStringInit(&response);
    Tcl_DStringAppend(&response, "HTTP/1.1 101 Switching Protocols\r\n"
                      "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ", -1);
    Tcl_DStringAppend(&response, accept, 28);
    Tcl_DStringAppend(&response, "\r\n", 2);
    if (protocol != NULL) {
        Tcl_DStringAppend(&response, "Sec-WebSocket-Protocol: ", -1);
        Tcl_DStringAppend(&response, protocol, -1);
        Tcl_DStringAppend(&response, "\r\n", 2);
    }
    for (size_t i = 0; specPtr->headers != NULL && i < Ns_SetSize(specPtr->headers); i++) {
        Tcl_DStringAppend(&response, Ns_SetKey(specPtr->headers, i), -1);
        Tcl_DStringAppend(&response, ": ", 2);
        Tcl_DStringAppend(&response, Ns_SetValue(specPtr->headers, i), -1);
        Tcl_DStringAppend(&response, "\r\n", 2);
    }
    Tcl_DStringAppend(&response, "\r\n", 2);

    /* One write, before the socket leaves the connection thread. */
    iov.iov_base = Tcl_DStringValue(&response);
    iov.iov_len = (size_t)Tcl_DStringLength(&response);
    sockPtr = Ns_ConnSock(conn);
    if (sockPtr == NULL || Ns_SockSendAll(sockPtr, &iov, 1, NULL) != NS_OK) {
        Tcl_DStringFree(&response);
        return NULL;
    }
    Tcl_DStringFree(&response);
    Ns_ConnSetStatus(conn, 101);
    return Ns_ConnDetachSock(conn, leftoverPtr, leftoverLenPtr);
}
