/*
 * accesslog.c --
 *
 *      The access log: one line per request in NCSA combined format,
 *      written by the connection code through NsAccessLogWrite, and the
 *      Tcl command ns_accesslog that shows, switches and rolls the file.
 *      Lines are built and written with the LineBuf and LogFile of
 *      logfile.c, so a line is one write(2) and a roll loses none.
 *
 *      Access log line (NCSA combined, local time with UTC offset):
 *          127.0.0.1 - - [22/Nov/2026:17:37:24 +0100] "GET / HTTP/1.1" 200 123 "-" "curl/7.88"
 */

#include "logint.h"

#include <inttypes.h>
#include <unistd.h>

/*
 * The access log's lock is never held together with another lock.
 */
static LogFile accessLog = LOG_FILE_INITIALIZER;

/* Set once an access log was opened: lets NsAccessLogWrite return at once. */
static atomic_bool accessLogActive = false;
/* Debug(access): access lines are mirrored into the server log, as NaviServer. */
static atomic_int  accessDebugSeverity = -1;

static void        FormatAccessLine(LineBuf *lbPtr, const NsAccessRecord *recPtr);
static void        LineAppendEscaped(LineBuf *lbPtr, const char *string);
static const char *ResolvePath(const char *path, Tcl_DString *dsPtr);

static Tcl_ObjCmdProc AccessLogFileObjCmd, AccessLogRollObjCmd;


/*
 *----------------------------------------------------------------------
 *
 * NsAccessLogOpen --
 *
 *      Open (append, create with mode 0644) the access log, replacing the
 *      one open before.
 *
 * Results:
 *      NS_OK, or NS_ERROR with errno set; the previous file stays open.
 *
 * Side effects:
 *      Logs the outcome; creates the severity Debug(access).
 *
 *----------------------------------------------------------------------
 */

Ns_ReturnCode
NsAccessLogOpen(const char *path)
{
    Ns_ReturnCode status = NsLogFileOpen(&accessLog, path, false);

    if (status != NS_OK) {
        int errnum = errno;

        Ns_Log(Error, "log: failed to open access log '%s': '%s'", path, strerror(errnum));
        errno = errnum;
    } else {
        atomic_store(&accessDebugSeverity, Ns_CreateLogSeverity("Debug(access)"));
        atomic_store(&accessLogActive, true);
        Ns_Log(Notice, "log: opened access log '%s'", path);
    }
    return status;
}


/*
 *----------------------------------------------------------------------
 *
 * NsAccessLogReopen --
 *
 *      Open the access log again at its path (SIGHUP, log rotation); the
 *      new descriptor replaces the old one under the file's lock.
 *
 * Results:
 *      NS_OK (also when no access log is open), or NS_ERROR with errno
 *      set; the old descriptor then stays in use.
 *
 * Side effects:
 *      Logs a failure.
 *
 *----------------------------------------------------------------------
 */

Ns_ReturnCode
NsAccessLogReopen(void)
{
    Ns_ReturnCode status = NsLogFileReopen(&accessLog);

    if (status != NS_OK) {
        int errnum = errno;

        Ns_Log(Error, "log: failed to reopen access log '%s': '%s'", NsAccessLogPath(),
               strerror(errnum));
        errno = errnum;
    }
    return status;
}


/*
 *----------------------------------------------------------------------
 *
 * NsAccessLogPath --
 *
 *      The path of the access log.
 *
 * Results:
 *      The path, or NULL when no access log is open.  Valid for the life
 *      of the process.
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

const char *
NsAccessLogPath(void)
{
    return NsLogFilePath(&accessLog);
}


/*
 *----------------------------------------------------------------------
 *
 * NsAccessLogWrite --
 *
 *      Write one request to the access log in NCSA combined format.
 *      Strings the client chose (request line, referer, user agent, user)
 *      are escaped: '"' and '\' get a backslash, \n \r \t are written as
 *      such, every other byte below 0x20 or from 0x7f up as \xNN.  So a
 *      hostile request can neither end a line nor close a quoted field.
 *      NaviServer escapes only " \ \n \r \t and turns ESC into BEL.
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      One write(2); with Debug(access) enabled the line is also logged
 *      to the server log.  No-op while no access log is open.
 *
 *----------------------------------------------------------------------
 */

void
NsAccessLogWrite(const NsAccessRecord *recPtr)
{
    if (recPtr != NULL && atomic_load(&accessLogActive)) {
        LineBuf        line;
        Ns_LogSeverity debugSeverity = atomic_load(&accessDebugSeverity);

        NsLogLineInit(&line);
        FormatAccessLine(&line, recPtr);

        pthread_mutex_lock(&accessLog.lock);
        if (accessLog.fd >= 0) {
            NsLogWriteAll(accessLog.fd, line.data, line.length);
        }
        pthread_mutex_unlock(&accessLog.lock);

        if (debugSeverity >= 0 && Ns_LogSeverityEnabled(debugSeverity)) {
            Ns_Log(debugSeverity, "%.*s", (int)(line.length - 1u), line.data);
        }
        NsLogLineFree(&line);
    }
}


