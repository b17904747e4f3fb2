/*
 * tcllog.c --
 *
 *      The Tcl commands of the server log, as NaviServer's: ns_log (write
 *      a line), ns_logctl (severities, their switches and colors, and the
 *      per-thread hold buffer) and ns_logroll (reopen the file after a
 *      rotation).  They hold no state of their own: everything goes
 *      through the C API of log.c.  NsLogSetPosixError, the POSIX error
 *      result of the log commands, is shared with ns_accesslog.
 */

#include "logint.h"

#include <limits.h>

/*
 * What GetSeverityFromObj does with an unknown name.
 */
typedef enum {
    SEVERITY_FIND,                   /* nothing: it is an error */
    SEVERITY_CREATE_NAMED,           /* create "Debug(name)"-style names (ns_log) */
    SEVERITY_CREATE_ANY              /* create any valid name (ns_logctl severity) */
} SeverityLookup;

static int GetSeverityFromObj(Tcl_Interp *interp, Tcl_Obj *objPtr, SeverityLookup lookup,
                              Ns_LogSeverity *severityPtr);

static Tcl_ObjCmdProc LogCtlCountObjCmd, LogCtlFlushObjCmd, LogCtlGetObjCmd,
    LogCtlHoldObjCmd, LogCtlPeekObjCmd, LogCtlReleaseObjCmd, LogCtlSeveritiesObjCmd,
    LogCtlSeverityObjCmd, LogCtlStatsObjCmd, LogCtlTruncateObjCmd;
static int  LogCtlGetOrPeek(Tcl_Interp *interp, int objc, Tcl_Obj *const objv[], bool drop);
static void SeverityUsage(Tcl_Interp *interp, Tcl_Obj *const objv[]);
static bool IsWrongArgs(Tcl_Interp *interp);


/*
 *----------------------------------------------------------------------
 *
 * NsTclLogObjCmd --
 *
 *      Implements "ns_log /severity/ /message .../": log the messages,
 *      joined by spaces.  Severity names are the predefined ones in any
 *      case ("notice", "Notice"), the names of created severities, or the
 *      legacy numbers.  A name of the form "Debug(name)" is created on
 *      first use (disabled); other unknown names are an error, as in
 *      NaviServer.
 *
 * Results:
 *      Tcl result.
 *
 * Side effects:
 *      See Ns_Log.
 *
 *----------------------------------------------------------------------
 */

