/*
 * server.c --
 *
 *      Virtual servers: their configuration (ns/servers, ns/server/NAME and
 *      its fastpath, tcl and modules sections), start-up and shutdown, the
 *      ns_atstartup/ns_atshutdown scripts and C shutdown procs, and ns_info.
 */

#include "nsd.h"

#include <sys/stat.h>
#include <unistd.h>

typedef struct Callback {
    struct Callback *nextPtr;
    Ns_ShutdownProc *proc;      /* C proc, or NULL for a script */
    void            *arg;
    char            *script;    /* Tcl script (with its args), or NULL */
    NsServer        *servPtr;   /* server whose interp runs the script */
} Callback;

static NsServer       *firstServPtr = NULL;
static const char     *globalLibrary;
static pthread_mutex_t callbackLock = PTHREAD_MUTEX_INITIALIZER; /* the two lists below */
static Callback       *startupCallbacks = NULL;
static Callback       *shutdownCallbacks = NULL;
static atomic_bool     shutdownPending = false;

/*
 *----------------------------------------------------------------------
 * NsGetServer, NsDefaultServer --
 *
 * Results:
 *      The server of that name (NULL when none), or the first server.
 *----------------------------------------------------------------------
 */
NsServer *
NsGetServer(const char *name)
{
    for (NsServer *servPtr = firstServPtr; servPtr != NULL; servPtr = servPtr->nextPtr) {
        if (name != NULL && strcmp(servPtr->name, name) == 0) {
            return servPtr;
        }
    }
    return NULL;
}

NsServer *
NsDefaultServer(void)
{
    return firstServPtr;
}

/*
 *----------------------------------------------------------------------
 * AbsolutePath --
 *
 *      A configured path, made absolute relative to the home directory.
 *----------------------------------------------------------------------
 */
static const char *
AbsolutePath(const char *path)
{
    Tcl_DString ds;
    char       *result;

    if (path[0] == '/') {
        return path;
    }
    Tcl_DStringInit(&ds);
    Tcl_DStringAppend(&ds, nsHome, -1);
    Tcl_DStringAppend(&ds, "/", 1);
    Tcl_DStringAppend(&ds, path, -1);
    result = ns_strdup(Tcl_DStringValue(&ds));
    Tcl_DStringFree(&ds);
    return result;
}

/*
 *----------------------------------------------------------------------
 * CreateServer --
 *
 *      Read one server's configuration and load its modules.
 *----------------------------------------------------------------------
 */
static NsServer *
CreateServer(const char *name)
{
    NsServer   *servPtr = ckalloc(sizeof(NsServer));
    const char *section = Ns_ConfigGetPath(name, NULL, (char *)0);
    const char *fastpath = Ns_ConfigGetPath(name, NULL, "fastpath", (char *)0);
    const char *tcl = Ns_ConfigGetPath(name, NULL, "tcl", (char *)0);
    const char *pagedir;
    struct stat st;

    memset(servPtr, 0, sizeof(NsServer));
    servPtr->name = ns_strdup(name);
    servPtr->minthreads = Ns_ConfigIntRange(section, "minthreads", 1, 1, 10000);
    servPtr->maxthreads = Ns_ConfigIntRange(section, "maxthreads", 10, 1, 10000);
    if (servPtr->maxthreads < servPtr->minthreads) {
        servPtr->maxthreads = servPtr->minthreads;
    }
    servPtr->maxconnections = Ns_ConfigIntRange(section, "maxconnections", 100, 1, 1000000);
    servPtr->enabletclpages = Ns_ConfigBool(section, "enabletclpages", false);
    pagedir = AbsolutePath(Ns_ConfigString(fastpath, "pagedir",
                                           Ns_ConfigString(section, "pagedir", "pages")));
    if (stat(pagedir, &st) == 0 && S_ISDIR(st.st_mode)) {
        servPtr->pagedir = pagedir;
    } else {
        Ns_Log(Warning, "server %s: page directory %s does not exist", name, pagedir);
    }
    servPtr->library = AbsolutePath(Ns_ConfigString(tcl, "library", "modules/tcl"));
    servPtr->modulesSection = Ns_ConfigGetPath(name, NULL, "modules", (char *)0);
    pthread_mutex_init(&servPtr->lock, NULL);
    pthread_cond_init(&servPtr->cond, NULL);
    NsConfigSetDefault(fastpath, "pagedir", pagedir);
    NsConfigSetDefault(tcl, "library", servPtr->library);
    return servPtr;
}

/*
 *----------------------------------------------------------------------
 * NsInitServers --
 *
 *      Create the servers of ns/servers ("default" when there are none),
 *      load their modules and build their Tcl blueprints.
 *
 * Results:
 *      NS_OK, or NS_ERROR when a module fails to load.
 *----------------------------------------------------------------------
 */
