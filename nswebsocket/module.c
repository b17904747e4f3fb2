/*
 * module.c --
 *
 *      The entry point of nswebsocket.so: Ns_ModuleInit reads the module's
 *      defaults and registers its Tcl commands (ns_connchan, ws::*) in every
 *      interp of the server that loads it.
 */

#include "websocket.h"

/*
 *----------------------------------------------------------------------
 * InitInterp --
 *
 *      Create the module's commands in a new interp.
 *----------------------------------------------------------------------
 */
static Ns_ReturnCode
InitInterp(Tcl_Interp *interp, const void *UNUSED(arg))
{
    Tcl_CreateObjCommand(interp, "ns_connchan", ConnChanObjCmd, NULL, NULL);
    return WsInitInterp(interp);
}

/*
 *----------------------------------------------------------------------
 * Ns_ModuleInit --
 *
 *      Called by the host when ns/server/SERVER/modules names this file.
 *----------------------------------------------------------------------
 */
NS_EXPORT Ns_ReturnCode
Ns_ModuleInit(const char *server, const char *module)
{
    Ns_Log(Notice, "%s: nswebsocket %s for server %s", module, Ns_InfoServerVersion(), server);
    WsConfigure(server);
    return Ns_TclRegisterTrace(server, InitInterp, NULL);
}