int
NsTclLogObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc, Tcl_Obj *const objv[])
{
    int            result = TCL_OK;
    Tcl_Obj       *severityObj = NULL;
    Ns_LogSeverity severity = Notice;
    Ns_ObjvSpec    args[] = {
        {"severity", Ns_ObjvObj,  &severityObj, NULL},
        {"message",  Ns_ObjvArgs, NULL,         NULL},
        {NULL, NULL, NULL, NULL}
    };

    if (Ns_ParseObjv(NULL, args, interp, 1, objc, objv) != NS_OK) {
        result = TCL_ERROR;

    } else if (GetSeverityFromObj(interp, severityObj, SEVERITY_CREATE_NAMED, &severity)
               != TCL_OK) {
        result = TCL_ERROR;

    } else if (Ns_LogSeverityEnabled(severity)) {
        if (objc == 3) {
            Ns_Log(severity, "%s", Tcl_GetString(objv[2]));
        } else {
            Tcl_DString ds;
            int         i;

            Tcl_DStringInit(&ds);
            for (i = 2; i < objc; i++) {
                if (i > 2) {
                    Tcl_DStringAppend(&ds, " ", 1);
                }
                Tcl_DStringAppend(&ds, Tcl_GetString(objv[i]), -1);
            }
            Ns_Log(severity, "%s", Tcl_DStringValue(&ds));
            Tcl_DStringFree(&ds);
        }
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * NsTclLogCtlObjCmd --
 *
 *      Implements "ns_logctl": the subcommands of NaviServer 5 that apply
 *      here (register, unregister and grep are not provided).
 *
 * Results:
 *      Tcl result.
 *
 * Side effects:
 *      See the subcommands.
 *
 *----------------------------------------------------------------------
 */

int
NsTclLogCtlObjCmd(ClientData clientData, Tcl_Interp *interp, int objc, Tcl_Obj *const objv[])
{
    static const Ns_SubCmdSpec subcmds[] = {
        {"count",      LogCtlCountObjCmd},
        {"flush",      LogCtlFlushObjCmd},
        {"get",        LogCtlGetObjCmd},
        {"hold",       LogCtlHoldObjCmd},
        {"peek",       LogCtlPeekObjCmd},
        {"release",    LogCtlReleaseObjCmd},
        {"severities", LogCtlSeveritiesObjCmd},
        {"severity",   LogCtlSeverityObjCmd},
        {"stats",      LogCtlStatsObjCmd},
        {"truncate",   LogCtlTruncateObjCmd},
        {NULL, NULL}
    };

    return Ns_SubcmdObjv(subcmds, clientData, interp, objc, objv);
}


/*
 *----------------------------------------------------------------------
 *
 * LogCtlCountObjCmd --
 *
 *      Implements "ns_logctl count": the number of lines this thread holds.
 *
 * Results:
 *      Tcl result.
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

static int
LogCtlCountObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                  Tcl_Obj *const objv[])
{
    int result = TCL_OK;

    if (Ns_ParseObjv(NULL, NULL, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        Tcl_SetObjResult(interp, Tcl_NewIntObj(NsLogHeldCount()));
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * LogCtlFlushObjCmd, LogCtlReleaseObjCmd --
 *
 *      Implement "ns_logctl flush" (write the held lines, keep holding) and
 *      "ns_logctl release" (write them and stop holding).
 *
 * Results:
 *      Tcl result.
 *
 * Side effects:
 *      Writes to the server log.
 *
 *----------------------------------------------------------------------
 */

static int
LogCtlFlushObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                  Tcl_Obj *const objv[])
{
    int result = TCL_OK;

    if (Ns_ParseObjv(NULL, NULL, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        NsLogFlushHeld(false);
    }
    return result;
}

static int
LogCtlReleaseObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                    Tcl_Obj *const objv[])
{
    int result = TCL_OK;

    if (Ns_ParseObjv(NULL, NULL, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        NsLogFlushHeld(true);
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * LogCtlGetObjCmd, LogCtlPeekObjCmd, LogCtlGetOrPeek --
 *
 *      Implement "ns_logctl get" (return the held lines and drop them
 *      without writing them) and "ns_logctl peek" (return a copy).
 *
 * Results:
 *      Tcl result: the lines, each ending in a newline.
 *
 * Side effects:
 *      get empties the thread's buffer.
 *
 *----------------------------------------------------------------------
 */

static int
LogCtlGetObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc, Tcl_Obj *const objv[])
{
    return LogCtlGetOrPeek(interp, objc, objv, true);
}

static int
LogCtlPeekObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc, Tcl_Obj *const objv[])
{
    return LogCtlGetOrPeek(interp, objc, objv, false);
}

static int
LogCtlGetOrPeek(Tcl_Interp *interp, int objc, Tcl_Obj *const objv[], bool drop)
{
    int result = TCL_OK;

    if (Ns_ParseObjv(NULL, NULL, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        Tcl_DString ds;

        Tcl_DStringInit(&ds);
        NsLogGetHeld(&ds, drop);
        Tcl_DStringResult(interp, &ds);
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * LogCtlHoldObjCmd --
 *
 *      Implements "ns_logctl hold": from now on this thread's lines are
 *      kept in its buffer until flush, release, get or truncate (or the
 *      thread's end, which writes them).
 *
 * Results:
 *      Tcl result.
 *
 * Side effects:
 *      Allocates the thread's buffer.
 *
 *----------------------------------------------------------------------
 */

static int
LogCtlHoldObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc, Tcl_Obj *const objv[])
{
    int result = TCL_OK;

    if (Ns_ParseObjv(NULL, NULL, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else if (!NsLogHold()) {
        Ns_TclPrintfResult(interp, "could not allocate the log buffer");
        result = TCL_ERROR;
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * LogCtlTruncateObjCmd --
 *
 *      Implements "ns_logctl truncate ?/count/?": drop the held lines
 *      after the first count (default 0: all), without writing them.
 *
 * Results:
 *      Tcl result.
 *
 * Side effects:
 *      Frees held lines.
 *
 *----------------------------------------------------------------------
 */

static int
LogCtlTruncateObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                     Tcl_Obj *const objv[])
{
    int               result = TCL_OK, count = 0;
    Ns_ObjvValueRange countRange = {0, INT_MAX};
    Ns_ObjvSpec       args[] = {
        {"?count", Ns_ObjvInt, &count, &countRange},
        {NULL, NULL, NULL, NULL}
    };

    if (Ns_ParseObjv(NULL, args, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        NsLogTruncateHeld(count);
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * LogCtlSeveritiesObjCmd, LogCtlStatsObjCmd --
 *
 *      Implement "ns_logctl severities" (the names, in creation order) and
 *      "ns_logctl stats" (name and number of lines logged, per severity).
 *
 * Results:
 *      Tcl result: a list.
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

static int
LogCtlSeveritiesObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                       Tcl_Obj *const objv[])
{
    int result = TCL_OK;

    if (Ns_ParseObjv(NULL, NULL, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        int      i, n = NsLogNumSeverities();
        Tcl_Obj *listObj = Tcl_NewListObj(0, NULL);

        for (i = 0; i < n; i++) {
            Tcl_ListObjAppendElement(NULL, listObj, Tcl_NewStringObj(NsLogSeverityName(i), -1));
        }
        Tcl_SetObjResult(interp, listObj);
    }
    return result;
}

static int
LogCtlStatsObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                  Tcl_Obj *const objv[])
{
    int result = TCL_OK;

    if (Ns_ParseObjv(NULL, NULL, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        int      i, n = NsLogNumSeverities();
        Tcl_Obj *listObj = Tcl_NewListObj(0, NULL);

        for (i = 0; i < n; i++) {
            Tcl_ListObjAppendElement(NULL, listObj, Tcl_NewStringObj(NsLogSeverityName(i), -1));
            Tcl_ListObjAppendElement(NULL, listObj, Tcl_NewLongObj(NsLogSeverityCount(i)));
        }
        Tcl_SetObjResult(interp, listObj);
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * LogCtlSeverityObjCmd --
 *
 *      Implements "ns_logctl severity /severity/ ?-color c? ?-intensity i?
 *      ?true|false?", as NaviServer: query, or enable/disable a severity
 *      server-wide and set its colors.  An unknown severity is created when
 *      more arguments than its name are given.  Fatal cannot be disabled.
 *
 * Results:
 *      Tcl result: the state before the call (for a query: the state).
 *
 * Side effects:
 *      May create a severity and change its state and colors.
 *
 *----------------------------------------------------------------------
 */

static int
LogCtlSeverityObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                     Tcl_Obj *const objv[])
{
    int            result = TCL_OK, color = -1, intensity = -1, enabled = -1;
    Ns_LogSeverity severity = Notice;
    Ns_ObjvSpec    opts[] = {
        {"-color",     Ns_ObjvIndex, &color,     nsLogColorTable},
        {"-intensity", Ns_ObjvIndex, &intensity, nsLogIntensityTable},
        {"--",         Ns_ObjvBreak, NULL,       NULL},
        {NULL, NULL, NULL, NULL}
    };
    Ns_ObjvSpec    args[] = {
        {"?enabled", Ns_ObjvBool, &enabled, NULL},
        {NULL, NULL, NULL, NULL}
    };

    if (objc < 3) {
        SeverityUsage(interp, objv);
        result = TCL_ERROR;

    } else if (Ns_ParseObjv(opts, args, interp, 3, objc, objv) != NS_OK) {
        if (IsWrongArgs(interp)) {
            SeverityUsage(interp, objv);
        }
        result = TCL_ERROR;

    } else if (GetSeverityFromObj(interp, objv[2],
                                  (objc > 3) ? SEVERITY_CREATE_ANY : SEVERITY_FIND,
                                  &severity) != TCL_OK) {
        result = TCL_ERROR;

    } else {
        bool state = NsLogSetSeverity(severity, enabled, color, intensity);

        Tcl_SetObjResult(interp, Tcl_NewBooleanObj(state));
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * SeverityUsage, IsWrongArgs --
 *
 *      The usage of "ns_logctl severity", built from the option tables.
 *      The severity comes before the options, which Ns_ParseObjv cannot
 *      express, so its "wrong # args" (recognised by -errorcode TCL
 *      WRONGARGS) is replaced by this one.
 *
 * Results:
 *      IsWrongArgs: true when the interp holds a "wrong # args" error.
 *
 * Side effects:
 *      SeverityUsage sets the interp result and error code.
 *
 *----------------------------------------------------------------------
 */

static void
SeverityUsage(Tcl_Interp *interp, Tcl_Obj *const objv[])
{
    Tcl_DString ds;

    Tcl_DStringInit(&ds);
    Tcl_DStringAppend(&ds, "/severity/ ?-color ", -1);
    NsLogAppendTableKeys(&ds, nsLogColorTable, "|");
    Tcl_DStringAppend(&ds, "? ?-intensity ", -1);
    NsLogAppendTableKeys(&ds, nsLogIntensityTable, "|");
    Tcl_DStringAppend(&ds, "? ?true|false?", -1);
    Tcl_WrongNumArgs(interp, 2, objv, Tcl_DStringValue(&ds));
    Tcl_DStringFree(&ds);
}

static bool
IsWrongArgs(Tcl_Interp *interp)
{
    Tcl_Obj *optionsObj = Tcl_GetReturnOptions(interp, TCL_ERROR);
    Tcl_Obj *keyObj = Tcl_NewStringObj("-errorcode", -1);
    Tcl_Obj *codeObj = NULL;
    bool     result;

    Tcl_IncrRefCount(optionsObj);
    Tcl_IncrRefCount(keyObj);
    result = (Tcl_DictObjGet(NULL, optionsObj, keyObj, &codeObj) == TCL_OK
              && codeObj != NULL && strcmp(Tcl_GetString(codeObj), "TCL WRONGARGS") == 0);
    Tcl_DecrRefCount(keyObj);
    Tcl_DecrRefCount(optionsObj);

    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * NsTclLogRollObjCmd --
 *
 *      Implements "ns_logroll": open the server log again at its path,
 *      after an external rotation moved it away.  No-op while lines go to
 *      stderr only.  (NaviServer renames the file itself before.)
 *
 * Results:
 *      Tcl result; -errorcode POSIX ... on failure.
 *
 * Side effects:
 *      Replaces the server log's descriptor.
 *
 *----------------------------------------------------------------------
 */

int
NsTclLogRollObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                   Tcl_Obj *const objv[])
{
    int result = TCL_OK;

    if (Ns_ParseObjv(NULL, NULL, interp, 1, objc, objv) != NS_OK) {
        result = TCL_ERROR;

    } else if (NsLogReopenServerLog() != NS_OK) {
        NsLogSetPosixError(interp, errno, "could not roll server log", NULL);
        result = TCL_ERROR;

    } else if (NsLogPath() != NULL) {
        Ns_Log(Notice, "log: reopened server log '%s'", NsLogPath());
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * GetSeverityFromObj --
 *
 *      Convert a Tcl value to a severity; an unknown name is created or
 *      not according to lookup.  ns_log creates only "Debug(name)"-style
 *      names, so that a misspelt "notcie" is still an error.
 *
 * Results:
 *      TCL_OK and *severityPtr set, or TCL_ERROR with the message and
 *      -errorcode {NS LOOKUP SEVERITY name} (unknown) or {NS INVALID
 *      SEVERITY name} (cannot be created).
 *
 * Side effects:
 *      May create a severity.
 *
 *----------------------------------------------------------------------
 */

static int
GetSeverityFromObj(Tcl_Interp *interp, Tcl_Obj *objPtr, SeverityLookup lookup,
                   Ns_LogSeverity *severityPtr)
{
    int            result = TCL_OK;
    const char    *name = Tcl_GetString(objPtr);
    Ns_LogSeverity severity = NsLogFindSeverity(name);

    if (severity < 0 && lookup != SEVERITY_FIND) {
        const char *parenPtr = strchr(name, '(');
        size_t      length = strlen(name);
        bool        isNamedForm = (parenPtr != NULL && parenPtr != name
                                   && name[length - 1u] == ')');

        if (isNamedForm || lookup == SEVERITY_CREATE_ANY) {
            const char *problem = NsLogCreateSeverity(name, &severity);

            if (problem != NULL) {
                Ns_TclPrintfResult(interp, "cannot create severity \"%s\": %s", name, problem);
                Tcl_SetErrorCode(interp, "NS", "INVALID", "SEVERITY", name, (char *)NULL);
                result = TCL_ERROR;
            }
        }
    }
    if (result == TCL_OK && severity < 0) {
        Tcl_DString ds;
        int         i, n = NsLogNumSeverities();

        Tcl_DStringInit(&ds);
        Tcl_DStringAppend(&ds, "unknown severity: \"", -1);
        Tcl_DStringAppend(&ds, name, -1);
        Tcl_DStringAppend(&ds, "\": should be one of:", -1);
        for (i = 0; i < n; i++) {
            Tcl_DStringAppend(&ds, " ", 1);
            Tcl_DStringAppend(&ds, NsLogSeverityName(i), -1);
        }
        Tcl_DStringResult(interp, &ds);
        Tcl_SetErrorCode(interp, "NS", "LOOKUP", "SEVERITY", name, (char *)NULL);
        result = TCL_ERROR;
    }
    if (result == TCL_OK) {
        *severityPtr = severity;
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * NsLogSetPosixError --
 *
 *      Leave "<message> "<arg>": <reason of errnum>" (without the quoted
 *      part when arg is NULL) in the interp, with -errorcode {POSIX ENAME
 *      reason} as Tcl's own file commands do.
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      Sets the interp result and error code.
 *
 *----------------------------------------------------------------------
 */

void
NsLogSetPosixError(Tcl_Interp *interp, int errnum, const char *message, const char *arg)
{
    Tcl_DString ds;

    Tcl_DStringInit(&ds);
    Tcl_DStringAppend(&ds, message, -1);
    if (arg != NULL) {
        Tcl_DStringAppend(&ds, " \"", 2);
        Tcl_DStringAppend(&ds, arg, -1);
        Tcl_DStringAppend(&ds, "\"", 1);
    }
    Tcl_DStringAppend(&ds, ": ", 2);
    Tcl_DStringAppend(&ds, Tcl_ErrnoMsg(errnum), -1);
    Tcl_DStringResult(interp, &ds);
    Tcl_SetErrno(errnum);
    (void) Tcl_PosixError(interp);
}