Ns_ReturnCode
NsInitServers(void)
{
    const Ns_Set *servers = Ns_ConfigGetSection("ns/servers");
    NsServer    **lastPtrPtr = &firstServPtr;
    Ns_ReturnCode status = NS_OK;

    globalLibrary = AbsolutePath(Ns_ConfigString("ns/parameters", "tcllibrary", "tcl"));
    NsConfigSetDefault("ns/parameters", "tcllibrary", globalLibrary);
    if (servers == NULL || Ns_SetSize(servers) == 0) {
        *lastPtrPtr = CreateServer("default");
    } else {
        for (size_t i = 0; i < Ns_SetSize(servers); i++) {
            *lastPtrPtr = CreateServer(Ns_SetKey(servers, i));
            lastPtrPtr = &(*lastPtrPtr)->nextPtr;
        }
    }
    for (NsServer *servPtr = firstServPtr; servPtr != NULL && status == NS_OK;
         servPtr = servPtr->nextPtr) {
        status = NsLoadModules(servPtr);
        if (status == NS_OK) {
            NsTclInitServer(servPtr, globalLibrary);
        }
    }
    return status;
}

/*
 *----------------------------------------------------------------------
 * NsStartServers, NsStopServers --
 *
 *      Start the connection thread pools; at shutdown let them finish
 *      until the (wall clock) deadline.
 *----------------------------------------------------------------------
 */
void
NsStartServers(void)
{
    for (NsServer *servPtr = firstServPtr; servPtr != NULL; servPtr = servPtr->nextPtr) {
        NsStartPool(servPtr);
    }
}

void
NsStopServers(const Ns_Time *deadlinePtr)
{
    for (NsServer *servPtr = firstServPtr; servPtr != NULL; servPtr = servPtr->nextPtr) {
        NsStopPool(servPtr, deadlinePtr);
    }
}

/*
 *----------------------------------------------------------------------
 * Shutdown state.
 *----------------------------------------------------------------------
 */
void
NsSetShutdownPending(void)
{
    atomic_store(&shutdownPending, true);
}

bool
Ns_InfoShutdownPending(void)
{
    return atomic_load(&shutdownPending);
}

/*
 *----------------------------------------------------------------------
 * AddCallback --
 *
 *      Append a callback to a list, keeping registration order.
 *----------------------------------------------------------------------
 */
static void
AddCallback(Callback **listPtr, Callback *cbPtr)
{
    Callback **lastPtrPtr;

    cbPtr->nextPtr = NULL;
    pthread_mutex_lock(&callbackLock);
    for (lastPtrPtr = listPtr; *lastPtrPtr != NULL; lastPtrPtr = &(*lastPtrPtr)->nextPtr) {
    }
    *lastPtrPtr = cbPtr;
    pthread_mutex_unlock(&callbackLock);
}

void
Ns_RegisterAtShutdown(Ns_ShutdownProc *proc, void *arg)
{
    Callback *cbPtr = ckalloc(sizeof(Callback));

    memset(cbPtr, 0, sizeof(Callback));
    cbPtr->proc = proc;
    cbPtr->arg = arg;
    AddCallback(&shutdownCallbacks, cbPtr);
}

/*
 *----------------------------------------------------------------------
 * RunCallbacks --
 *
 *      Run (and free) the callbacks of a list; scripts run in one fresh
 *      interp per server, errors are logged and do not stop the others.
 *----------------------------------------------------------------------
 */
static void
RunCallbacks(Callback **listPtr, const Ns_Time *toutPtr, const char *what)
{
    Callback   *cbPtr;
    Tcl_Interp *interp = NULL;
    NsServer   *interpServPtr = NULL;

    pthread_mutex_lock(&callbackLock);
    cbPtr = *listPtr;
    *listPtr = NULL;
    pthread_mutex_unlock(&callbackLock);

    while (cbPtr != NULL) {
        Callback *nextPtr = cbPtr->nextPtr;

        if (cbPtr->proc != NULL) {
            cbPtr->proc(toutPtr, cbPtr->arg);
        } else {
            if (interp == NULL || interpServPtr != cbPtr->servPtr) {
                if (interp != NULL) {
                    Tcl_DeleteInterp(interp);
                }
                interp = Ns_TclAllocateInterp(cbPtr->servPtr->name);
                interpServPtr = cbPtr->servPtr;
            }
            if (Tcl_EvalEx(interp, cbPtr->script, -1, TCL_EVAL_GLOBAL) != TCL_OK) {
                Ns_TclLogErrorInfo(interp, what);
            }
            ckfree(cbPtr->script);
        }
        ckfree(cbPtr);
        cbPtr = nextPtr;
    }
    if (interp != NULL) {
        Tcl_DeleteInterp(interp);
    }
}

