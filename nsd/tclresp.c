/*
 * tclresp.c --
 *
 *      The Tcl commands that answer a request (ns_return and friends,
 *      ns_write streaming, ns_headers) and read its form (ns_queryget,
 *      ns_getform).  All fail with "connection socket is detached" once
 *      the application took the socket.
 */

#include "nsd.h"

/*
 *----------------------------------------------------------------------
 * ToBytes --
 *
 *      The bytes to send for a Tcl value: the byte array itself with
 *      -binary (or for a pure byte array), else its UTF-8 encoding.
 *----------------------------------------------------------------------
 */
static const char *
ToBytes(Tcl_Obj *dataObj, bool binary, Tcl_DString *dsPtr, int *lenPtr)
{
    if (binary) {
        return (const char *)Tcl_GetByteArrayFromObj(dataObj, lenPtr);
    }
    return Ns_Utf8FromObj(dataObj, dsPtr, lenPtr);
}

/*
 *----------------------------------------------------------------------
 * ReturnResult --
 *
 *      Common tail of the ns_return family: a failed send is an error the
 *      page can see (NaviServer returns it as such).
 *----------------------------------------------------------------------
 */
static int
ReturnResult(Tcl_Interp *interp, Ns_ReturnCode status)
{
    if (status != NS_OK) {
        Tcl_SetObjResult(interp, Tcl_NewStringObj("could not send response", -1));
        Tcl_SetErrorCode(interp, "NS", "CONN", "SEND", (char *)0);
        return TCL_ERROR;
    }
    return TCL_OK;
}

/*
 *----------------------------------------------------------------------
 * NsTclReturnObjCmd --
 *
 *      ns_return ?-binary? ?--? /status/ /mimetype/ /data/
 *----------------------------------------------------------------------
 */
