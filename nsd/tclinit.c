/*
 * tclinit.c --
 *
 *      Tcl interps of a server.  At start-up one init interp sources the
 *      server's Tcl library and the Tcl files of its modules; what that
 *      defines (namespaces, their variables, procs) is captured as a
 *      "blueprint" script, as NaviServer does, and every later interp
 *      (one per connection thread, the event thread, ns_thread threads)
 *      is built from the core commands, the modules' C init procs and the
 *      blueprint.  Registration side effects of the library (ns_register_proc,
 *      nsv_set ...) therefore happen once, not once per thread.
 */

#include "nsd.h"

#include <dirent.h>

typedef struct CmdEntry {
    const char     *name;
    Tcl_ObjCmdProc *proc;
} CmdEntry;

static const CmdEntry coreCmds[] = {
    {"ns_accesslog",          NsTclAccessLogObjCmd},
    {"ns_atshutdown",         NsTclAtShutdownObjCmd},
    {"ns_atstartup",          NsTclAtStartupObjCmd},
    {"ns_config",             NsTclConfigObjCmd},
    {"ns_configsection",      NsTclConfigSectionObjCmd},
    {"ns_configsections",     NsTclConfigSectionsObjCmd},
    {"ns_conn",               NsTclConnObjCmd},
    {"ns_driver",             NsTclDriverObjCmd},
    {"ns_getform",            NsTclGetFormObjCmd},
    {"ns_headers",            NsTclHeadersObjCmd},
    {"ns_info",               NsTclInfoObjCmd},
    {"ns_log",                NsTclLogObjCmd},
    {"ns_logctl",             NsTclLogCtlObjCmd},
    {"ns_logroll",            NsTclLogRollObjCmd},
    {"ns_moduleload",         NsTclModuleLoadObjCmd},
    {"ns_mutex",              NsTclMutexObjCmd},
    {"ns_parseurl",           NsTclParseUrlObjCmd},
    {"ns_queryget",           NsTclQueryGetObjCmd},
    {"ns_register_proc",      NsTclRegisterProcObjCmd},
    {"ns_respond",            NsTclRespondObjCmd},
    {"ns_return",             NsTclReturnObjCmd},
    {"ns_returnfile",         NsTclReturnFileObjCmd},
    {"ns_returnforbidden",    NsTclReturnForbiddenObjCmd},
    {"ns_returnnotfound",     NsTclReturnNotFoundObjCmd},
    {"ns_returnredirect",     NsTclReturnRedirectObjCmd},
    {"ns_returnunauthorized", NsTclReturnUnauthorizedObjCmd},
    {"ns_set",                NsTclSetObjCmd},
    {"ns_sleep",              NsTclSleepObjCmd},
    {"ns_thread",             NsTclThreadObjCmd},
    {"ns_time",               NsTclTimeObjCmd},
    {"ns_unregister_op",      NsTclUnRegisterOpObjCmd},
    {"ns_urldecode",          NsTclUrlDecodeObjCmd},
    {"ns_urlencode",          NsTclUrlEncodeObjCmd},
    {"ns_write",              NsTclWriteObjCmd},
    {"nsv_append",            NsTclNsvAppendObjCmd},
    {"nsv_array",             NsTclNsvArrayObjCmd},
    {"nsv_exists",            NsTclNsvExistsObjCmd},
    {"nsv_get",               NsTclNsvGetObjCmd},
    {"nsv_incr",              NsTclNsvIncrObjCmd},
    {"nsv_lappend",           NsTclNsvLappendObjCmd},
    {"nsv_names",             NsTclNsvNamesObjCmd},
    {"nsv_set",               NsTclNsvSetObjCmd},
    {"nsv_unset",             NsTclNsvUnsetObjCmd},
    {NULL, NULL}
};

/*
 * Captures what sourcing the libraries defined, as a script.  Only
 * namespaces and procs that a fresh interp does not have are written.
 */