void
NsRunAtStartup(void)
{
    RunCallbacks(&startupCallbacks, NULL, "ns_atstartup");
}

void
NsRunAtShutdown(const Ns_Time *toutPtr)
{
    RunCallbacks(&shutdownCallbacks, toutPtr, "ns_atshutdown");
}

/*
 *----------------------------------------------------------------------
 * AtObjCmd --
 *
 *      ns_atstartup|ns_atshutdown /script/ ?/arg .../?  -- keep the script
 *      (as a string: it runs in another interp, maybe another thread).
 *----------------------------------------------------------------------
 */
static int
AtObjCmd(NsInterp *itPtr, Callback **listPtr, Tcl_Interp *interp, int objc,
         Tcl_Obj *const objv[])
{
    Tcl_Obj     *scriptObj = NULL;
    int          remain = 0;
    Ns_ObjvSpec  args[] = {
        {"script", Ns_ObjvObj,  &scriptObj, NULL},
        {"?arg",   Ns_ObjvArgs, &remain,    NULL},
        {NULL, NULL, NULL, NULL}
    };
    int result = TCL_OK;

    if (Ns_ParseObjv(NULL, args, interp, 1, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else if (itPtr == NULL) {
        Tcl_SetObjResult(interp, Tcl_NewStringObj("no server for callback", -1));
        result = TCL_ERROR;
    } else {
        Callback   *cbPtr = ckalloc(sizeof(Callback));
        Tcl_DString ds;

        memset(cbPtr, 0, sizeof(Callback));
        Tcl_DStringInit(&ds);
        Tcl_DStringAppend(&ds, Tcl_GetString(scriptObj), -1);
        for (int i = objc - remain; i < objc; i++) {
            Tcl_DStringAppendElement(&ds, Tcl_GetString(objv[i]));
        }
        cbPtr->script = ns_strdup(Tcl_DStringValue(&ds));
        cbPtr->servPtr = itPtr->servPtr;
        Tcl_DStringFree(&ds);
        AddCallback(listPtr, cbPtr);
    }
    return result;
}

int
NsTclAtStartupObjCmd(ClientData clientData, Tcl_Interp *interp, int objc,
                     Tcl_Obj *const objv[])
{
    return AtObjCmd(clientData, &startupCallbacks, interp, objc, objv);
}

int
NsTclAtShutdownObjCmd(ClientData clientData, Tcl_Interp *interp, int objc,
                      Tcl_Obj *const objv[])
{
    return AtObjCmd(clientData, &shutdownCallbacks, interp, objc, objv);
}

/*
 *----------------------------------------------------------------------
 * ns_info subcommands.  clientData is the NsInterp (NULL in the config
 * interp, where only the process-wide ones answer).
 *----------------------------------------------------------------------
 */

static int
InfoNoArgs(Tcl_Interp *interp, int objc, Tcl_Obj *const objv[])
{
    return (Ns_ParseObjv(NULL, NULL, interp, 2, objc, objv) == NS_OK) ? TCL_OK : TCL_ERROR;
}

#define INFO_STRING(fn, expr)                                                \
    static int                                                               \
    fn(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,          \
       Tcl_Obj *const objv[])                                                \
    {                                                                        \
        int result = InfoNoArgs(interp, objc, objv);                         \
        if (result == TCL_OK) {                                              \
            Tcl_SetObjResult(interp, (expr));                                \
        }                                                                    \
        return result;                                                       \
    }

INFO_STRING(InfoHomeObjCmd, Tcl_NewStringObj(nsHome, -1))
INFO_STRING(InfoConfigObjCmd, Tcl_NewStringObj(nsConfigFile, -1))
INFO_STRING(InfoLogObjCmd, Tcl_NewStringObj(NsLogPath() != NULL ? NsLogPath() : "", -1))
INFO_STRING(InfoPidObjCmd, Tcl_NewIntObj((int)getpid()))
INFO_STRING(InfoVersionObjCmd, Tcl_NewStringObj(NS_VERSION, -1))
INFO_STRING(InfoPatchLevelObjCmd, Tcl_NewStringObj(NS_VERSION, -1))
INFO_STRING(InfoNameObjCmd, Tcl_NewStringObj("nsws", -1))
INFO_STRING(InfoBootTimeObjCmd, Tcl_NewWideIntObj((Tcl_WideInt)nsBootTime.sec))
INFO_STRING(InfoTclLibObjCmd, Tcl_NewStringObj(globalLibrary != NULL ? globalLibrary : "", -1))
INFO_STRING(InfoShutdownPendingObjCmd, Tcl_NewBooleanObj(Ns_InfoShutdownPending()))
INFO_STRING(InfoNsdObjCmd, Tcl_NewStringObj(Tcl_GetNameOfExecutable(), -1))

static int
InfoUptimeObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                 Tcl_Obj *const objv[])
{
    int result = InfoNoArgs(interp, objc, objv);

    if (result == TCL_OK) {
        Ns_Time now;

        Ns_GetTime(&now);
        Tcl_SetObjResult(interp, Tcl_NewWideIntObj((Tcl_WideInt)(now.sec - nsBootTime.sec)));
    }
    return result;
}

static int
InfoHostnameObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                   Tcl_Obj *const objv[])
{
    int result = InfoNoArgs(interp, objc, objv);

    if (result == TCL_OK) {
        char buf[256];

        if (gethostname(buf, sizeof(buf)) != 0) {
            snprintf(buf, sizeof(buf), "localhost");
        }
        buf[sizeof(buf) - 1] = '\0';
        Tcl_SetObjResult(interp, Tcl_NewStringObj(buf, -1));
    }
    return result;
}

