/*
 * modload.c --
 *
 *      Loading the C modules of a server: entries "NAME FILE.so" of
 *      ns/server/SERVER/modules are dlopen'ed (relative names from the
 *      server's bin directory) and their Ns_ModuleInit(server, module) is
 *      called.  "NAME tcl" entries have no C part; their Tcl directory is
 *      sourced by tclinit.c, as it is for C modules that have one.  The Tcl
 *      part of a module may also load its C part itself with ns_moduleload
 *      (at start-up only), as NaviServer allows.  A module is loaded once
 *      per server, however it is asked for.
 */

#include "nsd.h"

#include <dlfcn.h>

/* "server\002module" of every module loaded; start-up only, so no lock. */
static Tcl_HashTable loaded;
static bool          loadedInit = false;

/*
 *----------------------------------------------------------------------
 * MarkLoaded --
 *
 * Results:
 *      true when the module was not loaded for the server before (and is
 *      marked now).
 *----------------------------------------------------------------------
 */
static bool
MarkLoaded(const NsServer *servPtr, const char *module)
{
    Tcl_DString key;
    int         isNew;

    if (!loadedInit) {
        Tcl_InitHashTable(&loaded, TCL_STRING_KEYS);
        loadedInit = true;
    }
    Tcl_DStringInit(&key);
    Tcl_DStringAppend(&key, servPtr->name, -1);
    Tcl_DStringAppend(&key, "\002", 1);
    Tcl_DStringAppend(&key, module, -1);
    (void)Tcl_CreateHashEntry(&loaded, Tcl_DStringValue(&key), &isNew);
    Tcl_DStringFree(&key);
    return isNew != 0;
}

/*
 *----------------------------------------------------------------------
 * LoadModule --
 *
 *      dlopen a module file and run its init proc.
 *
 * Results:
 *      NS_OK, or NS_ERROR (logged) when the file, its init proc, or the
 *      init itself fails.
 *----------------------------------------------------------------------
 */
static Ns_ReturnCode
LoadModule(const NsServer *servPtr, const char *module, const char *file)
{
    Tcl_DString        path;
    void              *handle;
    Ns_ModuleInitProc *initProc;
    Ns_ReturnCode      status = NS_ERROR;

    if (!MarkLoaded(servPtr, module)) {
        return NS_OK;
    }
    Tcl_DStringInit(&path);
    if (file[0] != '/') {
        Tcl_DStringAppend(&path, nsHome, -1);
        Tcl_DStringAppend(&path, "/bin/", -1);
    }
    Tcl_DStringAppend(&path, file, -1);
    handle = dlopen(Tcl_DStringValue(&path), RTLD_NOW | RTLD_GLOBAL);
    if (handle == NULL) {
        Ns_Log(Error, "modload: %s: cannot load %s: %s", module, Tcl_DStringValue(&path),
               dlerror());
    } else {
        *(void **)&initProc = dlsym(handle, "Ns_ModuleInit");
        if (initProc == NULL) {
            Ns_Log(Error, "modload: %s: %s has no Ns_ModuleInit", module,
                   Tcl_DStringValue(&path));
        } else if (initProc(servPtr->name, module) != NS_OK) {
            Ns_Log(Error, "modload: %s: initialisation failed", module);
        } else {
            Ns_Log(Notice, "modload: loaded %s from %s", module, Tcl_DStringValue(&path));
            status = NS_OK;
        }
    }
    Tcl_DStringFree(&path);
    return status;
}

/*
 *----------------------------------------------------------------------
 * NsLoadModules --
 *
 *      Load the server's C modules in the order the config lists them.
 *
 * Results:
 *      NS_OK, or NS_ERROR when one fails: a server missing a module the
 *      config asks for must not start half-working.
 *----------------------------------------------------------------------
 */
Ns_ReturnCode
NsLoadModules(NsServer *servPtr)
{
    const Ns_Set *modules = Ns_ConfigGetSection(servPtr->modulesSection);
    Ns_ReturnCode status = NS_OK;

    for (size_t i = 0; modules != NULL && i < Ns_SetSize(modules) && status == NS_OK; i++) {
        const char *module = Ns_SetKey(modules, i);
        const char *file = Ns_SetValue(modules, i);

        if (strcasecmp(file, "tcl") == 0 || *file == '\0') {
            continue;
        }
        if (strncmp(file, "nssock", 6) == 0 || strncmp(file, "nsssl", 5) == 0) {
            Ns_Log(Warning, "modload: %s: drivers are configured in ns/modules; ignored here",
                   module);
            continue;
        }
        status = LoadModule(servPtr, module, file);
    }
    return status;
}

/*
 *----------------------------------------------------------------------
 * NsTclModuleLoadObjCmd --
 *
 *      ns_moduleload ?-global? ?-init? ?--? /module/ /file/  -- load a C
 *      module from the Tcl part of a module, while the server starts (the
 *      init interp); its interp init procs then also run in that interp.
 *----------------------------------------------------------------------
 */
int
NsTclModuleLoadObjCmd(ClientData clientData, Tcl_Interp *interp, int objc,
                      Tcl_Obj *const objv[])
{
    const NsInterp *itPtr = clientData;
    int             global = 0, init = 0;
    char           *module = NULL, *file = NULL;
    Ns_ObjvSpec     opts[] = {
        {"-global", Ns_ObjvBool,  &global, INT2PTR(1)},
        {"-init",   Ns_ObjvBool,  &init,   INT2PTR(1)},
        {"--",      Ns_ObjvBreak, NULL,    NULL},
        {NULL, NULL, NULL, NULL}
    };
    Ns_ObjvSpec     args[] = {
        {"module", Ns_ObjvString, &module, NULL},
        {"file",   Ns_ObjvString, &file,   NULL},
        {NULL, NULL, NULL, NULL}
    };
    int result = TCL_OK;

    if (Ns_ParseObjv(opts, args, interp, 1, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else if (itPtr == NULL || !itPtr->initInterp) {
        Tcl_SetObjResult(interp, Tcl_NewStringObj("ns_moduleload: only at server start-up", -1));
        Tcl_SetErrorCode(interp, "NS", "MODULELOAD", "STARTED", (char *)0);
        result = TCL_ERROR;
    } else {
        const TraceEntry *lastPtr = itPtr->servPtr->tracesPtr;

        while (lastPtr != NULL && lastPtr->nextPtr != NULL) {
            lastPtr = lastPtr->nextPtr;
        }
        if (LoadModule(itPtr->servPtr, module, file) != NS_OK) {
            Tcl_SetObjResult(interp, Tcl_ObjPrintf("could not load module \"%s\" from \"%s\""
                                                   " (see the server log)", module, file));
            Tcl_SetErrorCode(interp, "NS", "MODULELOAD", module, (char *)0);
            result = TCL_ERROR;
        } else {
            /* This interp exists already: give it what the module adds to new ones. */
            const TraceEntry *tracePtr = (lastPtr != NULL) ? lastPtr->nextPtr
                                                           : itPtr->servPtr->tracesPtr;

            for (; tracePtr != NULL && result == TCL_OK; tracePtr = tracePtr->nextPtr) {
                if (tracePtr->proc(interp, tracePtr->arg) != NS_OK) {
                    result = TCL_ERROR;
                }
            }
        }
    }
    return result;
}