static const char blueprintScript[] =
    "namespace eval ::nsd {}\n"
    "proc ::nsd::_state {} {\n"
    "    set nss {}; set todo [list ::]\n"
    "    while {[llength $todo] > 0} {\n"
    "        set todo [lassign $todo ns]; lappend nss $ns\n"
    "        lappend todo {*}[namespace children $ns]\n"
    "    }\n"
    "    set procs {}\n"
    "    foreach ns $nss {lappend procs {*}[info procs ${ns}::*]}\n"
    "    return [list $nss $procs]\n"
    "}\n"
    "proc ::nsd::_blueprint {before} {\n"
    "    lassign $before oldNss oldProcs\n"
    "    lassign [::nsd::_state] nss procs\n"
    "    set script {}\n"
    "    foreach ns $nss {\n"
    "        if {$ns in $oldNss} continue\n"
    "        append script [list namespace eval $ns {}] \\n\n"
    "        foreach v [info vars ${ns}::*] {\n"
    "            if {[array exists $v]} {\n"
    "                append script [list array set $v [array get $v]] \\n\n"
    "            } elseif {[info exists $v]} {\n"
    "                append script [list set $v [set $v]] \\n\n"
    "            }\n"
    "        }\n"
    "        set exports [namespace eval $ns {namespace export}]\n"
    "        if {[llength $exports] > 0} {\n"
    "            append script [list namespace eval $ns [list namespace export {*}$exports]] \\n\n"
    "        }\n"
    "    }\n"
    "    foreach p $procs {\n"
    "        if {$p in $oldProcs} continue\n"
    "        set formals {}\n"
    "        foreach a [info args $p] {\n"
    "            if {[info default $p $a d]} {lappend formals [list $a $d]} "
    "else {lappend formals $a}\n"
    "        }\n"
    "        append script [list proc $p $formals [info body $p]] \\n\n"
    "    }\n"
    "    return $script\n"
    "}\n";

/* This thread's connection interps, one per server. */
typedef struct ThreadInterp {
    struct ThreadInterp *nextPtr;
    NsServer            *servPtr;
    Tcl_Interp          *interp;
} ThreadInterp;

static __thread ThreadInterp *threadInterps = NULL;

static Tcl_Interp *CreateInterp(NsServer *servPtr, bool withBlueprint);

/*
 *----------------------------------------------------------------------
 * FreeInterpData --
 *
 *      Assoc data destructor of NsInterp.
 *----------------------------------------------------------------------
 */
static void
FreeInterpData(ClientData clientData, Tcl_Interp *UNUSED(interp))
{
    NsInterp *itPtr = clientData;

    if (itPtr->globalsObj != NULL) {
        Tcl_DecrRefCount(itPtr->globalsObj);
    }
    ckfree(itPtr);
}

NsInterp *
NsGetInterpData(Tcl_Interp *interp)
{
    return Tcl_GetAssocData(interp, "nsd:data", NULL);
}

/*
 *----------------------------------------------------------------------
 * Ns_TclRegisterTrace --
 *
 *      Register a C proc run in every new interp of the server (modules
 *      create their commands this way).  Start-up only: the list is read
 *      without a lock afterwards.
 *----------------------------------------------------------------------
 */
Ns_ReturnCode
Ns_TclRegisterTrace(const char *server, Ns_TclTraceProc *proc, const void *arg)
{
    NsServer   *servPtr = NsGetServer(server);
    TraceEntry *tracePtr, **lastPtrPtr;

    if (servPtr == NULL) {
        Ns_Log(Error, "Ns_TclRegisterTrace: no such server \"%s\"", server);
        return NS_ERROR;
    }
    tracePtr = ckalloc(sizeof(TraceEntry));
    tracePtr->nextPtr = NULL;
    tracePtr->proc = proc;
    tracePtr->arg = arg;
    for (lastPtrPtr = &servPtr->tracesPtr; *lastPtrPtr != NULL;
         lastPtrPtr = &(*lastPtrPtr)->nextPtr) {
    }
    *lastPtrPtr = tracePtr;
    return NS_OK;
}

