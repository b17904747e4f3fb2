/*
 * log.h --
 *
 *      Declarations of the server log (log.c, tcllog.c) and the access log
 *      (accesslog.c) shared with the other files of the host; what the log
 *      files share only among themselves is in logint.h.  The public half
 *      of the logging API (Ns_Log, Ns_VALog, Ns_LogSeverityEnabled,
 *      Ns_CreateLogSeverity, Ns_ThreadGetName, Ns_Fatal) is in
 *      include/ns.h.  Nothing here is for modules.
 */

#ifndef NSD_LOG_H
#define NSD_LOG_H

#include "ns.h"

/*
 * One line of the access log, filled in by the connection code when a
 * request is done.  Strings are borrowed for the duration of the call
 * only; NsAccessLogWrite escapes what the client could have chosen.
 */
typedef struct NsAccessRecord {
    const char    *peer;         /* client address */
    const char    *user;         /* authenticated user or NULL ("-") */
    const Ns_Time *start;        /* request start (wall clock), NULL: now */
    const char    *requestLine;  /* "GET /x HTTP/1.1", NULL for "-" */
    int            status;       /* e.g. 200, 101 */
    int64_t        bytesSent;    /* body bytes, -1 for "-" */
    const char    *referer;      /* NULL for "-" */
    const char    *userAgent;    /* NULL for "-" */
} NsAccessRecord;

/*
 * Name the calling thread in its log lines ("main", "driver:http",
 * "conn:default:3", "event", ...).  The name is copied (at most 63 bytes);
 * threads that never call this show "-".
 */
void        NsLogSetThreadName(const char *name);
const char *NsLogThreadName(void);

/*
 * The server log.  Until NsLogOpen succeeds, lines go to stderr.  With
 * mirrorToStderr (foreground mode) every line goes to the file and to
 * stderr.  On failure NsLogOpen writes the reason to stderr, keeps the
 * previous destination and returns NS_ERROR with errno set.
 *
 * NsLogReopen opens the server log and the access log again at the same
 * paths (after SIGHUP or an external log rotation); on failure the old
 * descriptor stays in use.  It opens files and may allocate: call it from
 * a thread, never from a signal handler.
 *
 * NsLogPath returns the server log's path or NULL; the string stays valid
 * for the life of the process.
 */
Ns_ReturnCode NsLogOpen(const char *path, bool mirrorToStderr);
Ns_ReturnCode NsLogReopen(void);
const char   *NsLogPath(void);

/*
 * Read the log parameters of a config section (normally "ns/parameters"):
 * logdebug, logdev, lognotice (severities to enable), logusec (microseconds
 * in time stamps, default true), logcolorize, logprefixcolor and
 * logprefixintensity (ANSI colors, as NaviServer).
 */
void NsLogConfigure(const char *section);

/*
 * The access log, in NCSA combined format.  NsAccessLogWrite is a no-op
 * while no access log is open.  NsAccessLogPath returns NULL when none is
 * open; the string stays valid for the life of the process.
 */
Ns_ReturnCode NsAccessLogOpen(const char *path);
const char   *NsAccessLogPath(void);
void          NsAccessLogWrite(const NsAccessRecord *recPtr);

/*
 * Tcl commands: ns_log, ns_logctl, ns_logroll (tcllog.c), ns_accesslog
 * (accesslog.c).
 */
Tcl_ObjCmdProc NsTclLogObjCmd, NsTclLogCtlObjCmd, NsTclLogRollObjCmd, NsTclAccessLogObjCmd;

#endif /* NSD_LOG_H */
