/*
 * log.c --
 *
 *      The server log and its C API (Ns_Log, Ns_Fatal, Ns_ThreadGetName):
 *      the formatting and writing of log lines, thread names, the
 *      per-thread hold buffer of "ns_logctl hold", the log parameters of
 *      the config, and reopening for log rotation.  The severity table is
 *      in logseverity.c, the line buffers and log files the log is written
 *      through in logfile.c, its Tcl commands (ns_log, ns_logctl,
 *      ns_logroll) in tcllog.c, and the access log in accesslog.c.
 *
 *      A line is formatted completely in the calling thread (in a stack
 *      buffer when it fits) and then written with one write(2) while the
 *      file's lock is held, so lines of different threads never interleave
 *      and a reopen never closes a descriptor under a writer.  That write is
 *      the only I/O done under a lock here; nothing done under a lock logs,
 *      calls Tcl or allocates.
 *
 *      Server log line (as NaviServer's, local time, logusec on):
 *          [22/Nov/2026:17:37:24.123456][1234.7f12ab3c0640][conn:default:3] Notice: text
 */

#include "logint.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#define LOG_THREADNAME_SIZE  64      /* thread names: at most 63 bytes */
#define LOG_PREFIX_SIZE      320     /* time, pid, thread, severity, colors */

/*
 * The lines a thread holds back after "ns_logctl hold".  Only its own
 * thread touches a LogCache, so it has no lock.
 */
typedef struct LogEntry {
    struct LogEntry *nextPtr;        /* next line, in logging order */
    size_t           length;         /* bytes of line, newline included */
    char             line[];         /* formatted line, NUL-terminated */
} LogEntry;

typedef struct LogCache {
    bool      hold;                  /* keep lines instead of writing them */
    int       count;                 /* number of entries */
    LogEntry *firstPtr;              /* oldest held line */
    LogEntry *lastPtr;               /* newest held line */
} LogCache;

/*
 * Locks: serverLog.lock is never held together with another lock (the
 * severities' or the access log's), so there is no order to keep.
 */

static LogFile serverLog = LOG_FILE_INITIALIZER;

/* Line format switches from NsLogConfigure. */
static atomic_bool logUsec = true;
static atomic_bool logColorize = false;
static atomic_int  prefixColor = COLOR_GREEN;
static atomic_int  prefixIntensity = INTENSITY_NORMAL;

/* Per-thread state: the name, the formatted current second, the hold buffer. */
static _Thread_local char      threadName[LOG_THREADNAME_SIZE] = "-";
static _Thread_local time_t    stampSecond = (time_t)-1;
static _Thread_local char      stampText[64];
static _Thread_local LogCache *threadCachePtr = NULL;

/* Frees the hold buffer of an exiting thread (after writing what it holds). */
static pthread_once_t cacheKeyOnce = PTHREAD_ONCE_INIT;
static pthread_key_t  cacheKey;

/*
 * Local functions defined in this file.
 */

static void   FormatLogLine(LineBuf *lbPtr, Ns_LogSeverity severity, const char *fmt,
                            va_list ap)
    __attribute__((format(printf, 3, 0)));
static size_t FormatLogStamp(char *buf, size_t size, const struct timespec *tsPtr);

