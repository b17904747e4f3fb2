/*
 * op.c --
 *
 *      The URL space of a server: request procs registered for a method and
 *      a URL prefix (ns_register_proc, Ns_RegisterRequest), and dispatch of
 *      a request to the most specific one, or to the fast path (pages and
 *      static files) when none matches.
 *
 *      Registrations may change at any time from any thread; opLock (a
 *      mutex, held only to search or change the list) protects it, and a
 *      registration is reference counted so that a request already running
 *      it survives its removal.
 */

#include "nsd.h"

typedef struct Op {
    struct Op   *nextPtr;
    NsServer    *servPtr;
    char        *method;
    char        *url;           /* normalised prefix, no trailing "/" except root */
    size_t       urlLen;
    unsigned int flags;         /* NS_OP_NOINHERIT: exact URL only */
    Ns_OpProc   *proc;
    Ns_FreeProc *deleteProc;
    void        *arg;
    int          refCount;      /* list + running requests; under opLock */
} Op;

/* A Tcl request proc: the script and its extra args, kept as strings. */
typedef struct TclOp {
    char *script;
    int   argc;
    char **argv;
} TclOp;

static pthread_mutex_t opLock = PTHREAD_MUTEX_INITIALIZER; /* protects ops and refCounts */
static Op             *ops = NULL;

/*
 *----------------------------------------------------------------------
 * NormalizeUrl --
 *
 *      Registered URLs compare without a trailing "/" ("/a/" is "/a").
 *----------------------------------------------------------------------
 */
static char *
NormalizeUrl(const char *url)
{
    size_t len = strlen(url);
    char  *copy;

    while (len > 1 && url[len - 1] == '/') {
        len--;
    }
    copy = ckalloc(len + 1);
    memcpy(copy, url, len);
    copy[len] = '\0';
    return copy;
}

/*
 *----------------------------------------------------------------------
 * OpRelease --
 *
 *      Drop a reference; the last one frees.  Called without opLock.
 *----------------------------------------------------------------------
 */
static void
OpRelease(Op *opPtr)
{
    bool last;

    pthread_mutex_lock(&opLock);
    last = (--opPtr->refCount == 0);
    pthread_mutex_unlock(&opLock);
    if (last) {
        if (opPtr->deleteProc != NULL) {
            opPtr->deleteProc(opPtr->arg);
        }
        ckfree(opPtr->method);
        ckfree(opPtr->url);
        ckfree(opPtr);
    }
}

/*
 *----------------------------------------------------------------------
 * Unlink --
 *
 *      Remove registrations of method on this server.  With recurse, all
 *      at url or below it go, whatever their flags; otherwise only the one
 *      at exactly url with the same NS_OP_NOINHERIT flag: as in NaviServer,
 *      an inheriting and a non-inheriting registration of the same URL
 *      live side by side.  Called with opLock held.
 *
 * Results:
 *      The removed ops, chained through nextPtr (release them after
 *      unlocking).
 *----------------------------------------------------------------------
 */
static Op *
Unlink(NsServer *servPtr, const char *method, const char *url, unsigned int flags,
       bool recurse)
{
    Op   **opPtrPtr = &ops, *removed = NULL;
    size_t urlLen = strlen(url);

    while (*opPtrPtr != NULL) {
        Op  *opPtr = *opPtrPtr;
        bool match = (opPtr->servPtr == servPtr && strcmp(opPtr->method, method) == 0);

        if (match && recurse) {
            /* "/a" covers "/a" and "/a/...", never "/ab"; "/" covers all. */
            match = (strncmp(opPtr->url, url, urlLen) == 0
                     && (opPtr->url[urlLen] == '\0' || opPtr->url[urlLen] == '/'
                         || (urlLen == 1 && url[0] == '/')));
        } else if (match) {
            match = (strcmp(opPtr->url, url) == 0
                     && (opPtr->flags & NS_OP_NOINHERIT) == (flags & NS_OP_NOINHERIT));
        }
        if (match) {
            *opPtrPtr = opPtr->nextPtr;
            opPtr->nextPtr = removed;
            removed = opPtr;
        } else {
            opPtrPtr = &opPtr->nextPtr;
        }
    }
    return removed;
}

static void
ReleaseList(Op *opPtr)
{
    while (opPtr != NULL) {
        Op *nextPtr = opPtr->nextPtr;

        OpRelease(opPtr);
        opPtr = nextPtr;
    }
}

/*
 *----------------------------------------------------------------------
 * Ns_RegisterRequest --
 *
 *      Register proc for method and the URL prefix url, replacing an
 *      earlier registration of the same pair.
 *----------------------------------------------------------------------
 */