/*
 *----------------------------------------------------------------------
 *
 * FormatAccessLine --
 *
 *      Format one NCSA combined access log line:
 *          peer - user [time +zone] "request" status bytes "referer" "agent"\n
 *      Missing values are "-"; a user with spaces or special bytes is
 *      quoted and escaped (NaviServer quotes a user with spaces).
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      Fills *lbPtr.
 *
 *----------------------------------------------------------------------
 */

static void
FormatAccessLine(LineBuf *lbPtr, const NsAccessRecord *recPtr)
{
    time_t      sec;
    long        offset;
    char        date[64], buf[96];
    int         n;
    const char *p;

    LineAppendEscaped(lbPtr, NS_STRING_EMPTY(recPtr->peer) ? "-" : recPtr->peer);
    NsLogLineAppend(lbPtr, " - ", 3u);

    if (NS_STRING_EMPTY(recPtr->user)) {
        NsLogLineAppend(lbPtr, "-", 1u);
    } else {
        bool quote = false;

        for (p = recPtr->user; *p != '\0' && !quote; p++) {
            unsigned char c = (unsigned char)*p;

            quote = (c <= 0x20u || c >= 0x7fu || c == '"' || c == '\\');
        }
        if (quote) {
            NsLogLineAppend(lbPtr, "\"", 1u);
            LineAppendEscaped(lbPtr, recPtr->user);
            NsLogLineAppend(lbPtr, "\"", 1u);
        } else {
            NsLogLineAppend(lbPtr, recPtr->user, strlen(recPtr->user));
        }
    }

    if (recPtr->start != NULL) {
        sec = recPtr->start->sec;
    } else {
        sec = time(NULL);
    }
    (void) NsLogFormatTime(date, sizeof(date), sec, &offset);
    offset /= 60;
    n = snprintf(buf, sizeof(buf), " [%s %c%02ld%02ld] \"", date,
                 offset < 0 ? '-' : '+', labs(offset) / 60, labs(offset) % 60);
    if (n > 0 && (size_t)n < sizeof(buf)) {
        NsLogLineAppend(lbPtr, buf, (size_t)n);
    }

    LineAppendEscaped(lbPtr, recPtr->requestLine != NULL ? recPtr->requestLine : "-");

    if (recPtr->bytesSent < 0) {
        n = snprintf(buf, sizeof(buf), "\" %d - \"", recPtr->status);
    } else {
        n = snprintf(buf, sizeof(buf), "\" %d %" PRId64 " \"", recPtr->status,
                     recPtr->bytesSent);
    }
    if (n > 0 && (size_t)n < sizeof(buf)) {
        NsLogLineAppend(lbPtr, buf, (size_t)n);
    }

    LineAppendEscaped(lbPtr, recPtr->referer != NULL ? recPtr->referer : "-");
    NsLogLineAppend(lbPtr, "\" \"", 3u);
    LineAppendEscaped(lbPtr, recPtr->userAgent != NULL ? recPtr->userAgent : "-");
    NsLogLineAppend(lbPtr, "\"", 1u);
    NsLogLineEnd(lbPtr);
}


/*
 *----------------------------------------------------------------------
 *
 * LineAppendEscaped --
 *
 *      Append a string chosen by a client to an access log line: '"' and
 *      '\' are preceded by '\', newline, return and tab become \n \r \t,
 *      other bytes below 0x20 and from 0x7f up become \xNN (as Apache does).
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      Appends to the line.
 *
 *----------------------------------------------------------------------
 */

static void
LineAppendEscaped(LineBuf *lbPtr, const char *string)
{
    static const char hexDigits[] = "0123456789abcdef";
    const char       *runStart = string, *p;

    for (p = string; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;
        char          escape[4];
        size_t        escapeLength = 2u;

        if (c >= 0x20u && c < 0x7fu && c != '"' && c != '\\') {
            continue;
        }
        NsLogLineAppend(lbPtr, runStart, (size_t)(p - runStart));
        runStart = p + 1;

        escape[0] = '\\';
        switch (c) {
        case '"':  escape[1] = '"';  break;
        case '\\': escape[1] = '\\'; break;
        case '\n': escape[1] = 'n';  break;
        case '\r': escape[1] = 'r';  break;
        case '\t': escape[1] = 't';  break;
        default:
            escape[1] = 'x';
            escape[2] = hexDigits[c >> 4];
            escape[3] = hexDigits[c & 0x0fu];
            escapeLength = 4u;
            break;
        }
        NsLogLineAppend(lbPtr, escape, escapeLength);
    }
    NsLogLineAppend(lbPtr, runStart, (size_t)(p - runStart));
}


