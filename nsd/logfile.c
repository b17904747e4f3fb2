/*
 * logfile.c --
 *
 *      What the server log (log.c) and the access log (accesslog.c) are
 *      built on: a line under construction (LineBuf), the date format both
 *      logs write, and a log file (LogFile) that takes each line with one
 *      write(2) under its lock and can be opened again at its path for log
 *      rotation.  Nothing here knows which log it serves, logs or calls Tcl.
 */

#include "logint.h"

#include <fcntl.h>
#include <unistd.h>

static const char *const monthNames[12] = {
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};

static bool LineReserve(LineBuf *lbPtr, size_t extra);
static int  OpenAppend(const char *path);


/*
 *----------------------------------------------------------------------
 *
 * NsLogLineInit, NsLogLineFree, LineReserve, NsLogLineAppend,
 * NsLogLineVPrintf, NsLogLineEnd --
 *
 *      Build a line in a LineBuf: on the stack up to LOG_LINE_STACK_SIZE,
 *      on the heap beyond.  When memory runs out the line is cut short,
 *      but it still ends in a newline (NsLogLineEnd), so the next line
 *      stays a line of its own.
 *
 * Results:
 *      LineReserve: true when extra bytes (plus a NUL) fit.
 *
 * Side effects:
 *      May allocate; NsLogLineFree releases.
 *
 *----------------------------------------------------------------------
 */

void
NsLogLineInit(LineBuf *lbPtr)
{
    lbPtr->data = lbPtr->stackBuf;
    lbPtr->length = 0u;
    lbPtr->size = sizeof(lbPtr->stackBuf);
    lbPtr->data[0] = '\0';
}

void
NsLogLineFree(LineBuf *lbPtr)
{
    if (lbPtr->data != lbPtr->stackBuf) {
        free(lbPtr->data);
    }
    NsLogLineInit(lbPtr);
}

static bool
LineReserve(LineBuf *lbPtr, size_t extra)
{
    bool ok = true;

    if (extra >= lbPtr->size - lbPtr->length) {
        size_t needed = lbPtr->length + extra + 1u;
        size_t newSize = lbPtr->size;
        char  *newData = NULL;

        while (newSize < needed && newSize <= SIZE_MAX / 2u) {
            newSize *= 2u;
        }
        if (needed > lbPtr->length && newSize >= needed) {
            if (lbPtr->data == lbPtr->stackBuf) {
                newData = malloc(newSize);
                if (newData != NULL) {
                    memcpy(newData, lbPtr->data, lbPtr->length + 1u);
                }
            } else {
                newData = realloc(lbPtr->data, newSize);
            }
        }
        if (newData == NULL) {
            ok = false;
        } else {
            lbPtr->data = newData;
            lbPtr->size = newSize;
        }
    }
    return ok;
}

void
NsLogLineAppend(LineBuf *lbPtr, const char *bytes, size_t length)
{
    if (LineReserve(lbPtr, length)) {
        memcpy(lbPtr->data + lbPtr->length, bytes, length);
        lbPtr->length += length;
        lbPtr->data[lbPtr->length] = '\0';
    }
}

void
NsLogLineVPrintf(LineBuf *lbPtr, const char *fmt, va_list ap)
{
    size_t  avail = lbPtr->size - lbPtr->length;
    va_list aq;
    int     n;

    va_copy(aq, ap);
    n = vsnprintf(lbPtr->data + lbPtr->length, avail, fmt, aq);
    va_end(aq);

    if (n < 0) {
        /*
         * An encoding error: keep the line without the message.
         */
        lbPtr->data[lbPtr->length] = '\0';
    } else if ((size_t)n < avail) {
        lbPtr->length += (size_t)n;
    } else if (LineReserve(lbPtr, (size_t)n)) {
        va_copy(aq, ap);
        (void) vsnprintf(lbPtr->data + lbPtr->length, lbPtr->size - lbPtr->length, fmt, aq);
        va_end(aq);
        lbPtr->length += (size_t)n;
    } else {
        /*
         * Out of memory: keep what fitted.
         */
        lbPtr->length = lbPtr->size - 1u;
    }
}

void
NsLogLineEnd(LineBuf *lbPtr)
{
    if (LineReserve(lbPtr, 1u)) {
        lbPtr->data[lbPtr->length++] = '\n';
        lbPtr->data[lbPtr->length] = '\0';
    } else {
        lbPtr->data[lbPtr->length - 1u] = '\n';
    }
}


/*
 *----------------------------------------------------------------------
 *
 * NsLogFormatTime --
 *
 *      Format a wall-clock second in local time as "22/Nov/2026:17:37:24",
 *      the date of both logs.  A time localtime_r cannot convert is
 *      written as the start of 1970.
 *
 * Results:
 *      What snprintf returns: the length, or negative on error.  With
 *      gmtoffPtr, the local offset from UTC in seconds is stored there.
 *
 * Side effects:
 *      Writes buf (NUL-terminated, truncated to size).
 *
 *----------------------------------------------------------------------
 */