/*
 *----------------------------------------------------------------------
 * CreateInterp --
 *
 *      A new interp of the server: Tcl, the core commands, the modules'
 *      C init procs and (unless building the blueprint itself) the
 *      blueprint.  Failures here are configuration bugs: logged loudly.
 *----------------------------------------------------------------------
 */
static Tcl_Interp *
CreateInterp(NsServer *servPtr, bool withBlueprint)
{
    Tcl_Interp *interp = Tcl_CreateInterp();
    NsInterp   *itPtr = ckalloc(sizeof(NsInterp));

    memset(itPtr, 0, sizeof(NsInterp));
    itPtr->interp = interp;
    itPtr->servPtr = servPtr;
    Tcl_SetAssocData(interp, "nsd:data", FreeInterpData, itPtr);
    if (Tcl_Init(interp) != TCL_OK) {
        Ns_Log(Error, "tcl: init: %s", Tcl_GetStringResult(interp));
    }
    for (const CmdEntry *cmdPtr = coreCmds; cmdPtr->name != NULL; cmdPtr++) {
        Tcl_CreateObjCommand(interp, cmdPtr->name, cmdPtr->proc, itPtr, NULL);
    }
    for (const TraceEntry *tracePtr = servPtr->tracesPtr; tracePtr != NULL;
         tracePtr = tracePtr->nextPtr) {
        if (tracePtr->proc(interp, tracePtr->arg) != NS_OK) {
            Ns_TclLogErrorInfo(interp, "interp init trace");
        }
    }
    if (withBlueprint) {
        if (Tcl_EvalEx(interp, Tcl_DStringValue(&servPtr->initScript),
                       Tcl_DStringLength(&servPtr->initScript), TCL_EVAL_GLOBAL) != TCL_OK) {
            Ns_TclLogErrorInfo(interp, "interp blueprint");
        }
        /* The globals a clean interp has; others are unset after each request. */
        if (Tcl_EvalEx(interp, "info globals", -1, TCL_EVAL_GLOBAL) == TCL_OK) {
            itPtr->globalsObj = Tcl_GetObjResult(interp);
            Tcl_IncrRefCount(itPtr->globalsObj);
        }
        Tcl_ResetResult(interp);
    }
    return interp;
}

/*
 *----------------------------------------------------------------------
 * SourceDir --
 *
 *      Source the *.tcl files of a directory into interp: init.tcl first,
 *      then the others in name order, as NaviServer does for modules.
 *      A file that fails is logged; the others still load.
 *----------------------------------------------------------------------
 */
static void
SourceDir(Tcl_Interp *interp, const char *dir)
{
    struct dirent **entries = NULL;
    int             n = scandir(dir, &entries, NULL, alphasort);
    Tcl_DString     path;

    if (n < 0) {
        Ns_Log(Debug, "tcl: no library directory %s", dir);
        return;
    }
    Tcl_DStringInit(&path);
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < n; i++) {
            const char *name = entries[i]->d_name;
            size_t      len = strlen(name);
            bool        isInit = (strcmp(name, "init.tcl") == 0);

            if (len < 5 || strcmp(name + len - 4, ".tcl") != 0 || isInit != (pass == 0)) {
                continue;
            }
            Tcl_DStringSetLength(&path, 0);
            Tcl_DStringAppend(&path, dir, -1);
            Tcl_DStringAppend(&path, "/", 1);
            Tcl_DStringAppend(&path, name, -1);
            (void)NsTclEvalFile(interp, Tcl_DStringValue(&path));
        }
    }
    for (int i = 0; i < n; i++) {
        free(entries[i]);
    }
    free(entries);
    Tcl_DStringFree(&path);
}

/*
 *----------------------------------------------------------------------
 * NsTclEvalFile --
 *
 *      Source a file, logging an error with its stack.
 *----------------------------------------------------------------------
 */