/*
 *----------------------------------------------------------------------
 *
 * NsTclAccessLogObjCmd --
 *
 *      Implements "ns_accesslog file ?/filepath/?" and "ns_accesslog roll
 *      ?/filepath/?".  NaviServer's rollfmt, maxbackup, maxbuffer, flags
 *      and extendedheaders have no counterpart here.
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
NsTclAccessLogObjCmd(ClientData clientData, Tcl_Interp *interp, int objc,
                     Tcl_Obj *const objv[])
{
    static const Ns_SubCmdSpec subcmds[] = {
        {"file", AccessLogFileObjCmd},
        {"roll", AccessLogRollObjCmd},
        {NULL, NULL}
    };

    return Ns_SubcmdObjv(subcmds, clientData, interp, objc, objv);
}


/*
 *----------------------------------------------------------------------
 *
 * AccessLogFileObjCmd --
 *
 *      Implements "ns_accesslog file ?/filepath/?": the access log's path;
 *      with a path, the access log is opened there first (relative paths
 *      are taken from the server's home).
 *
 * Results:
 *      Tcl result: the path, "" when no access log is open.
 *
 * Side effects:
 *      May switch the access log to another file.
 *
 *----------------------------------------------------------------------
 */

static int
AccessLogFileObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                    Tcl_Obj *const objv[])
{
    int         result = TCL_OK;
    char       *path = NULL;
    Ns_ObjvSpec args[] = {
        {"?filepath", Ns_ObjvString, &path, NULL},
        {NULL, NULL, NULL, NULL}
    };

    if (Ns_ParseObjv(NULL, args, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;

    } else if (path != NULL) {
        Tcl_DString ds;
        const char *fullPath;

        Tcl_DStringInit(&ds);
        fullPath = ResolvePath(path, &ds);
        if (NsAccessLogOpen(fullPath) != NS_OK) {
            NsLogSetPosixError(interp, errno, "could not open access log", fullPath);
            result = TCL_ERROR;
        }
        Tcl_DStringFree(&ds);
    }
    if (result == TCL_OK) {
        const char *current = NsAccessLogPath();

        Tcl_SetObjResult(interp, Tcl_NewStringObj(current != NULL ? current : "", -1));
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * AccessLogRollObjCmd --
 *
 *      Implements "ns_accesslog roll ?/filepath/?": open the access log
 *      again at its path (after an external rotation); with a path, first
 *      move the current file there (NaviServer's nslog does the same; the
 *      target must not exist).  No-op while no access log is open.
 *
 * Results:
 *      Tcl result; -errorcode POSIX ... on failure.
 *
 * Side effects:
 *      Renames the file, replaces the descriptor.
 *
 *----------------------------------------------------------------------
 */

static int
AccessLogRollObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                    Tcl_Obj *const objv[])
{
    int         result = TCL_OK;
    char       *path = NULL;
    const char *current;
    Ns_ObjvSpec args[] = {
        {"?filepath", Ns_ObjvString, &path, NULL},
        {NULL, NULL, NULL, NULL}
    };

    if (Ns_ParseObjv(NULL, args, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;

    } else if ((current = NsAccessLogPath()) != NULL) {
        Tcl_DString ds;
        int         errnum = 0;

        Tcl_DStringInit(&ds);
        if (path != NULL) {
            const char *target = ResolvePath(path, &ds);

            /*
             * rename(2) would silently replace an existing file: an older
             * log the administrator wants to keep.
             */
            if (access(target, F_OK) == 0) {
                errnum = EEXIST;
            } else if (rename(current, target) != 0) {
                errnum = errno;
            }
        }
        if (errnum == 0 && NsLogFileReopen(&accessLog) != NS_OK) {
            errnum = errno;
        }
        if (errnum != 0) {
            Ns_Log(Error, "log: failed to roll access log '%s': '%s'", current,
                   strerror(errnum));
            NsLogSetPosixError(interp, errnum, "could not roll", current);
            result = TCL_ERROR;
        } else {
            Ns_Log(Notice, "log: reopened access log '%s'", current);
        }
        Tcl_DStringFree(&ds);
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * ResolvePath --
 *
 *      Make a path given to a Tcl command absolute: relative paths are
 *      taken from the server's home, as NaviServer's ns_accesslog does.
 *
 * Results:
 *      The path to use (path itself or the contents of dsPtr).
 *
 * Side effects:
 *      May fill dsPtr.
 *
 *----------------------------------------------------------------------
 */

static const char *
ResolvePath(const char *path, Tcl_DString *dsPtr)
{
    const char *result = path;
    const char *home;

    if (path[0] != '/' && (home = Ns_InfoHomePath()) != NULL && home[0] != '\0') {
        Tcl_DStringAppend(dsPtr, home, -1);
        Tcl_DStringAppend(dsPtr, "/", 1);
        Tcl_DStringAppend(dsPtr, path, -1);
        result = Tcl_DStringValue(dsPtr);
    }
    return result;
}