int
NsLogFormatTime(char *buf, size_t size, time_t sec, long *gmtoffPtr)
{
    struct tm tm;

    if (localtime_r(&sec, &tm) == NULL) {
        memset(&tm, 0, sizeof(tm));
        tm.tm_mday = 1;
        tm.tm_year = 70;
    }
    if (gmtoffPtr != NULL) {
        *gmtoffPtr = tm.tm_gmtoff;
    }
    return snprintf(buf, size, "%02d/%s/%04d:%02d:%02d:%02d",
                    tm.tm_mday, monthNames[tm.tm_mon % 12], tm.tm_year + 1900,
                    tm.tm_hour, tm.tm_min, tm.tm_sec);
}


/*
 *----------------------------------------------------------------------
 *
 * NsLogWriteAll --
 *
 *      write(2) all bytes, resuming after EINTR and short writes.
 *
 * Results:
 *      None: a log that cannot be written has nowhere to report it.
 *
 * Side effects:
 *      I/O.
 *
 *----------------------------------------------------------------------
 */

void
NsLogWriteAll(int fd, const char *bytes, size_t length)
{
    while (length > 0u) {
        ssize_t n = write(fd, bytes, length);

        if (n > 0) {
            bytes += n;
            length -= (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            break;
        }
    }
}


/*
 *----------------------------------------------------------------------
 *
 * OpenAppend --
 *
 *      Open a log file for appending, creating it with mode 0644.
 *      O_APPEND makes each write land at the current end, even when
 *      another process (logrotate's copytruncate) shortened the file.
 *
 * Results:
 *      The descriptor, or -1 with errno set.
 *
 * Side effects:
 *      May create the file.
 *
 *----------------------------------------------------------------------
 */

static int
OpenAppend(const char *path)
{
    int fd;

    do {
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    } while (fd < 0 && errno == EINTR);

    return fd;
}


/*
 *----------------------------------------------------------------------
 *
 * NsLogFileOpen --
 *
 *      Open a log file at a path and make it the file's destination,
 *      closing the descriptor it replaces.
 *
 * Results:
 *      NS_OK, or NS_ERROR with errno set (nothing changed).
 *
 * Side effects:
 *      Keeps the path for the life of the process.
 *
 *----------------------------------------------------------------------
 */

Ns_ReturnCode
NsLogFileOpen(LogFile *filePtr, const char *path, bool mirror)
{
    Ns_ReturnCode status = NS_ERROR;
    size_t        length = strlen(path);
    PathRec      *recPtr = malloc(sizeof(PathRec) + length + 1u);

    if (recPtr == NULL) {
        errno = ENOMEM;
    } else {
        int fd = OpenAppend(path);

        if (fd < 0) {
            int errnum = errno;

            free(recPtr);
            errno = errnum;
        } else {
            int oldFd;

            memcpy(recPtr->path, path, length + 1u);
            pthread_mutex_lock(&filePtr->lock);
            oldFd = filePtr->fd;
            filePtr->fd = fd;
            filePtr->mirror = mirror;
            recPtr->olderPtr = filePtr->pathPtr;
            filePtr->pathPtr = recPtr;
            pthread_mutex_unlock(&filePtr->lock);

            if (oldFd >= 0) {
                (void) close(oldFd);
            }
            status = NS_OK;
        }
    }
    return status;
}


/*
 *----------------------------------------------------------------------
 *
 * NsLogFileReopen --
 *
 *      Open a log file again at its path and swap the new descriptor in.
 *      The open happens outside the lock; if the path changed meanwhile
 *      (a concurrent NsLogFileOpen), that newer file stays.
 *
 * Results:
 *      NS_OK (also when the log is not open), or NS_ERROR with errno set.
 *
 * Side effects:
 *      Closes the old descriptor.
 *
 *----------------------------------------------------------------------
 */

Ns_ReturnCode
NsLogFileReopen(LogFile *filePtr)
{
    Ns_ReturnCode  status = NS_OK;
    const PathRec *recPtr;

    pthread_mutex_lock(&filePtr->lock);
    recPtr = filePtr->pathPtr;
    pthread_mutex_unlock(&filePtr->lock);

    if (recPtr != NULL) {
        int fd = OpenAppend(recPtr->path);

        if (fd < 0) {
            status = NS_ERROR;
        } else {
            int oldFd = fd;

            pthread_mutex_lock(&filePtr->lock);
            if (filePtr->pathPtr == recPtr) {
                oldFd = filePtr->fd;
                filePtr->fd = fd;
            }
            pthread_mutex_unlock(&filePtr->lock);

            if (oldFd >= 0) {
                (void) close(oldFd);
            }
        }
    }
    return status;
}


/*
 *----------------------------------------------------------------------
 *
 * NsLogFilePath --
 *
 *      The current path of a log file.
 *
 * Results:
 *      The path or NULL; never freed.
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

const char *
NsLogFilePath(LogFile *filePtr)
{
    const char *result = NULL;

    pthread_mutex_lock(&filePtr->lock);
    if (filePtr->pathPtr != NULL) {
        result = filePtr->pathPtr->path;
    }
    pthread_mutex_unlock(&filePtr->lock);

    return result;
}