static void   WriteLocked(const char *bytes, size_t length);
static void   WriteServerLog(const char *bytes, size_t length);
static void   LogToStderr(Ns_LogSeverity severity, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void      CreateCacheKey(void);
static void      FreeCache(void *arg);
static LogCache *GetCache(bool create);
static void      CacheAppend(LogCache *cachePtr, const char *bytes, size_t length);
static void      CacheFlush(LogCache *cachePtr);
static void      CacheTruncate(LogCache *cachePtr, int keep);

static void ConfigTableValue(const char *section, const char *key,
                             const Ns_ObjvTable *tablePtr, atomic_int *destPtr);


/*
 *----------------------------------------------------------------------
 *
 * Ns_Log, Ns_VALog --
 *
 *      Format a message and write it as one line to the server log (or to
 *      stderr before NsLogOpen), unless its severity is disabled.  While
 *      the thread holds its lines ("ns_logctl hold") the line is kept in
 *      the thread's buffer instead; a Fatal line first writes what is held.
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      Counts the line for "ns_logctl stats".  errno is preserved, so
 *      callers may log before they look at it.
 *
 *----------------------------------------------------------------------
 */

void
Ns_Log(Ns_LogSeverity severity, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    Ns_VALog(severity, fmt, ap);
    va_end(ap);
}

void
Ns_VALog(Ns_LogSeverity severity, const char *fmt, va_list ap)
{
    if (Ns_LogSeverityEnabled(severity)) {
        int       savedErrno = errno;
        LogCache *cachePtr = GetCache(false);
        LineBuf   line;

        NsLogCountLine(severity);
        NsLogLineInit(&line);
        FormatLogLine(&line, severity, fmt, ap);

        if (cachePtr != NULL && cachePtr->hold && severity != Fatal) {
            CacheAppend(cachePtr, line.data, line.length);
        } else {
            if (cachePtr != NULL && severity == Fatal) {
                /*
                 * The process is about to end: the held lines are what led
                 * up to it.
                 */
                CacheFlush(cachePtr);
            }
            WriteServerLog(line.data, line.length);
        }
        NsLogLineFree(&line);
        errno = savedErrno;
    }
}


/*
 *----------------------------------------------------------------------
 *
 * Ns_Fatal --
 *
 *      Log a message with severity Fatal and end the process.
 *
 * Results:
 *      Does not return.
 *
 * Side effects:
 *      _exit(1): no exit handlers run, as in NaviServer.
 *
 *----------------------------------------------------------------------
 */

void
Ns_Fatal(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    Ns_VALog(Fatal, fmt, ap);
    va_end(ap);

    _exit(1);
}


/*
 *----------------------------------------------------------------------
 *
 * NsLogSetThreadName, NsLogThreadName --
 *
 *      Set or get the name the calling thread shows in its log lines.
 *
 * Results:
 *      NsLogThreadName: the name, "-" when none was set.
 *
 * Side effects:
 *      The name is copied, truncated to 63 bytes; control characters are
 *      replaced by '?' so that a name cannot break a log line.
 *
 *----------------------------------------------------------------------
 */

void
NsLogSetThreadName(const char *name)
{
    size_t i = 0u;

    if (NS_STRING_EMPTY(name)) {
        name = "-";
    }
    for (; name[i] != '\0' && i < sizeof(threadName) - 1u; i++) {
        unsigned char c = (unsigned char)name[i];

        threadName[i] = (c < 0x20u || c == 0x7fu) ? '?' : (char)c;
    }
    threadName[i] = '\0';
}

const char *
NsLogThreadName(void)
{
    return threadName;
}


/*
 *----------------------------------------------------------------------
 *
 * Ns_ThreadGetName --
 *
 *      The name the log shows for the calling thread ("conn:default:3",
 *      "event", ...), for modules that want to name it themselves, e.g.
 *      in their own messages.
 *
 * Results:
 *      The name, "-" when none was set.  It belongs to the thread and
 *      changes when the thread is renamed: copy it to keep it.
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

const char *
Ns_ThreadGetName(void)
{
    return NsLogThreadName();
}


/*
 *----------------------------------------------------------------------
 *
 * NsLogOpen --
 *
 *      Open (append, create with mode 0644) the server log; from now on
 *      lines go there, and with mirrorToStderr to stderr as well.  A log
 *      opened before is closed.
 *
 * Results:
 *      NS_OK, or NS_ERROR with errno set; the previous destination stays.
 *
 * Side effects:
 *      On failure, an Error line goes to stderr.
 *
 *----------------------------------------------------------------------
 */

Ns_ReturnCode
NsLogOpen(const char *path, bool mirrorToStderr)
{
    Ns_ReturnCode status = NsLogFileOpen(&serverLog, path, mirrorToStderr);

    if (status != NS_OK) {
        int errnum = errno;

        LogToStderr(Error, "log: failed to open server log '%s': '%s'", path,
                    strerror(errnum));
        errno = errnum;
    }
    return status;
}


/*
 *----------------------------------------------------------------------
 *
 * NsLogReopen --
 *
 *      Open the server log and the access log again at their paths, for
 *      SIGHUP and log rotation: the new descriptor replaces the old one
 *      under the file's lock, so no line is lost or torn.
 *
 * Results:
 *      NS_OK, or NS_ERROR (errno set) when either could not be opened; that
 *      one keeps writing to its old descriptor.
 *
 * Side effects:
 *      Logs failures.
 *
 *----------------------------------------------------------------------
 */

Ns_ReturnCode
NsLogReopen(void)
{
    Ns_ReturnCode status = NS_OK;
    int           errnum = 0;

    if (NsLogReopenServerLog() != NS_OK) {
        errnum = errno;
        status = NS_ERROR;
    }
    if (NsAccessLogReopen() != NS_OK) {
        errnum = errno;
        status = NS_ERROR;
    }
    if (status != NS_OK) {
        errno = errnum;
    }
    return status;
}


/*
 *----------------------------------------------------------------------
 *
 * NsLogReopenServerLog --
 *
 *      Open the server log again at its path (NsLogReopen, ns_logroll);
 *      the new descriptor replaces the old one under the file's lock.
 *
 * Results:
 *      NS_OK (also while lines go to stderr only), or NS_ERROR with errno
 *      set; the old descriptor then stays in use.
 *
 * Side effects:
 *      Logs a failure.
 *
 *----------------------------------------------------------------------
 */

Ns_ReturnCode
NsLogReopenServerLog(void)
{
    Ns_ReturnCode status = NsLogFileReopen(&serverLog);

    if (status != NS_OK) {
        int errnum = errno;

        Ns_Log(Error, "log: failed to reopen server log '%s': '%s'", NsLogPath(),
               strerror(errnum));
        errno = errnum;
    }
    return status;
}


/*
 *----------------------------------------------------------------------
 *
 * NsLogPath --
 *
 *      The path of the server log.
 *
 * Results:
 *      The path, or NULL when that log is not open.  Valid for the life of
 *      the process.
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

const char *
NsLogPath(void)
{
    return NsLogFilePath(&serverLog);
}


/*
 *----------------------------------------------------------------------
 *
 * NsLogConfigure --
 *
 *      Read the log parameters of a config section, as NaviServer reads
 *      them from ns/parameters: logdebug, logdev, lognotice, logusec,
 *      logcolorize, logprefixcolor, logprefixintensity.
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      Enables or disables Debug, Dev and Notice; changes the line format.
 *      Invalid color names are logged and ignored.
 *
 *----------------------------------------------------------------------
 */

void
NsLogConfigure(const char *section)
{
    (void) NsLogSetSeverity(Debug, Ns_ConfigBool(section, "logdebug", false), -1, -1);
    (void) NsLogSetSeverity(Dev, Ns_ConfigBool(section, "logdev", false), -1, -1);
    (void) NsLogSetSeverity(Notice, Ns_ConfigBool(section, "lognotice", true), -1, -1);

    /*
     * NaviServer's default for logusec is false; ours is true because the
     * order of events across threads is what these logs are read for.
     */
    atomic_store(&logUsec, Ns_ConfigBool(section, "logusec", true));
    atomic_store(&logColorize, Ns_ConfigBool(section, "logcolorize", false));
    ConfigTableValue(section, "logprefixcolor", nsLogColorTable, &prefixColor);
    ConfigTableValue(section, "logprefixintensity", nsLogIntensityTable, &prefixIntensity);
}


/*
 *----------------------------------------------------------------------
 *
 * FormatLogStamp --
 *
 *      Format a wall-clock time as "22/Nov/2026:17:37:24" in local time,
 *      with ".123456" when logusec is on.  The seconds part is cached per
 *      thread: most lines share their second with the line before.
 *
 * Results:
 *      Bytes written to buf (NUL-terminated, truncated to size).
 *
 * Side effects:
 *      Updates the thread's cache.
 *
 *----------------------------------------------------------------------
 */

static size_t
FormatLogStamp(char *buf, size_t size, const struct timespec *tsPtr)
{
    int n;

    if (tsPtr->tv_sec != stampSecond) {
        n = NsLogFormatTime(stampText, sizeof(stampText), tsPtr->tv_sec, NULL);
        stampSecond = (n > 0) ? tsPtr->tv_sec : (time_t)-1;
    }
    if (atomic_load_explicit(&logUsec, memory_order_relaxed)) {
        n = snprintf(buf, size, "%s.%06ld", stampText, (long)(tsPtr->tv_nsec / 1000));
    } else {
        n = snprintf(buf, size, "%s", stampText);
    }
    return (n < 0) ? 0u : ((size_t)n < size ? (size_t)n : size - 1u);
}


/*
 *----------------------------------------------------------------------
 *
 * FormatLogLine --
 *
 *      Format a whole server log line:
 *          [time][pid.threadid][threadname] Severity: message\n
 *      With logcolorize, the prefix and the severity get ANSI colors as in
 *      NaviServer.  The message is written as it is, newlines included.
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
FormatLogLine(LineBuf *lbPtr, Ns_LogSeverity severity, const char *fmt, va_list ap)
{
    struct timespec ts;
    char            stamp[96], prefix[LOG_PREFIX_SIZE];
    int             color = COLOR_DEFAULT, intensity = INTENSITY_NORMAL, n;
    bool            colorize = (atomic_load_explicit(&logColorize, memory_order_relaxed)
                                && NsLogSeverityColors(severity, &color, &intensity));

    (void) clock_gettime(CLOCK_REALTIME, &ts);
    (void) FormatLogStamp(stamp, sizeof(stamp), &ts);

    if (colorize) {
        n = snprintf(prefix, sizeof(prefix),
                     "\033[%d;%dm[%s][%ld.%" PRIxPTR "][%s] \033[0m\033[%d;%dm%s: ",
                     atomic_load(&prefixIntensity), atomic_load(&prefixColor),
                     stamp, (long)getpid(), (uintptr_t)pthread_self(), threadName,
                     intensity, color,
                     NsLogSeverityName(severity));
    } else {
        n = snprintf(prefix, sizeof(prefix), "[%s][%ld.%" PRIxPTR "][%s] %s: ",
                     stamp, (long)getpid(), (uintptr_t)pthread_self(), threadName,
                     NsLogSeverityName(severity));
    }
    if (n > 0) {
        NsLogLineAppend(lbPtr, prefix, ((size_t)n < sizeof(prefix)) ? (size_t)n
                                                                : sizeof(prefix) - 1u);
    }
    NsLogLineVPrintf(lbPtr, fmt, ap);
    if (colorize) {
        NsLogLineAppend(lbPtr, "\033[0m", 4u);
    }
    NsLogLineEnd(lbPtr);
}


/*
 *----------------------------------------------------------------------
 *
 * WriteLocked, WriteServerLog --
 *
 *      Write a formatted line to the server log (and stderr when mirrored,
 *      or to stderr alone when no log is open).  WriteLocked expects
 *      serverLog.lock to be held.
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      I/O under serverLog.lock: this is what keeps lines whole.
 *
 *----------------------------------------------------------------------
 */

static void
WriteLocked(const char *bytes, size_t length)
{
    if (serverLog.fd >= 0) {
        NsLogWriteAll(serverLog.fd, bytes, length);
        if (serverLog.mirror) {
            NsLogWriteAll(STDERR_FILENO, bytes, length);
        }
    } else {
        NsLogWriteAll(STDERR_FILENO, bytes, length);
    }
}

static void
WriteServerLog(const char *bytes, size_t length)
{
    pthread_mutex_lock(&serverLog.lock);
    WriteLocked(bytes, length);
    pthread_mutex_unlock(&serverLog.lock);
}


/*
 *----------------------------------------------------------------------
 *
 * LogToStderr --
 *
 *      Format a log line and write it to stderr only, whatever the server
 *      log is: for failures to open the server log itself.
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      I/O.
 *
 *----------------------------------------------------------------------
 */

static void
LogToStderr(Ns_LogSeverity severity, const char *fmt, ...)
{
    LineBuf line;
    va_list ap;

    NsLogLineInit(&line);
    va_start(ap, fmt);
    FormatLogLine(&line, severity, fmt, ap);
    va_end(ap);

    /*
     * Under the lock, so that it does not cut through a mirrored line.
     */
    pthread_mutex_lock(&serverLog.lock);
    NsLogWriteAll(STDERR_FILENO, line.data, line.length);
    pthread_mutex_unlock(&serverLog.lock);
    NsLogLineFree(&line);
}


/*
 *----------------------------------------------------------------------
 *
 * CreateCacheKey, GetCache, FreeCache --
 *
 *      The thread's hold buffer: created by "ns_logctl hold", freed when
 *      the thread ends (after writing what it still holds).  The key only
 *      serves to get FreeCache called at thread exit.
 *
 * Results:
 *      GetCache: the buffer, or NULL when there is none (and create is
 *      false, or memory ran out).
 *
 * Side effects:
 *      Allocation; FreeCache writes to the log.
 *
 *----------------------------------------------------------------------
 */

static void
CreateCacheKey(void)
{
    (void) pthread_key_create(&cacheKey, FreeCache);
}

static LogCache *
GetCache(bool create)
{
    if (threadCachePtr == NULL && create) {
        LogCache *cachePtr = calloc(1u, sizeof(LogCache));

        if (cachePtr != NULL) {
            (void) pthread_once(&cacheKeyOnce, CreateCacheKey);
            (void) pthread_setspecific(cacheKey, cachePtr);
            threadCachePtr = cachePtr;
        }
    }
    return threadCachePtr;
}

static void
FreeCache(void *arg)
{
    LogCache *cachePtr = arg;

    CacheFlush(cachePtr);
    free(cachePtr);
    threadCachePtr = NULL;
}


/*
 *----------------------------------------------------------------------
 *
 * CacheAppend, CacheFlush, CacheTruncate --
 *
 *      Keep a formatted line; write all kept lines (in one lock hold, so
 *      they stay together) and drop them; drop all lines after the first
 *      keep ones.
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      Allocation and freeing; CacheFlush writes to the log.  A line that
 *      cannot be kept for lack of memory is written at once.
 *
 *----------------------------------------------------------------------
 */

static void
CacheAppend(LogCache *cachePtr, const char *bytes, size_t length)
{
    LogEntry *entryPtr = malloc(sizeof(LogEntry) + length + 1u);

    if (entryPtr == NULL) {
        WriteServerLog(bytes, length);
    } else {
        memcpy(entryPtr->line, bytes, length);
        entryPtr->line[length] = '\0';
        entryPtr->length = length;
        entryPtr->nextPtr = NULL;
        if (cachePtr->lastPtr != NULL) {
            cachePtr->lastPtr->nextPtr = entryPtr;
        } else {
            cachePtr->firstPtr = entryPtr;
        }
        cachePtr->lastPtr = entryPtr;
        cachePtr->count++;
    }
}

static void
CacheFlush(LogCache *cachePtr)
{
    if (cachePtr->firstPtr != NULL) {
        const LogEntry *entryPtr;

        pthread_mutex_lock(&serverLog.lock);
        for (entryPtr = cachePtr->firstPtr; entryPtr != NULL; entryPtr = entryPtr->nextPtr) {
            WriteLocked(entryPtr->line, entryPtr->length);
        }
        pthread_mutex_unlock(&serverLog.lock);
        CacheTruncate(cachePtr, 0);
    }
}

static void
CacheTruncate(LogCache *cachePtr, int keep)
{
    LogEntry *entryPtr = cachePtr->firstPtr, *lastKeptPtr = NULL;
    int       kept = 0;

    while (entryPtr != NULL && kept < keep) {
        lastKeptPtr = entryPtr;
        entryPtr = entryPtr->nextPtr;
        kept++;
    }
    while (entryPtr != NULL) {
        LogEntry *nextPtr = entryPtr->nextPtr;

        free(entryPtr);
        entryPtr = nextPtr;
    }
    if (lastKeptPtr != NULL) {
        lastKeptPtr->nextPtr = NULL;
    } else {
        cachePtr->firstPtr = NULL;
    }
    cachePtr->lastPtr = lastKeptPtr;
    cachePtr->count = kept;
}


/*
 *----------------------------------------------------------------------
 *
 * NsLogHold, NsLogHeldCount, NsLogFlushHeld, NsLogGetHeld,
 * NsLogTruncateHeld --
 *
 *      The calling thread's hold buffer, for "ns_logctl": start holding
 *      lines; count them; write them (and with release, stop holding);
 *      append them to dsPtr (and with drop, forget them unwritten); forget
 *      all but the first keep ones.  Without a buffer (no "hold" yet),
 *      all but NsLogHold do nothing.
 *
 * Results:
 *      NsLogHold: false when the buffer could not be allocated.
 *      NsLogHeldCount: the number of lines held.
 *
 * Side effects:
 *      See CacheAppend, CacheFlush, CacheTruncate.
 *
 *----------------------------------------------------------------------
 */

bool
NsLogHold(void)
{
    LogCache *cachePtr = GetCache(true);

    if (cachePtr != NULL) {
        cachePtr->hold = true;
    }
    return (cachePtr != NULL);
}

int
NsLogHeldCount(void)
{
    const LogCache *cachePtr = GetCache(false);

    return (cachePtr != NULL) ? cachePtr->count : 0;
}

void
NsLogFlushHeld(bool release)
{
    LogCache *cachePtr = GetCache(false);

    if (cachePtr != NULL) {
        if (release) {
            cachePtr->hold = false;
        }
        CacheFlush(cachePtr);
    }
}

void
NsLogGetHeld(Tcl_DString *dsPtr, bool drop)
{
    LogCache *cachePtr = GetCache(false);

    if (cachePtr != NULL) {
        const LogEntry *entryPtr;

        for (entryPtr = cachePtr->firstPtr; entryPtr != NULL; entryPtr = entryPtr->nextPtr) {
            Tcl_DStringAppend(dsPtr, entryPtr->line, (int)entryPtr->length);
        }
        if (drop) {
            CacheTruncate(cachePtr, 0);
        }
    }
}

void
NsLogTruncateHeld(int keep)
{
    LogCache *cachePtr = GetCache(false);

    if (cachePtr != NULL) {
        CacheTruncate(cachePtr, keep);
    }
}


/*
 *----------------------------------------------------------------------
 *
 * ConfigTableValue --
 *
 *      Read a parameter whose value must be one of a table's keys.
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      Sets *destPtr; an invalid value is logged (NaviServer's message) and
 *      leaves it unchanged.
 *
 *----------------------------------------------------------------------
 */

static void
ConfigTableValue(const char *section, const char *key, const Ns_ObjvTable *tablePtr,
                 atomic_int *destPtr)
{
    const char *value = Ns_ConfigGetValue(section, key);

    if (value != NULL) {
        const Ns_ObjvTable *entryPtr;

        for (entryPtr = tablePtr; entryPtr->key != NULL; entryPtr++) {
            if (strcmp(entryPtr->key, value) == 0) {
                break;
            }
        }
        if (entryPtr->key != NULL) {
            atomic_store(destPtr, entryPtr->value);
        } else {
            Tcl_DString ds;

            Tcl_DStringInit(&ds);
            NsLogAppendTableKeys(&ds, tablePtr, " ");
            Ns_Log(Warning, "ignoring invalid value '%s' for parameter '%s'; "
                   "possible values are: %s", value, key, Tcl_DStringValue(&ds));
            Tcl_DStringFree(&ds);
        }
    }
}


/*
 *----------------------------------------------------------------------
 *
 * NsLogAppendTableKeys --
 *
 *      Append the keys of a table, separated, e.g. "normal|bright".
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      Appends to dsPtr.
 *
 *----------------------------------------------------------------------
 */

void
NsLogAppendTableKeys(Tcl_DString *dsPtr, const Ns_ObjvTable *tablePtr, const char *separator)
{
    const Ns_ObjvTable *entryPtr;

    for (entryPtr = tablePtr; entryPtr->key != NULL; entryPtr++) {
        if (entryPtr != tablePtr) {
            Tcl_DStringAppend(dsPtr, separator, -1);
        }
        Tcl_DStringAppend(dsPtr, entryPtr->key, -1);
    }
}