Ns_ReturnCode
NsTclEvalFile(Tcl_Interp *interp, const char *path)
{
    Ns_ReturnCode result = NS_OK;

    if (Tcl_EvalFile(interp, path) != TCL_OK) {
        Ns_TclLogErrorInfo(interp, path);
        result = NS_ERROR;
    }
    return result;
}

/*
 *----------------------------------------------------------------------
 * NsTclInitServer --
 *
 *      Build the server's blueprint: source the global Tcl library
 *      (ns/parameters tcllibrary) and each module's Tcl directory
 *      (serverlibrary/NAME for every entry of ns/server/S/modules) in an
 *      init interp, and keep the script that recreates what they defined.
 *----------------------------------------------------------------------
 */
void
NsTclInitServer(NsServer *servPtr, const char *globalLibrary)
{
    Tcl_Interp   *interp = CreateInterp(servPtr, false);
    NsInterp     *itPtr = NsGetInterpData(interp);
    const Ns_Set *modules = Ns_ConfigGetSection(servPtr->modulesSection);
    Tcl_Obj      *beforeObj;
    Tcl_DString   dir;

    itPtr->initInterp = true;
    Tcl_DStringInit(&servPtr->initScript);
    if (Tcl_EvalEx(interp, blueprintScript, -1, TCL_EVAL_GLOBAL) != TCL_OK
        || Tcl_EvalEx(interp, "::nsd::_state", -1, TCL_EVAL_GLOBAL) != TCL_OK) {
        Ns_Fatal("tcl: blueprint: %s", Tcl_GetStringResult(interp));
    }
    beforeObj = Tcl_GetObjResult(interp);
    Tcl_IncrRefCount(beforeObj);

    SourceDir(interp, globalLibrary);
    Tcl_DStringInit(&dir);
    for (size_t i = 0; modules != NULL && i < Ns_SetSize(modules); i++) {
        Tcl_DStringSetLength(&dir, 0);
        Tcl_DStringAppend(&dir, servPtr->library, -1);
        Tcl_DStringAppend(&dir, "/", 1);
        Tcl_DStringAppend(&dir, Ns_SetKey(modules, i), -1);
        SourceDir(interp, Tcl_DStringValue(&dir));
    }
    Tcl_DStringFree(&dir);

    {
        Tcl_Obj *cmd[2];

        cmd[0] = Tcl_NewStringObj("::nsd::_blueprint", -1);
        cmd[1] = beforeObj;
        Tcl_IncrRefCount(cmd[0]);
        if (Tcl_EvalObjv(interp, 2, cmd, TCL_EVAL_GLOBAL) != TCL_OK) {
            Ns_Fatal("tcl: blueprint: %s", Tcl_GetStringResult(interp));
        }
        Tcl_DecrRefCount(cmd[0]);
    }
    Tcl_DStringAppend(&servPtr->initScript, Tcl_GetStringResult(interp), -1);
    Tcl_DecrRefCount(beforeObj);
    Tcl_DeleteInterp(interp);
    Ns_Log(Notice, "tcl: server %s: blueprint of %d bytes", servPtr->name,
           Tcl_DStringLength(&servPtr->initScript));
}

/*
 *----------------------------------------------------------------------
 * NsTclConnInterp --
 *
 *      This thread's interp for the server, created on first use and kept
 *      for the life of the thread.
 *----------------------------------------------------------------------
 */
Tcl_Interp *
NsTclConnInterp(NsServer *servPtr)
{
    ThreadInterp *tiPtr;

    for (tiPtr = threadInterps; tiPtr != NULL; tiPtr = tiPtr->nextPtr) {
        if (tiPtr->servPtr == servPtr) {
            return tiPtr->interp;
        }
    }
    tiPtr = ckalloc(sizeof(ThreadInterp));
    tiPtr->servPtr = servPtr;
    tiPtr->interp = CreateInterp(servPtr, true);
    tiPtr->nextPtr = threadInterps;
    threadInterps = tiPtr;
    return tiPtr->interp;
}

