/*
 * tclconn.c --
 *
 *      ns_conn: what a Tcl page or request proc can ask about the request
 *      it serves, with NaviServer's subcommands, results and messages.
 */

#include "nsd.h"

/*
 *----------------------------------------------------------------------
 * NsTclGetConn --
 *
 *      The interp's current connection, or an error "no connection".
 *----------------------------------------------------------------------
 */
Conn *
NsTclGetConn(ClientData clientData, Tcl_Interp *interp)
{
    const NsInterp *itPtr = clientData;
    Conn           *connPtr = (itPtr != NULL) ? itPtr->connPtr : NULL;

    if (connPtr == NULL) {
        Tcl_SetObjResult(interp, Tcl_NewStringObj("no connection", -1));
        Tcl_SetErrorCode(interp, "NS", "NOCONN", (char *)0);
    }
    return connPtr;
}

/*
 *----------------------------------------------------------------------
 * NsTclConnSock --
 *
 *      Like NsTclGetConn, and the connection must still have its socket
 *      (not detached by ns_connchan detach or ws::handshake).
 *----------------------------------------------------------------------
 */
Conn *
NsTclConnSock(ClientData clientData, Tcl_Interp *interp)
{
    Conn *connPtr = NsTclGetConn(clientData, interp);

    if (connPtr != NULL && connPtr->sockPtr == NULL) {
        Tcl_SetObjResult(interp, Tcl_NewStringObj(connPtr->detached
                                                  ? "connection socket is detached"
                                                  : "connection already closed", -1));
        Tcl_SetErrorCode(interp, "NS", "CONN", "DETACHED", (char *)0);
        connPtr = NULL;
    }
    return connPtr;
}

/*
 *----------------------------------------------------------------------
 * EnterConnSet --
 *
 *      Give a set of the connection a handle in the interp, once per
 *      request (the handle is dropped by the cleanup after the request).
 *----------------------------------------------------------------------
 */
static int
EnterConnSet(Tcl_Interp *interp, Ns_Set *set, char *idBuf, size_t idSize)
{
    int result = TCL_OK;

    if (idBuf[0] == '\0') {
        result = Ns_TclEnterSet(interp, set, NS_TCL_SET_STATIC);
        if (result == TCL_OK) {
            snprintf(idBuf, idSize, "%s", Tcl_GetStringResult(interp));
        }
    } else {
        Tcl_SetObjResult(interp, Tcl_NewStringObj(idBuf, -1));
    }
    return result;
}

/*
 *----------------------------------------------------------------------
 * HostPart --
 *
 *      The host of the Host header, without port and brackets.
 *----------------------------------------------------------------------
 */
static Tcl_Obj *
HostPart(const Conn *connPtr)
{
    const char *host = Ns_SetIGet(connPtr->headers, "host");
    const char *end;

    if (host == NULL) {
        return Tcl_NewObj();
    }
    if (host[0] == '[') {
        end = strchr(host, ']');
        return (end != NULL) ? Tcl_NewStringObj(host + 1, (int)(end - host - 1))
                             : Tcl_NewStringObj(host, -1);
    }
    end = strchr(host, ':');
    return Tcl_NewStringObj(host, end != NULL ? (int)(end - host) : -1);
}

/*
 *----------------------------------------------------------------------
 * BasicAuth --
 *
 *      Decode "Authorization: Basic ..." into user (which = 0) or
 *      password (which = 1); empty when absent or malformed.
 *----------------------------------------------------------------------
 */