void
Ns_RegisterRequest(const char *server, const char *method, const char *url,
                   Ns_OpProc *proc, Ns_FreeProc *deleteProc, void *arg, unsigned int flags)
{
    NsServer *servPtr = NsGetServer(server);
    Op       *opPtr, *replaced;

    if (servPtr == NULL) {
        Ns_Log(Error, "register request: no such server \"%s\"", server);
        if (deleteProc != NULL) {
            deleteProc(arg);
        }
        return;
    }
    opPtr = ckalloc(sizeof(Op));
    opPtr->servPtr = servPtr;
    opPtr->method = ns_strdup(method);
    opPtr->url = NormalizeUrl(url);
    opPtr->urlLen = strlen(opPtr->url);
    opPtr->flags = flags;
    opPtr->proc = proc;
    opPtr->deleteProc = deleteProc;
    opPtr->arg = arg;
    opPtr->refCount = 1;

    pthread_mutex_lock(&opLock);
    replaced = Unlink(servPtr, opPtr->method, opPtr->url, flags, false);
    opPtr->nextPtr = ops;
    ops = opPtr;
    pthread_mutex_unlock(&opLock);
    ReleaseList(replaced);
}

/*
 *----------------------------------------------------------------------
 * UnregisterRequest, NsUnregisterRequest --
 *
 *      Remove the registration of method+url: the inheriting one, or with
 *      inherit false the -noinherit one; with recurse, every registration
 *      of method at url or below it.
 *----------------------------------------------------------------------
 */
static void
UnregisterRequest(NsServer *servPtr, const char *method, const char *url, bool inherit,
                  bool recurse)
{
    char *norm = NormalizeUrl(url);
    Op   *removed;

    pthread_mutex_lock(&opLock);
    removed = Unlink(servPtr, method, norm, inherit ? 0u : NS_OP_NOINHERIT, recurse);
    pthread_mutex_unlock(&opLock);
    ReleaseList(removed);
    ckfree(norm);
}

void
NsUnregisterRequest(NsServer *servPtr, const char *method, const char *url, bool inherit)
{
    UnregisterRequest(servPtr, method, url, inherit, false);
}

/*
 *----------------------------------------------------------------------
 * Matches --
 *
 *      Does a registered prefix cover url?  "/a" covers "/a", "/a/" and
 *      "/a/b", never "/ab"; with NS_OP_NOINHERIT only "/a" and "/a/".
 *----------------------------------------------------------------------
 */
static bool
Matches(const Op *opPtr, const char *url)
{
    size_t len = opPtr->urlLen;

    if (len == 1 && opPtr->url[0] == '/') {
        return (opPtr->flags & NS_OP_NOINHERIT) == 0 || strcmp(url, "/") == 0;
    }
    if (strncmp(url, opPtr->url, len) != 0) {
        return false;
    }
    if (url[len] == '\0') {
        return true;
    }
    if (url[len] != '/') {
        return false;
    }
    return (opPtr->flags & NS_OP_NOINHERIT) == 0 || url[len + 1] == '\0';
}

/*
 *----------------------------------------------------------------------
 * MoreSpecific --
 *
 *      Does opPtr match a request more specifically than best (both
 *      match it)?  A longer URL wins; for the same URL, a -noinherit
 *      registration beats an inheriting one, and a named method beats
 *      "*", so that the order of registration never decides.
 *----------------------------------------------------------------------
 */
static bool
MoreSpecific(const Op *opPtr, const Op *best)
{
    bool opExact = (opPtr->flags & NS_OP_NOINHERIT) != 0;
    bool bestExact = (best->flags & NS_OP_NOINHERIT) != 0;
    bool opAny = (strcmp(opPtr->method, "*") == 0);
    bool bestAny = (strcmp(best->method, "*") == 0);

    if (opPtr->urlLen != best->urlLen) {
        return opPtr->urlLen > best->urlLen;
    }
    if (opExact != bestExact) {
        return opExact;
    }
    return bestAny && !opAny;
}

/*
 *----------------------------------------------------------------------
 * NsDispatch --
 *
 *      Run the most specific request proc for the connection, or the fast
 *      path when there is none.
 *
 * Results:
 *      The proc's result.
 *----------------------------------------------------------------------
 */
Ns_ReturnCode
NsDispatch(Conn *connPtr)
{
    Op           *best = NULL;
    Ns_ReturnCode result;

    pthread_mutex_lock(&opLock);
    for (Op *opPtr = ops; opPtr != NULL; opPtr = opPtr->nextPtr) {
        if (opPtr->servPtr == connPtr->servPtr
            && (strcmp(opPtr->method, connPtr->method) == 0
                || strcmp(opPtr->method, "*") == 0)
            && Matches(opPtr, connPtr->url)
            && (best == NULL || MoreSpecific(opPtr, best))) {
            best = opPtr;
        }
    }
    if (best != NULL) {
        best->refCount++;
    }
    pthread_mutex_unlock(&opLock);

    if (best != NULL) {
        result = best->proc(best->arg, connPtr);
        OpRelease(best);
    } else {
        result = NsFastpathServe(connPtr);
    }
    return result;
}

/*
 *----------------------------------------------------------------------
 * TclOpProc --
 *
 *      Run a request proc registered from Tcl: the script with its extra
 *      args appended, in the connection's interp.  An error is logged with
 *      the URL, and answered with 500 when nothing was sent yet.
 *----------------------------------------------------------------------
 */
