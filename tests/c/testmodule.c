/*
 * testmodule.c --
 *
 *      A tiny C module for tests/modules.test: it shows that a module built
 *      against include/ns.h alone loads into nsd, that its Ns_ModuleInit is
 *      called with the server and module names, and that a command it
 *      registers with Ns_TclRegisterTrace exists in the server's interps.
 *      A module whose name starts with "fail" refuses to initialise, so the
 *      tests can see what a failing module does to the start-up.
 */

#include "ns.h"

/* What one loaded instance of the module knows: its names. */
typedef struct TestModule {
    char *server;   /* virtual server the module was loaded into */
    char *module;   /* module name from ns/server/SERVER/modules */
} TestModule;

NS_EXPORT Ns_ModuleInitProc Ns_ModuleInit;

static Tcl_ObjCmdProc HelloObjCmd;
static Ns_TclTraceProc AddCommands;

/*
 *----------------------------------------------------------------------
 * Ns_ModuleInit --
 *
 *      The module's entry point: remember the names and have the command
 *      created in every interp of the server.
 *
 * Results:
 *      NS_OK, or NS_ERROR for a module named "fail...".
 *----------------------------------------------------------------------
 */
NS_EXPORT Ns_ReturnCode
Ns_ModuleInit(const char *server, const char *module)
{
    TestModule   *modPtr;
    Ns_ReturnCode status = NS_ERROR;

    if (strncmp(module, "fail", 4) == 0) {
        Ns_Log(Error, "%s: refusing to initialise, as asked", module);
    } else {
        modPtr = ckalloc(sizeof(TestModule));
        modPtr->server = ns_strdup(server);
        modPtr->module = ns_strdup(module);
        status = Ns_TclRegisterTrace(server, AddCommands, modPtr);
        Ns_Log(Notice, "%s: initialised for server %s", module, server);
    }
    return status;
}

/*
 *----------------------------------------------------------------------
 * AddCommands --
 *
 *      Interp trace: create testmodule.hello in a new interp.
 *----------------------------------------------------------------------
 */
static Ns_ReturnCode
AddCommands(Tcl_Interp *interp, const void *arg)
{
    Tcl_CreateObjCommand(interp, "testmodule.hello", HelloObjCmd, (ClientData)arg, NULL);
    return NS_OK;
}

/*
 *----------------------------------------------------------------------
 * HelloObjCmd --
 *
 *      testmodule.hello  -- a greeting naming the module and the server,
 *      and the interp's server as the host sees it.
 *----------------------------------------------------------------------
 */
static int
HelloObjCmd(ClientData clientData, Tcl_Interp *interp, int objc, Tcl_Obj *const objv[])
{
    const TestModule *modPtr = clientData;
    int               result = TCL_OK;

    if (objc != 1) {
        Tcl_WrongNumArgs(interp, 1, objv, NULL);
        result = TCL_ERROR;
    } else {
        const char *interpServer = Ns_TclInterpServer(interp);

        Tcl_SetObjResult(interp, Tcl_ObjPrintf("hello from module %s on server %s (interp %s)",
                                               modPtr->module, modPtr->server,
                                               interpServer != NULL ? interpServer : "-"));
    }
    return result;
}