static Tcl_Obj *
BasicAuth(const Conn *connPtr, int which)
{
    const char   *auth = Ns_SetIGet(connPtr->headers, "authorization");
    Tcl_Obj      *resultObj = Tcl_NewObj();
    unsigned char decoded[512];
    size_t        n = 0;
    unsigned int  bits = 0;
    int           nbits = 0;

    if (auth == NULL || strncasecmp(auth, "Basic ", 6) != 0) {
        return resultObj;
    }
    for (const char *p = auth + 6; *p != '\0' && *p != '=' && n < sizeof(decoded); p++) {
        static const char alphabet[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        const char *pos = strchr(alphabet, *p);

        if (*p == ' ') {
            continue;
        }
        if (pos == NULL || *p == '\0') {
            return resultObj;
        }
        bits = (bits << 6) | (unsigned int)(pos - alphabet);
        nbits += 6;
        if (nbits >= 8) {
            nbits -= 8;
            decoded[n++] = (unsigned char)((bits >> nbits) & 0xff);
        }
    }
    {
        const unsigned char *colon = memchr(decoded, ':', n);

        if (colon != NULL) {
            size_t userLen = (size_t)(colon - decoded);

            if (which == 0) {
                Tcl_SetStringObj(resultObj, (const char *)decoded, (int)userLen);
            } else {
                Tcl_SetStringObj(resultObj, (const char *)colon + 1, (int)(n - userLen - 1));
            }
        }
    }
    return resultObj;
}

/*
 *----------------------------------------------------------------------
 * ConnClose --
 *
 *      ns_conn close: finish the response (an empty 204 when nothing was
 *      sent, the last chunk of a chunked one) and close the socket now,
 *      so that the client sees the end at once and later writes fail with
 *      "connection already closed".
 *----------------------------------------------------------------------
 */
static void
ConnClose(Conn *connPtr)
{
    Sock *sockPtr = connPtr->sockPtr;

    if (!connPtr->headersSent) {
        (void)Ns_ConnReturnStatus(connPtr, 204);
    } else if (connPtr->chunked && !connPtr->responded) {
        static const char last[] = "0\r\n\r\n";
        struct iovec      iov = {(void *)last, sizeof(last) - 1};

        if (Ns_SockSendAll(&sockPtr->base, &iov, 1, NULL) == NS_OK) {
            connPtr->responded = true;
        }
    }
    /* The body lives in the sock's buffer: keep a copy for ns_conn content. */
    connPtr->contentCopy = ckalloc(connPtr->contentLength + 1);
    memcpy(connPtr->contentCopy, connPtr->content, connPtr->contentLength);
    connPtr->contentCopy[connPtr->contentLength] = '\0';
    connPtr->content = connPtr->contentCopy;
    connPtr->sockPtr = NULL;
    connPtr->keepAlive = false;
    NsSockRelease(sockPtr);
}

/*
 *----------------------------------------------------------------------
 * NsTclConnObjCmd --
 *
 *      ns_conn /subcommand/ ?/arg .../?
 *----------------------------------------------------------------------
 */
int
NsTclConnObjCmd(ClientData clientData, Tcl_Interp *interp, int objc, Tcl_Obj *const objv[])
{
    static const char *const subcmds[] = {
        "authpassword", "authuser", "clientdata", "close", "content", "contentlength",
        "driver", "form", "headers", "host", "id", "isconnected", "keepalive", "location",
        "method", "outputheaders", "peeraddr", "peerport", "port", "protocol", "proto",
        "query", "request", "server", "start", "status", "url", "urlc", "urlv", "version",
        NULL
    };
    enum {
        CAuthPassword, CAuthUser, CClientData, CClose, CContent, CContentLength,
        CDriver, CForm, CHeaders, CHost, CId, CIsConnected, CKeepAlive, CLocation,
        CMethod, COutputHeaders, CPeerAddr, CPeerPort, CPort, CProtocol, CProto,
        CQuery, CRequest, CServer, CStart, CStatus, CUrl, CUrlc, CUrlv, CVersion
    };
    int   opt, result = TCL_OK;
    Conn *connPtr;

    if (objc < 2) {
        Tcl_WrongNumArgs(interp, 1, objv, "/subcommand/ ?/arg .../?");
        return TCL_ERROR;
    }
    if (Tcl_GetIndexFromObjStruct(interp, objv[1], subcmds, sizeof(char *), "subcommand",
                                  TCL_EXACT, &opt) != TCL_OK) {
        return TCL_ERROR;
    }
    if (opt == CIsConnected) {
        const NsInterp *itPtr = clientData;

        connPtr = (itPtr != NULL) ? itPtr->connPtr : NULL;
        Tcl_SetObjResult(interp, Tcl_NewBooleanObj(connPtr != NULL
                                                   && connPtr->sockPtr != NULL));
        return TCL_OK;
    }
    connPtr = NsTclGetConn(clientData, interp);
    if (connPtr == NULL) {
        return TCL_ERROR;
    }

    switch (opt) {
    case CAuthUser:
        Tcl_SetObjResult(interp, BasicAuth(connPtr, 0));
        break;
    case CAuthPassword:
        Tcl_SetObjResult(interp, BasicAuth(connPtr, 1));
        break;
    case CClientData:
        if (objc == 3) {
            ckfree(connPtr->clientData);
            connPtr->clientData = ns_strdup(Tcl_GetString(objv[2]));
        } else if (objc != 2) {
            Tcl_WrongNumArgs(interp, 2, objv, "?/value/?");
            result = TCL_ERROR;
            break;
        }
        Tcl_SetObjResult(interp, Tcl_NewStringObj(connPtr->clientData != NULL
                                                  ? connPtr->clientData : "", -1));
        break;
    case CClose:
        if (NsTclConnSock(clientData, interp) == NULL) {
            result = TCL_ERROR;
        } else {
            ConnClose(connPtr);
        }
        break;
    case CContent: {
        int binary = 0, offset = 0, length = -1;
        Ns_ObjvSpec opts[] = {
            {"-binary", Ns_ObjvBool, &binary, INT2PTR(1)},
            {"--",      Ns_ObjvBreak, NULL,   NULL},
            {NULL, NULL, NULL, NULL}
        };
        Ns_ObjvSpec args[] = {
            {"?offset", Ns_ObjvInt, &offset, NULL},
            {"?length", Ns_ObjvInt, &length, NULL},
            {NULL, NULL, NULL, NULL}
        };

        if (Ns_ParseObjv(opts, args, interp, 2, objc, objv) != NS_OK) {
            result = TCL_ERROR;
        } else if (offset < 0 || (size_t)offset > connPtr->contentLength) {
            Ns_TclPrintfResult(interp, "invalid offset %d", offset);
            result = TCL_ERROR;
        } else {
            size_t avail = connPtr->contentLength - (size_t)offset;
            size_t len = (length < 0 || (size_t)length > avail) ? avail : (size_t)length;

            if (binary) {
                Tcl_SetObjResult(interp, Tcl_NewByteArrayObj(
                                     (const unsigned char *)connPtr->content + offset,
                                     (int)len));
            } else {
                Tcl_Encoding utf8 = Tcl_GetEncoding(NULL, "utf-8");
                Tcl_DString  ds;

                /* Each Tcl_GetEncoding takes a reference: give it back. */
                Tcl_ExternalToUtfDString(utf8, connPtr->content + offset, (int)len, &ds);
                Tcl_FreeEncoding(utf8);
                Tcl_DStringResult(interp, &ds);
            }
        }
        break;
    }
    case CContentLength:
        Tcl_SetObjResult(interp, Tcl_NewWideIntObj((Tcl_WideInt)connPtr->contentLength));
        break;
    case CDriver:
        Tcl_SetObjResult(interp, Tcl_NewStringObj(connPtr->driver->moduleName, -1));
        break;
    case CForm:
        result = EnterConnSet(interp, NsConnGetQuery(connPtr), connPtr->formId,
                              sizeof(connPtr->formId));
        break;
    case CHeaders:
        result = EnterConnSet(interp, connPtr->headers, connPtr->headersId,
                              sizeof(connPtr->headersId));
        break;
    case COutputHeaders:
        result = EnterConnSet(interp, connPtr->outputheaders, connPtr->outputheadersId,
                              sizeof(connPtr->outputheadersId));
        break;
    case CHost:
        Tcl_SetObjResult(interp, HostPart(connPtr));
        break;
    case CId:
        Tcl_SetObjResult(interp, Tcl_NewWideIntObj((Tcl_WideInt)connPtr->id));
        break;
    case CKeepAlive:
        if (objc == 3) {
            int b;

            if (Tcl_GetBooleanFromObj(interp, objv[2], &b) != TCL_OK) {
                result = TCL_ERROR;
                break;
            }
            connPtr->keepAlive = connPtr->keepAlive && b;
        }
        Tcl_SetObjResult(interp, Tcl_NewBooleanObj(connPtr->keepAlive));
        break;
    case CLocation: {
        Tcl_DString ds;

        Tcl_DStringInit(&ds);
        NsConnLocation(connPtr, &ds);
        Tcl_DStringResult(interp, &ds);
        break;
    }
    case CMethod:
        Tcl_SetObjResult(interp, Tcl_NewStringObj(connPtr->method, -1));
        break;
    case CPeerAddr:
        Tcl_SetObjResult(interp, Tcl_NewStringObj(connPtr->peer, -1));
        break;
    case CPeerPort:
        Tcl_SetObjResult(interp, Tcl_NewIntObj(connPtr->peerPort));
        break;
    case CPort:
        Tcl_SetObjResult(interp, Tcl_NewIntObj(connPtr->driver->boundPort));
        break;
    case CProtocol:
    case CProto:
        Tcl_SetObjResult(interp, Tcl_NewStringObj(connPtr->driver->procs->protocol, -1));
        break;
    case CQuery:
        Tcl_SetObjResult(interp, Tcl_NewStringObj(connPtr->query != NULL
                                                  ? connPtr->query : "", -1));
        break;
    case CRequest:
        Tcl_SetObjResult(interp, Tcl_NewStringObj(connPtr->requestLine, -1));
        break;
    case CServer:
        Tcl_SetObjResult(interp, Tcl_NewStringObj(connPtr->servPtr->name, -1));
        break;
    case CStart: {
        Tcl_DString ds;

        Tcl_DStringInit(&ds);
        Ns_TimeToString(&connPtr->start, &ds);
        Tcl_DStringResult(interp, &ds);
        break;
    }
    case CStatus:
        if (objc == 3) {
            int status;

            if (Tcl_GetIntFromObj(interp, objv[2], &status) != TCL_OK) {
                result = TCL_ERROR;
                break;
            }
            Tcl_SetObjResult(interp, Tcl_NewIntObj(connPtr->status));
            connPtr->status = status;
        } else {
            Tcl_SetObjResult(interp, Tcl_NewIntObj(connPtr->status));
        }
        break;
    case CUrl:
        Tcl_SetObjResult(interp, Tcl_NewStringObj(connPtr->url, -1));
        break;
    case CUrlv:
    case CUrlc: {
        Tcl_Obj    *listObj = Tcl_NewListObj(0, NULL);
        const char *p = connPtr->url;
        int         n;

        while (*p == '/') {
            p++;
        }
        while (*p != '\0') {
            const char *slash = strchr(p, '/');
            size_t      len = (slash != NULL) ? (size_t)(slash - p) : strlen(p);

            Tcl_ListObjAppendElement(NULL, listObj, Tcl_NewStringObj(p, (int)len));
            p += len;
            while (*p == '/') {
                p++;
            }
        }
        if (opt == CUrlc) {
            Tcl_ListObjLength(NULL, listObj, &n);
            Tcl_DecrRefCount(listObj);
            Tcl_SetObjResult(interp, Tcl_NewIntObj(n));
        } else {
            Tcl_SetObjResult(interp, listObj);
        }
        break;
    }
    case CVersion:
        Tcl_SetObjResult(interp, Tcl_NewStringObj(connPtr->versionMinor == 0 ? "1.0" : "1.1",
                                                  -1));
        break;
    default:
        break;
    }
    return result;
}
