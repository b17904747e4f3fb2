/*
 * modload.c --
 *
 *      Loading the C modules of a server: entries "NAME FILE.so" of
 *      ns/server/SERVER/modules are dlopen'ed (relative names from the
 *      server's bin directory) and their Ns_ModuleInit(server, module) is
 *      called.  "NAME tcl" entries have no C part; their Tcl directory is
 *      sourced by tclinit.c, as it is for C modules that have one.
 */

#include "nsd.h"

#include <dlfcn.h>

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