static int
InfoServersObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                  Tcl_Obj *const objv[])
{
    int result = InfoNoArgs(interp, objc, objv);

    if (result == TCL_OK) {
        Tcl_Obj *listObj = Tcl_NewListObj(0, NULL);

        for (NsServer *servPtr = firstServPtr; servPtr != NULL; servPtr = servPtr->nextPtr) {
            Tcl_ListObjAppendElement(interp, listObj, Tcl_NewStringObj(servPtr->name, -1));
        }
        Tcl_SetObjResult(interp, listObj);
    }
    return result;
}

/*
 *----------------------------------------------------------------------
 * ServerOf --
 *
 *      The server an ns_info question is about: the interp's own.
 *----------------------------------------------------------------------
 */
static const NsServer *
ServerOf(ClientData clientData, Tcl_Interp *interp)
{
    const NsInterp *itPtr = clientData;

    if (itPtr == NULL) {
        Tcl_SetObjResult(interp, Tcl_NewStringObj("no server for this interp", -1));
        Tcl_SetErrorCode(interp, "NS", "NOSERVER", (char *)0);
        return NULL;
    }
    return itPtr->servPtr;
}

static int
InfoServerObjCmd(ClientData clientData, Tcl_Interp *interp, int objc, Tcl_Obj *const objv[])
{
    int             result = InfoNoArgs(interp, objc, objv);
    const NsServer *servPtr = (result == TCL_OK) ? ServerOf(clientData, interp) : NULL;

    if (servPtr != NULL) {
        Tcl_SetObjResult(interp, Tcl_NewStringObj(servPtr->name, -1));
    } else {
        result = TCL_ERROR;
    }
    return result;
}

static int
InfoPageRootObjCmd(ClientData clientData, Tcl_Interp *interp, int objc,
                   Tcl_Obj *const objv[])
{
    int             result = InfoNoArgs(interp, objc, objv);
    const NsServer *servPtr = (result == TCL_OK) ? ServerOf(clientData, interp) : NULL;

    if (servPtr != NULL) {
        Tcl_SetObjResult(interp, Tcl_NewStringObj(servPtr->pagedir != NULL
                                                  ? servPtr->pagedir : "", -1));
    } else {
        result = TCL_ERROR;
    }
    return result;
}

int
NsTclInfoObjCmd(ClientData clientData, Tcl_Interp *interp, int objc, Tcl_Obj *const objv[])
{
    static const Ns_SubCmdSpec subcmds[] = {
        {"boottime",        InfoBootTimeObjCmd},
        {"config",          InfoConfigObjCmd},
        {"home",            InfoHomeObjCmd},
        {"hostname",        InfoHostnameObjCmd},
        {"log",             InfoLogObjCmd},
        {"name",            InfoNameObjCmd},
        {"nsd",             InfoNsdObjCmd},
        {"pageroot",        InfoPageRootObjCmd},
        {"patchlevel",      InfoPatchLevelObjCmd},
        {"pid",             InfoPidObjCmd},
        {"server",          InfoServerObjCmd},
        {"servers",         InfoServersObjCmd},
        {"shutdownpending", InfoShutdownPendingObjCmd},
        {"tcllib",          InfoTclLibObjCmd},
        {"uptime",          InfoUptimeObjCmd},
        {"version",         InfoVersionObjCmd},
        {NULL, NULL}
    };

    return Ns_SubcmdObjv(subcmds, clientData, interp, objc, objv);
}

const char *
Ns_InfoHomePath(void)
{
    return nsHome;
}

const char *
Ns_InfoServerVersion(void)
{
    return NS_VERSION;
}
