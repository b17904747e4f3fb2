/*
 * logint.h --
 *
 *      Declarations shared by the files of the logging code only, and by
 *      nothing else in the host (which uses log.h): the line buffers and
 *      log files of logfile.c, on which the server log (log.c) and the
 *      access log (accesslog.c) are both built, the severity table of
 *      logseverity.c, and what the Tcl commands of tcllog.c need of log.c.
 */

#ifndef NSD_LOGINT_H
#define NSD_LOGINT_H

#include "nsd.h"

#include <pthread.h>
#include <time.h>

#define LOG_LINE_STACK_SIZE  8192    /* longer lines are allocated */

/*
 * A path of an open log.  Callers of NsLogPath keep the string without a
 * lock, so a path is never freed: a newer one chains the older ones.
 */
typedef struct PathRec {
    struct PathRec *olderPtr;        /* path this one replaced, or NULL */
    char            path[];          /* NUL-terminated */
} PathRec;

/*
 * An open log file: the server log or the access log.
 */
typedef struct LogFile {
    pthread_mutex_t  lock;           /* protects the fields below; the write(2) of
                                      * a line is the only I/O done under it */
    int              fd;             /* open descriptor, -1: none */
    bool             mirror;         /* server log: copy every line to stderr */
    PathRec         *pathPtr;        /* path of fd, NULL: none */
} LogFile;

#define LOG_FILE_INITIALIZER {PTHREAD_MUTEX_INITIALIZER, -1, false, NULL}

/*
 * A line under construction: in stackBuf while it fits, then on the heap.
 * Must not be copied (data may point into it).
 */
typedef struct LineBuf {
    char   *data;                    /* stackBuf or malloc'ed */
    size_t  length;                  /* bytes used, without the NUL */
    size_t  size;                    /* bytes available at data */
    char    stackBuf[LOG_LINE_STACK_SIZE];
} LineBuf;

/*
 * logfile.c: building a line (it always ends in a newline, even when
 * memory runs out), the date both logs write, and log files that are
 * written one whole line per write(2) and can be reopened at their path.
 */
void NsLogLineInit(LineBuf *lbPtr);
void NsLogLineFree(LineBuf *lbPtr);
void NsLogLineAppend(LineBuf *lbPtr, const char *bytes, size_t length);
void NsLogLineVPrintf(LineBuf *lbPtr, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
void NsLogLineEnd(LineBuf *lbPtr);

int  NsLogFormatTime(char *buf, size_t size, time_t sec, long *gmtoffPtr);

void          NsLogWriteAll(int fd, const char *bytes, size_t length);
Ns_ReturnCode NsLogFileOpen(LogFile *filePtr, const char *path, bool mirror);
Ns_ReturnCode NsLogFileReopen(LogFile *filePtr);
const char   *NsLogFilePath(LogFile *filePtr);

/*
 * ANSI colors of "ns_logctl severity -color/-intensity" and the config
 * parameters logprefixcolor/logprefixintensity, as NaviServer.
 */
typedef enum {
    COLOR_BLACK   = 30,
    COLOR_RED     = 31,
    COLOR_GREEN   = 32,
    COLOR_YELLOW  = 33,
    COLOR_BLUE    = 34,
    COLOR_MAGENTA = 35,
    COLOR_CYAN    = 36,
    COLOR_GRAY    = 37,
    COLOR_DEFAULT = 39
} LogColor;

enum {
    INTENSITY_NORMAL = 0,
    INTENSITY_BRIGHT = 1
};

/*
 * logseverity.c: the severity table, for the writer of lines (log.c) and
 * for ns_log and ns_logctl.  NsLogFindSeverity takes exact names,
 * predefined names in any case and legacy numbers, and returns -1 when
 * there is none; NsLogCreateSeverity returns NULL or why the name cannot
 * be created.  NsLogSetSeverity leaves each of enabled, color and
 * intensity alone when it is -1, and returns the state before.
 */
extern Ns_ObjvTable nsLogColorTable[];       /* names of the LogColors */
extern Ns_ObjvTable nsLogIntensityTable[];   /* names of the intensities */

Ns_LogSeverity NsLogFindSeverity(const char *name);
const char    *NsLogCreateSeverity(const char *name, Ns_LogSeverity *severityPtr);
int            NsLogNumSeverities(void);
const char    *NsLogSeverityName(Ns_LogSeverity severity);
long           NsLogSeverityCount(Ns_LogSeverity severity);
bool           NsLogSetSeverity(Ns_LogSeverity severity, int enabled, int color,
                                int intensity);
void           NsLogCountLine(Ns_LogSeverity severity);
bool           NsLogSeverityColors(Ns_LogSeverity severity, int *colorPtr,
                                   int *intensityPtr);

/*
 * log.c: append the keys of a table to dsPtr, separated ("normal|bright").
 */
void           NsLogAppendTableKeys(Tcl_DString *dsPtr, const Ns_ObjvTable *tablePtr,
                                    const char *separator);

/*
 * log.c: the calling thread's hold buffer ("ns_logctl hold"), and
 * reopening the server log at its path (logs a failure, keeps errno).
 */
bool          NsLogHold(void);
int           NsLogHeldCount(void);
void          NsLogFlushHeld(bool release);
void          NsLogGetHeld(Tcl_DString *dsPtr, bool drop);
void          NsLogTruncateHeld(int keep);
Ns_ReturnCode NsLogReopenServerLog(void);

/*
 * tcllog.c: leave "<message> "<arg>": <reason>" (arg may be NULL) in the
 * interp with -errorcode {POSIX ENAME reason}, for the log commands.
 */
void NsLogSetPosixError(Tcl_Interp *interp, int errnum, const char *message,
                        const char *arg);

/*
 * accesslog.c: open the access log again at its path, for NsLogReopen;
 * logs a failure and keeps errno.
 */
Ns_ReturnCode NsAccessLogReopen(void);

#endif /* NSD_LOGINT_H */