/*
 *----------------------------------------------------------------------
 * NsTclFreeThreadInterps --
 *
 *      Delete this thread's interps (at thread exit).
 *----------------------------------------------------------------------
 */
void
NsTclFreeThreadInterps(void)
{
    while (threadInterps != NULL) {
        ThreadInterp *tiPtr = threadInterps;

        threadInterps = tiPtr->nextPtr;
        Tcl_DeleteInterp(tiPtr->interp);
        ckfree(tiPtr);
    }
}

/*
 *----------------------------------------------------------------------
 * NsTclRunCleanup --
 *
 *      Make a connection interp clean for the next request: free the
 *      request's dynamic ns_sets and unset globals it created.
 *----------------------------------------------------------------------
 */
void
NsTclRunCleanup(Tcl_Interp *interp)
{
    const NsInterp *itPtr = NsGetInterpData(interp);

    if (Tcl_EvalEx(interp, "ns_set cleanup", -1, TCL_EVAL_GLOBAL) != TCL_OK) {
        Ns_TclLogErrorInfo(interp, "cleanup");
    }
    if (itPtr->globalsObj != NULL
        && Tcl_EvalEx(interp, "info globals", -1, TCL_EVAL_GLOBAL) == TCL_OK) {
        Tcl_Obj  *nowObj = Tcl_GetObjResult(interp);
        Tcl_Obj **names;
        int       n;

        Tcl_IncrRefCount(nowObj);
        if (Tcl_ListObjGetElements(NULL, nowObj, &n, &names) == TCL_OK) {
            Tcl_Obj **kept;
            int       nkept;

            Tcl_ListObjGetElements(NULL, itPtr->globalsObj, &nkept, &kept);
            for (int i = 0; i < n; i++) {
                const char *name = Tcl_GetString(names[i]);
                bool        keep = false;

                for (int j = 0; j < nkept && !keep; j++) {
                    keep = (strcmp(name, Tcl_GetString(kept[j])) == 0);
                }
                if (!keep) {
                    Tcl_UnsetVar2(interp, name, NULL, TCL_GLOBAL_ONLY);
                }
            }
        }
        Tcl_DecrRefCount(nowObj);
    }
    Tcl_ResetResult(interp);
}

/*
 * Public API.
 */

Tcl_Interp *
Ns_TclAllocateInterp(const char *server)
{
    NsServer *servPtr = (server != NULL) ? NsGetServer(server) : NsDefaultServer();

    return (servPtr != NULL) ? CreateInterp(servPtr, true) : NULL;
}

Tcl_Interp *
Ns_TclThreadInterp(const char *server)
{
    NsServer *servPtr = (server != NULL) ? NsGetServer(server) : NsDefaultServer();

    return (servPtr != NULL) ? NsTclConnInterp(servPtr) : NULL;
}

void
Ns_TclDeAllocateInterp(Tcl_Interp *interp)
{
    Tcl_DeleteInterp(interp);
}

const char *
Ns_TclInterpServer(Tcl_Interp *interp)
{
    const NsInterp *itPtr = NsGetInterpData(interp);

    return (itPtr != NULL) ? itPtr->servPtr->name : NULL;
}

Ns_Conn *
Ns_TclGetConn(Tcl_Interp *interp)
{
    const NsInterp *itPtr = NsGetInterpData(interp);

    return (itPtr != NULL) ? itPtr->connPtr : NULL;
}

/*
 *----------------------------------------------------------------------
 * Ns_TclLogErrorInfo --
 *
 *      Log the interp's error with its stack and a context (the URL, the
 *      callback...), so a failing script can be found from the log alone.
 *----------------------------------------------------------------------
 */
void
Ns_TclLogErrorInfo(Tcl_Interp *interp, const char *context)
{
    const char *info = Tcl_GetVar(interp, "errorInfo", TCL_GLOBAL_ONLY);

    Ns_Log(Error, "%s: %s", context != NULL ? context : "tcl",
           info != NULL ? info : Tcl_GetStringResult(interp));
}