static Ns_ReturnCode
TclOpProc(void *arg, Ns_Conn *conn)
{
    const TclOp  *tclOpPtr = arg;
    Conn         *connPtr = (Conn *)conn;
    Tcl_Interp   *interp = connPtr->interp;
    Tcl_DString   ds;
    Ns_ReturnCode result = NS_OK;

    Tcl_DStringInit(&ds);
    Tcl_DStringAppend(&ds, tclOpPtr->script, -1);
    for (int i = 0; i < tclOpPtr->argc; i++) {
        Tcl_DStringAppendElement(&ds, tclOpPtr->argv[i]);
    }
    if (Tcl_EvalEx(interp, Tcl_DStringValue(&ds), Tcl_DStringLength(&ds), TCL_EVAL_GLOBAL)
        != TCL_OK) {
        Tcl_DString ctx;

        Tcl_DStringInit(&ctx);
        Tcl_DStringAppend(&ctx, connPtr->method, -1);
        Tcl_DStringAppend(&ctx, " ", 1);
        Tcl_DStringAppend(&ctx, connPtr->url, -1);
        Ns_TclLogErrorInfo(interp, Tcl_DStringValue(&ctx));
        Tcl_DStringFree(&ctx);
        result = NS_ERROR;
    }
    Tcl_DStringFree(&ds);
    return result;
}

static void
TclOpFree(void *arg)
{
    TclOp *tclOpPtr = arg;

    ckfree(tclOpPtr->script);
    Tcl_Free((char *)tclOpPtr->argv);
    ckfree(tclOpPtr);
}

/*
 *----------------------------------------------------------------------
 * NsTclRegisterProcObjCmd --
 *
 *      ns_register_proc ?-noinherit? ?--? /method/ /url/ /script/ ?/arg .../?
 *----------------------------------------------------------------------
 */
int
NsTclRegisterProcObjCmd(ClientData clientData, Tcl_Interp *interp, int objc,
                        Tcl_Obj *const objv[])
{
    const NsInterp *itPtr = clientData;
    int             noinherit = 0, remain = 0;
    char           *method = NULL, *url = NULL, *script = NULL;
    Ns_ObjvSpec     opts[] = {
        {"-noinherit", Ns_ObjvBool,  &noinherit, INT2PTR(1)},
        {"--",         Ns_ObjvBreak, NULL,       NULL},
        {NULL, NULL, NULL, NULL}
    };
    Ns_ObjvSpec     args[] = {
        {"method", Ns_ObjvString, &method, NULL},
        {"url",    Ns_ObjvString, &url,    NULL},
        {"script", Ns_ObjvString, &script, NULL},
        {"?arg",   Ns_ObjvArgs,   &remain, NULL},
        {NULL, NULL, NULL, NULL}
    };
    int result = TCL_OK;

    if (Ns_ParseObjv(opts, args, interp, 1, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        TclOp      *tclOpPtr = ckalloc(sizeof(TclOp));
        Tcl_DString ds;

        Tcl_DStringInit(&ds);
        for (int i = objc - remain; i < objc; i++) {
            Tcl_DStringAppendElement(&ds, Tcl_GetString(objv[i]));
        }
        tclOpPtr->script = ns_strdup(script);
        if (Tcl_SplitList(NULL, Tcl_DStringValue(&ds), &tclOpPtr->argc,
                          (const char ***)&tclOpPtr->argv) != TCL_OK) {
            tclOpPtr->argc = 0;
            tclOpPtr->argv = (char **)Tcl_Alloc(sizeof(char *));
        }
        Tcl_DStringFree(&ds);
        Ns_RegisterRequest(itPtr->servPtr->name, method, url, TclOpProc, TclOpFree, tclOpPtr,
                           noinherit ? NS_OP_NOINHERIT : 0u);
    }
    return result;
}

/*
 *----------------------------------------------------------------------
 * NsTclUnRegisterOpObjCmd --
 *
 *      ns_unregister_op ?-noinherit? ?-recurse? ?--? /method/ /url/
 *----------------------------------------------------------------------
 */
int
NsTclUnRegisterOpObjCmd(ClientData clientData, Tcl_Interp *interp, int objc,
                        Tcl_Obj *const objv[])
{
    const NsInterp *itPtr = clientData;
    int             noinherit = 0, recurse = 0;
    char           *method = NULL, *url = NULL;
    Ns_ObjvSpec     opts[] = {
        {"-noinherit", Ns_ObjvBool,  &noinherit, INT2PTR(1)},
        {"-recurse",   Ns_ObjvBool,  &recurse,   INT2PTR(1)},
        {"--",         Ns_ObjvBreak, NULL,       NULL},
        {NULL, NULL, NULL, NULL}
    };
    Ns_ObjvSpec     args[] = {
        {"method", Ns_ObjvString, &method, NULL},
        {"url",    Ns_ObjvString, &url,    NULL},
        {NULL, NULL, NULL, NULL}
    };
    int result = TCL_OK;

    if (Ns_ParseObjv(opts, args, interp, 1, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        UnregisterRequest(itPtr->servPtr, method, url, noinherit == 0, recurse != 0);
    }
    return result;
}