int
NsTclReturnObjCmd(ClientData clientData, Tcl_Interp *interp, int objc, Tcl_Obj *const objv[])
{
    int          binary = 0, status = 0;
    char        *mimeType = NULL;
    Tcl_Obj     *dataObj = NULL;
    Ns_ObjvSpec  opts[] = {
        {"-binary", Ns_ObjvBool,  &binary, INT2PTR(1)},
        {"--",      Ns_ObjvBreak, NULL,    NULL},
        {NULL, NULL, NULL, NULL}
    };
    Ns_ObjvSpec  args[] = {
        {"status",   Ns_ObjvInt,    &status,   NULL},
        {"mimetype", Ns_ObjvString, &mimeType, NULL},
        {"data",     Ns_ObjvObj,    &dataObj,  NULL},
        {NULL, NULL, NULL, NULL}
    };
    Conn *connPtr;
    int   result;

    if (Ns_ParseObjv(opts, args, interp, 1, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else if ((connPtr = NsTclConnSock(clientData, interp)) == NULL) {
        result = TCL_ERROR;
    } else {
        Tcl_DString ds;
        int         len;
        const char *data;

        Tcl_DStringInit(&ds);
        data = ToBytes(dataObj, binary != 0, &ds, &len);
        result = ReturnResult(interp, Ns_ConnReturnData(connPtr, status, data, len, mimeType));
        Tcl_DStringFree(&ds);
    }
    return result;
}

/*
 *----------------------------------------------------------------------
 * NsTclRespondObjCmd --
 *
 *      ns_respond ?-status /integer/? ?-type /value/? ?-length /integer/?
 *                 ?-headers /setId/? ?-string /value/? ?-binary /value/?
 *                 ?-file /value/?
 *----------------------------------------------------------------------
 */
int
NsTclRespondObjCmd(ClientData clientData, Tcl_Interp *interp, int objc,
                   Tcl_Obj *const objv[])
{
    int          status = 200, length = -1;
    char        *type = NULL, *file = NULL;
    Tcl_Obj     *stringObj = NULL, *binaryObj = NULL;
    Ns_Set      *headers = NULL;
    Ns_ObjvSpec  opts[] = {
        {"-status",  Ns_ObjvInt,    &status,    NULL},
        {"-type",    Ns_ObjvString, &type,      NULL},
        {"-length",  Ns_ObjvInt,    &length,    NULL},
        {"-headers", Ns_ObjvSet,    &headers,   NULL},
        {"-string",  Ns_ObjvObj,    &stringObj, NULL},
        {"-binary",  Ns_ObjvObj,    &binaryObj, NULL},
        {"-file",    Ns_ObjvString, &file,      NULL},
        {NULL, NULL, NULL, NULL}
    };
    Conn *connPtr;
    int   result;

    if (Ns_ParseObjv(opts, NULL, interp, 1, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else if ((stringObj != NULL) + (binaryObj != NULL) + (file != NULL) > 1) {
        Tcl_SetObjResult(interp, Tcl_NewStringObj(
                             "must specify only one of -string, -file or -binary", -1));
        result = TCL_ERROR;
    } else if ((connPtr = NsTclConnSock(clientData, interp)) == NULL) {
        result = TCL_ERROR;
    } else {
        if (headers != NULL) {
            for (size_t i = 0; i < Ns_SetSize(headers); i++) {
                Ns_SetPut(connPtr->outputheaders, Ns_SetKey(headers, i),
                          Ns_SetValue(headers, i));
            }
        }
        if (file != NULL) {
            result = ReturnResult(interp, NsConnReturnFile(connPtr, status, type, file));
        } else {
            Tcl_Obj    *dataObj = (binaryObj != NULL) ? binaryObj : stringObj;
            Tcl_DString ds;
            int         len = 0;
            const char *data = "";

            Tcl_DStringInit(&ds);
            if (dataObj != NULL) {
                data = ToBytes(dataObj, binaryObj != NULL, &ds, &len);
            }
            if (length >= 0 && length < len) {
                len = length;
            }
            result = ReturnResult(interp, Ns_ConnReturnData(connPtr, status, data, len, type));
            Tcl_DStringFree(&ds);
        }
    }
    return result;
}

/*
 *----------------------------------------------------------------------
 * NsTclHeadersObjCmd --
 *
 *      ns_headers ?-binary? ?--? /status/ ?/mimetype/? ?/length/?  -- send
 *      the status line and headers now; the body follows with ns_write
 *      (chunked for HTTP/1.1 when no length is given).
 *----------------------------------------------------------------------
 */
int
NsTclHeadersObjCmd(ClientData clientData, Tcl_Interp *interp, int objc,
                   Tcl_Obj *const objv[])
{
    int          binary = 0, status = 0;
    Tcl_WideInt  length = -1;
    char        *mimeType = NULL;
    Ns_ObjvSpec  opts[] = {
        {"-binary", Ns_ObjvBool,  &binary, INT2PTR(1)},
        {"--",      Ns_ObjvBreak, NULL,    NULL},
        {NULL, NULL, NULL, NULL}
    };
    Ns_ObjvSpec  args[] = {
        {"status",    Ns_ObjvInt,     &status,   NULL},
        {"?mimetype", Ns_ObjvString,  &mimeType, NULL},
        {"?length",   Ns_ObjvWideInt, &length,   NULL},
        {NULL, NULL, NULL, NULL}
    };
    Conn *connPtr;
    int   result;

    if (Ns_ParseObjv(opts, args, interp, 1, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else if ((connPtr = NsTclConnSock(clientData, interp)) == NULL) {
        result = TCL_ERROR;
    } else if (connPtr->headersSent) {
        Tcl_SetObjResult(interp, Tcl_NewStringObj("headers already sent", -1));
        result = TCL_ERROR;
    } else {
        result = ReturnResult(interp, NsConnWriteHeaders(connPtr, status, mimeType, length));
        if (result == TCL_OK && strcmp(connPtr->method, "HEAD") == 0) {
            connPtr->responded = true;
        }
    }
    return result;
}

/*
 *----------------------------------------------------------------------
 * NsTclWriteObjCmd --
 *
 *      ns_write /data/ ?/data .../?  -- stream body data; the first call
 *      sends "200 OK" headers when ns_headers did not.  Byte arrays are
 *      sent as they are, strings as UTF-8.
 *
 * Results:
 *      1 when the data went out, as NaviServer returns.
 *----------------------------------------------------------------------
 */
int
NsTclWriteObjCmd(ClientData clientData, Tcl_Interp *interp, int objc, Tcl_Obj *const objv[])
{
    int          remain = 0;
    Tcl_Obj     *firstObj = NULL;
    Ns_ObjvSpec  args[] = {
        {"data",  Ns_ObjvObj,  &firstObj, NULL},
        {"?data", Ns_ObjvArgs, &remain,   NULL},
        {NULL, NULL, NULL, NULL}
    };
    Conn *connPtr;
    int   result = TCL_OK;

    if (Ns_ParseObjv(NULL, args, interp, 1, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else if ((connPtr = NsTclConnSock(clientData, interp)) == NULL) {
        result = TCL_ERROR;
    } else {
        int          n = objc - 1;
        struct iovec iov[n];
        Tcl_DString  ds[n];

        for (int i = 0; i < n; i++) {
            Tcl_Obj *dataObj = objv[i + 1];
            int      len;
            bool     binary = (dataObj->typePtr == Tcl_GetObjType("bytearray"));

            Tcl_DStringInit(&ds[i]);
            iov[i].iov_base = (void *)ToBytes(dataObj, binary, &ds[i], &len);
            iov[i].iov_len = (size_t)len;
        }
        if (!connPtr->headersSent
            && NsConnWriteHeaders(connPtr, 200, "text/html; charset=utf-8", -1) != NS_OK) {
            result = ReturnResult(interp, NS_ERROR);
        } else if (strcmp(connPtr->method, "HEAD") == 0) {
            /*
             * A HEAD response has no body, not even the last chunk of a
             * chunked one: it is complete once its headers are out.
             */
            connPtr->responded = true;
        } else {
            result = ReturnResult(interp, Ns_ConnWriteVData(connPtr, iov, n));
        }
        if (result == TCL_OK) {
            Tcl_SetObjResult(interp, Tcl_NewBooleanObj(1));
        }
        for (int i = 0; i < n; i++) {
            Tcl_DStringFree(&ds[i]);
        }
    }
    return result;
}

/*
 *----------------------------------------------------------------------
 * Canned responses.
 *----------------------------------------------------------------------
 */

static int
ReturnNotice(ClientData clientData, Tcl_Interp *interp, int objc, Tcl_Obj *const objv[],
             int status, const char *title, const char *notice)
{
    Conn *connPtr;
    int   result;

    if (Ns_ParseObjv(NULL, NULL, interp, 1, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else if ((connPtr = NsTclConnSock(clientData, interp)) == NULL) {
        result = TCL_ERROR;
    } else {
        if (status == 401 && Ns_SetIFind(connPtr->outputheaders, "www-authenticate") < 0) {
            Tcl_DString ds;

            Tcl_DStringInit(&ds);
            Tcl_DStringAppend(&ds, "Basic realm=\"", -1);
            Tcl_DStringAppend(&ds, connPtr->servPtr->name, -1);
            Tcl_DStringAppend(&ds, "\"", 1);
            Ns_SetPut(connPtr->outputheaders, "WWW-Authenticate", Tcl_DStringValue(&ds));
            Tcl_DStringFree(&ds);
        }
        result = ReturnResult(interp, NsConnReturnNotice(connPtr, status, title, notice));
    }
    return result;
}

int
NsTclReturnNotFoundObjCmd(ClientData clientData, Tcl_Interp *interp, int objc,
                          Tcl_Obj *const objv[])
{
    return ReturnNotice(clientData, interp, objc, objv, 404, "Not Found",
                        "The requested URL was not found on this server.");
}

int
NsTclReturnForbiddenObjCmd(ClientData clientData, Tcl_Interp *interp, int objc,
                           Tcl_Obj *const objv[])
{
    return ReturnNotice(clientData, interp, objc, objv, 403, "Forbidden",
                        "The requested URL cannot be accessed by this server.");
}

int
NsTclReturnUnauthorizedObjCmd(ClientData clientData, Tcl_Interp *interp, int objc,
                              Tcl_Obj *const objv[])
{
    return ReturnNotice(clientData, interp, objc, objv, 401, "Access Denied",
                        "The requested URL cannot be accessed because a valid username "
                        "and password are required.");
}

/*
 *----------------------------------------------------------------------
 * NsTclReturnRedirectObjCmd --
 *
 *      ns_returnredirect /location/
 *----------------------------------------------------------------------
 */
int
NsTclReturnRedirectObjCmd(ClientData clientData, Tcl_Interp *interp, int objc,
                          Tcl_Obj *const objv[])
{
    char        *location = NULL;
    Ns_ObjvSpec  args[] = {
        {"location", Ns_ObjvString, &location, NULL},
        {NULL, NULL, NULL, NULL}
    };
    Conn *connPtr;
    int   result;

    if (Ns_ParseObjv(NULL, args, interp, 1, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else if ((connPtr = NsTclConnSock(clientData, interp)) == NULL) {
        result = TCL_ERROR;
    } else {
        result = ReturnResult(interp, NsConnReturnRedirect(connPtr, location));
    }
    return result;
}

/*
 *----------------------------------------------------------------------
 * NsTclReturnFileObjCmd --
 *
 *      ns_returnfile /status/ /mimetype/ /filename/
 *----------------------------------------------------------------------
 */
int
NsTclReturnFileObjCmd(ClientData clientData, Tcl_Interp *interp, int objc,
                      Tcl_Obj *const objv[])
{
    int          status = 0;
    char        *mimeType = NULL, *file = NULL;
    Ns_ObjvSpec  args[] = {
        {"status",   Ns_ObjvInt,    &status,   NULL},
        {"mimetype", Ns_ObjvString, &mimeType, NULL},
        {"filename", Ns_ObjvString, &file,     NULL},
        {NULL, NULL, NULL, NULL}
    };
    Conn *connPtr;
    int   result;

    if (Ns_ParseObjv(NULL, args, interp, 1, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else if ((connPtr = NsTclConnSock(clientData, interp)) == NULL) {
        result = TCL_ERROR;
    } else {
        result = ReturnResult(interp, NsConnReturnFile(connPtr, status,
                                                       *mimeType != '\0' ? mimeType : NULL,
                                                       file));
    }
    return result;
}

/*
 *----------------------------------------------------------------------
 * NsTclGetFormObjCmd --
 *
 *      ns_getform  -- the query and urlencoded form fields as an ns_set
 *      (empty string when there are none, as NaviServer).
 *----------------------------------------------------------------------
 */
int
NsTclGetFormObjCmd(ClientData clientData, Tcl_Interp *interp, int objc,
                   Tcl_Obj *const objv[])
{
    Conn *connPtr;
    int   result = TCL_OK;

    if (Ns_ParseObjv(NULL, NULL, interp, 1, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else if ((connPtr = NsTclGetConn(clientData, interp)) == NULL) {
        result = TCL_ERROR;
    } else {
        Ns_Set *form = NsConnGetQuery(connPtr);

        if (Ns_SetSize(form) > 0) {
            if (connPtr->formId[0] == '\0') {
                result = Ns_TclEnterSet(interp, form, NS_TCL_SET_STATIC);
                if (result == TCL_OK) {
                    snprintf(connPtr->formId, sizeof(connPtr->formId), "%s",
                             Tcl_GetStringResult(interp));
                }
            } else {
                Tcl_SetObjResult(interp, Tcl_NewStringObj(connPtr->formId, -1));
            }
        }
    }
    return result;
}

/*
 *----------------------------------------------------------------------
 * NsTclQueryGetObjCmd --
 *
 *      ns_queryget ?-escape? ?--? /key/ ?/default/?
 *----------------------------------------------------------------------
 */
int
NsTclQueryGetObjCmd(ClientData clientData, Tcl_Interp *interp, int objc,
                    Tcl_Obj *const objv[])
{
    int          escape = 0;
    char        *key = NULL;
    Tcl_Obj     *defObj = NULL;
    Ns_ObjvSpec  opts[] = {
        {"-escape", Ns_ObjvBool,  &escape, INT2PTR(1)},
        {"--",      Ns_ObjvBreak, NULL,    NULL},
        {NULL, NULL, NULL, NULL}
    };
    Ns_ObjvSpec  args[] = {
        {"key",      Ns_ObjvString, &key,    NULL},
        {"?default", Ns_ObjvObj,    &defObj, NULL},
        {NULL, NULL, NULL, NULL}
    };
    Conn *connPtr;
    int   result = TCL_OK;

    if (Ns_ParseObjv(opts, args, interp, 1, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else if ((connPtr = NsTclGetConn(clientData, interp)) == NULL) {
        result = TCL_ERROR;
    } else {
        const char *value = Ns_SetGet(NsConnGetQuery(connPtr), key);

        if (value == NULL) {
            if (defObj != NULL) {
                Tcl_SetObjResult(interp, defObj);
            }
        } else if (escape) {
            Tcl_DString ds;

            /* HTML-escape for direct inclusion in a page. */
            Tcl_DStringInit(&ds);
            for (const char *p = value; *p != '\0'; p++) {
                switch (*p) {
                case '<':  Tcl_DStringAppend(&ds, "&lt;", 4); break;
                case '>':  Tcl_DStringAppend(&ds, "&gt;", 4); break;
                case '&':  Tcl_DStringAppend(&ds, "&amp;", 5); break;
                case '"':  Tcl_DStringAppend(&ds, "&quot;", 6); break;
                case '\'': Tcl_DStringAppend(&ds, "&#39;", 5); break;
                default:   Tcl_DStringAppend(&ds, p, 1); break;
                }
            }
            Tcl_DStringResult(interp, &ds);
        } else {
            Tcl_SetObjResult(interp, Tcl_NewStringObj(value, -1));
        }
    }
    return result;
}
