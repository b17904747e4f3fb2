/*
 * tcltime.c --
 *
 *      Ns_Time, the microsecond time of the C API, and its Tcl face: the
 *      commands "ns_time" and "ns_sleep".  In C an Ns_Time is always kept
 *      adjusted as include/ns.h says (0 <= usec <= 999999, so -1.1s is
 *      {-2, 900000}); the text of a time in Tcl follows NaviServer 5
 *      instead, which writes the sign once in front: "1", "1:500000",
 *      "-1:100000" for -1.1s and "0:-300000" for -0.3s.
 *
 *      Times are parsed from "secs", "secs:usecs", "secs.fraction" or a
 *      number with a unit (μs ms s m h d w y), e.g. "500ms", "1.5m", "-2s".
 */

#include "nsd.h"

#include <inttypes.h>
#include <time.h>

#define USEC_PER_SEC INT64_C(1000000)

static int64_t TimeToUsec(const Ns_Time *timePtr);
static void UsecToTime(int64_t usec, Ns_Time *timePtr);
static void SplitSigned(int64_t usec, int64_t *secPtr, int64_t *usecPtr);
static Tcl_Obj *NewTimeObj(int64_t usec);
static void AppendDecimal(Tcl_DString *dsPtr, int64_t usec);
static bool ParseDigits(const char **strPtr, int64_t *valuePtr, int *countPtr);
static int64_t UnitToUsec(const char *unit);
static int CheckNonNegative(Tcl_Interp *interp, const char *name, const Ns_Time *timePtr);

static Tcl_ObjCmdProc TimeAdjustObjCmd, TimeDiffObjCmd, TimeFormatObjCmd, TimeGetObjCmd,
    TimeIncrObjCmd, TimeMakeObjCmd, TimeSecondsObjCmd;

static const Ns_ObjvValueRange nonNegRange = {0, INT64_MAX};


/*
 *----------------------------------------------------------------------
 *
 * Ns_GetTime, Ns_GetMonotonicTime --
 *
 *      Read the wall clock, or the monotonic clock for measuring intervals
 *      and computing deadlines that must not jump with clock changes.
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      Fills *timePtr.
 *
 *----------------------------------------------------------------------
 */

void
Ns_GetTime(Ns_Time *timePtr)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_REALTIME, &ts);
    timePtr->sec = ts.tv_sec;
    timePtr->usec = ts.tv_nsec / 1000;
}

void
Ns_GetMonotonicTime(Ns_Time *timePtr)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    timePtr->sec = ts.tv_sec;
    timePtr->usec = ts.tv_nsec / 1000;
}


/*
 *----------------------------------------------------------------------
 *
 * TimeToUsec, UsecToTime --
 *
 *      Convert between an Ns_Time (read as sec + usec / 10^6, whatever the
 *      sign of usec) and microseconds; UsecToTime always produces the
 *      adjusted form.
 *
 * Results:
 *      Microseconds, or none.
 *
 * Side effects:
 *      UsecToTime fills *timePtr.
 *
 *----------------------------------------------------------------------
 */

static int64_t
TimeToUsec(const Ns_Time *timePtr)
{
    return (int64_t)timePtr->sec * USEC_PER_SEC + (int64_t)timePtr->usec;
}

static void
UsecToTime(int64_t usec, Ns_Time *timePtr)
{
    int64_t sec = usec / USEC_PER_SEC, rest = usec % USEC_PER_SEC;

    if (rest < 0) {
        /* C division truncates toward zero; the adjusted form floors. */
        rest += USEC_PER_SEC;
        sec -= 1;
    }
    timePtr->sec = (time_t)sec;
    timePtr->usec = (long)rest;
}


/*
 *----------------------------------------------------------------------
 *
 * Ns_IncrTime, Ns_AdjTime, Ns_DiffTime, Ns_TimeToMilliseconds,
 * Ns_TimeToMicroseconds --
 *
 *      Arithmetic on Ns_Time: add sec and usec (either may be negative),
 *      bring usec into 0..999999, compute t1 - t0, convert to milliseconds
 *      (truncated toward zero) or microseconds.
 *
 * Results:
 *      Ns_DiffTime: -1, 0 or 1 as t1 is before, equal to or after t0.
 *      Ns_TimeToMilliseconds, Ns_TimeToMicroseconds: the count.
 *
 * Side effects:
 *      Ns_IncrTime and Ns_AdjTime update *timePtr; Ns_DiffTime fills
 *      *diffPtr (adjusted) unless it is NULL.
 *
 *----------------------------------------------------------------------
 */

void
Ns_IncrTime(Ns_Time *timePtr, time_t sec, long usec)
{
    UsecToTime(TimeToUsec(timePtr) + (int64_t)sec * USEC_PER_SEC + (int64_t)usec, timePtr);
}

void
Ns_AdjTime(Ns_Time *timePtr)
{
    UsecToTime(TimeToUsec(timePtr), timePtr);
}

long
Ns_DiffTime(const Ns_Time *t1, const Ns_Time *t0, Ns_Time *diffPtr)
{
    int64_t diff = TimeToUsec(t1) - TimeToUsec(t0);

    if (diffPtr != NULL) {
        UsecToTime(diff, diffPtr);
    }
    return (diff < 0) ? -1L : ((diff > 0) ? 1L : 0L);
}

int64_t
Ns_TimeToMilliseconds(const Ns_Time *timePtr)
{
    return TimeToUsec(timePtr) / 1000;
}

int64_t
Ns_TimeToMicroseconds(const Ns_Time *timePtr)
{
    return TimeToUsec(timePtr);
}


/*
 *----------------------------------------------------------------------
 *
 * Ns_ParseTime --
 *
 *      Parse a time: "secs", "secs:usecs" (NaviServer's form: a leading
 *      "-" makes the whole value negative, so "-1:100000" is -1.1s and
 *      "0:-1" is -1us), "secs.fraction", or either number followed by a
 *      unit: μs, ms, s, m, h, d, w (7 days) or y (365 days).  Blanks are
 *      allowed around the value and before the unit.  Sub-microsecond
 *      fractions are rounded to the nearest microsecond.
 *
 * Results:
 *      NS_OK, or NS_ERROR for anything else (unknown unit, trailing
 *      garbage, overflow).
 *
 * Side effects:
 *      Fills *timePtr (adjusted) on success.
 *
 *----------------------------------------------------------------------
 */

Ns_ReturnCode
Ns_ParseTime(const char *string, Ns_Time *timePtr)
{
    const char   *p = string;
    bool          negative = false, ok;
    int64_t       whole = 0, usec = 0;
    int           digits = 0;
    Ns_ReturnCode status = NS_ERROR;

    while (*p == ' ' || *p == '\t') {
        p++;
    }
    if (*p == '-' || *p == '+') {
        negative = (*p == '-');
        p++;
    }
    ok = ParseDigits(&p, &whole, &digits);

    if (ok && digits > 0 && *p == ':') {
        /* secs:usecs */
        int64_t part;
        bool    partNegative = false;

        p++;
        if (*p == '-' || *p == '+') {
            partNegative = (*p == '-');
            p++;
        }
        ok = ParseDigits(&p, &part, &digits) && digits > 0
            && whole <= INT64_MAX / USEC_PER_SEC - 1 && part <= INT64_MAX / 2;
        if (ok) {
            usec = whole * USEC_PER_SEC;
            if (negative) {
                /* The leading sign covers both parts: "-1:100000" is -1.1s. */
                usec = -(usec + part);
            } else {
                usec += partNegative ? -part : part;
            }
        }

    } else if (ok) {
        /* secs, secs.fraction, with an optional unit */
        double fraction = 0.0, scale = 0.1;
        int    fractionDigits = 0;

        if (*p == '.') {
            for (p++; *p >= '0' && *p <= '9'; p++, fractionDigits++) {
                fraction += (*p - '0') * scale;
                scale /= 10.0;
            }
        }
        ok = (digits + fractionDigits > 0);
        if (ok) {
            int64_t unit;

            while (*p == ' ' || *p == '\t') {
                p++;
            }
            unit = UnitToUsec(p);
            if (unit == 0) {
                ok = false;
            } else {
                p += strcspn(p, " \t");
                ok = !__builtin_mul_overflow(whole, unit, &usec);
                if (ok) {
                    int64_t fractionUsec = (int64_t)(fraction * (double)unit + 0.5);

                    ok = !__builtin_add_overflow(usec, fractionUsec, &usec);
                }
                if (negative) {
                    usec = -usec;
                }
            }
        }
    }

    if (ok) {
        while (*p == ' ' || *p == '\t') {
            p++;
        }
        if (*p == '\0') {
            UsecToTime(usec, timePtr);
            status = NS_OK;
        }
    }
    return status;
}


/*
 *----------------------------------------------------------------------
 *
 * ParseDigits --
 *
 *      Read a run of decimal digits at *strPtr.
 *
 * Results:
 *      false on overflow, else true with the value in *valuePtr and the
 *      number of digits (maybe 0) in *countPtr.
 *
 * Side effects:
 *      Advances *strPtr past the digits.
 *
 *----------------------------------------------------------------------
 */

static bool
ParseDigits(const char **strPtr, int64_t *valuePtr, int *countPtr)
{
    const char *p = *strPtr;
    int64_t     value = 0;
    bool        ok = true;

    for (; *p >= '0' && *p <= '9' && ok; p++) {
        ok = !__builtin_mul_overflow(value, 10, &value)
            && !__builtin_add_overflow(value, (int64_t)(*p - '0'), &value);
    }
    *countPtr = (int)(p - *strPtr);
    *valuePtr = value;
    *strPtr = p;
    return ok;
}


/*
 *----------------------------------------------------------------------
 *
 * UnitToUsec --
 *
 *      Map a time unit (possibly followed by blanks) to its length; no unit
 *      at all means seconds.
 *
 * Results:
 *      Microseconds per unit, or 0 for an unknown unit.
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

static int64_t
UnitToUsec(const char *unit)
{
    static const struct {
        const char *name;
        int64_t     usec;
    } units[] = {
        {"",          USEC_PER_SEC},
        {"\xce\xbcs", 1},                       /* μs */
        {"ms",        1000},
        {"s",         USEC_PER_SEC},
        {"m",         60 * USEC_PER_SEC},
        {"h",         3600 * USEC_PER_SEC},
        {"d",         86400 * USEC_PER_SEC},
        {"w",         7 * 86400 * USEC_PER_SEC},
        {"y",         365 * 86400 * USEC_PER_SEC}
    };
    size_t  length = strcspn(unit, " \t"), i;
    int64_t result = 0;

    for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strlen(units[i].name) == length && strncmp(unit, units[i].name, length) == 0) {
            result = units[i].usec;
            break;
        }
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * SplitSigned --
 *
 *      Split microseconds into NaviServer's signed text form: the seconds
 *      carry the sign, or the microseconds when there are no whole seconds.
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      Fills *secPtr and *usecPtr.
 *
 *----------------------------------------------------------------------
 */

static void
SplitSigned(int64_t usec, int64_t *secPtr, int64_t *usecPtr)
{
    int64_t magnitude = (usec < 0) ? -usec : usec;
    int64_t sec = magnitude / USEC_PER_SEC, rest = magnitude % USEC_PER_SEC;

    if (usec < 0) {
        if (sec > 0) {
            sec = -sec;
        } else {
            rest = -rest;
        }
    }
    *secPtr = sec;
    *usecPtr = rest;
}


/*
 *----------------------------------------------------------------------
 *
 * NewTimeObj --
 *
 *      Make the Tcl text of a time as NaviServer writes it: "secs" for
 *      whole non-negative seconds, else "secs:usecs" with the sign in
 *      front ("-1:0", "-1:100000", "0:-300000").
 *
 * Results:
 *      A new Tcl_Obj with refcount 0.
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

static Tcl_Obj *
NewTimeObj(int64_t usec)
{
    int64_t  sec, rest;
    Tcl_Obj *resultObj;

    SplitSigned(usec, &sec, &rest);
    if (usec >= 0 && rest == 0) {
        resultObj = Tcl_ObjPrintf("%" PRId64, sec);
    } else {
        resultObj = Tcl_ObjPrintf("%" PRId64 ":%" PRId64, sec, rest);
    }
    return resultObj;
}


/*
 *----------------------------------------------------------------------
 *
 * Ns_TimeToString, AppendDecimal --
 *
 *      Append a time as decimal seconds without trailing zeros, as
 *      NaviServer's Ns_DStringAppendTime and "ns_time format" do:
 *      "1", "0.000001", "-1.1".
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
Ns_TimeToString(const Ns_Time *timePtr, Tcl_DString *dsPtr)
{
    AppendDecimal(dsPtr, TimeToUsec(timePtr));
}

static void
AppendDecimal(Tcl_DString *dsPtr, int64_t usec)
{
    uint64_t magnitude = (usec < 0) ? (uint64_t)0 - (uint64_t)usec : (uint64_t)usec;
    char     buf[64];
    int      length;

    length = snprintf(buf, sizeof(buf), "%s%" PRIu64, (usec < 0) ? "-" : "",
                      magnitude / (uint64_t)USEC_PER_SEC);
    if (magnitude % (uint64_t)USEC_PER_SEC != 0u) {
        length += snprintf(buf + length, sizeof(buf) - (size_t)length, ".%06" PRIu64,
                           magnitude % (uint64_t)USEC_PER_SEC);
        while (buf[length - 1] == '0') {
            length--;
        }
    }
    Tcl_DStringAppend(dsPtr, buf, length);
}


/*
 *----------------------------------------------------------------------
 *
 * CheckNonNegative --
 *
 *      Refuse a negative time where only durations make sense.
 *
 * Results:
 *      TCL_OK, or TCL_ERROR with NaviServer's message
 *      (expected time value in range [0s, MAX], for 'timespec', but got -1).
 *
 * Side effects:
 *      Sets the interp result on error.
 *
 *----------------------------------------------------------------------
 */

static int
CheckNonNegative(Tcl_Interp *interp, const char *name, const Ns_Time *timePtr)
{
    int result = TCL_OK;

    if (TimeToUsec(timePtr) < 0) {
        Tcl_DString ds;

        Tcl_DStringInit(&ds);
        Tcl_DStringAppend(&ds, "expected time value in range [0s, MAX], for '", -1);
        Tcl_DStringAppend(&ds, name, -1);
        Tcl_DStringAppend(&ds, "', but got ", -1);
        AppendDecimal(&ds, TimeToUsec(timePtr));
        Tcl_DStringResult(interp, &ds);
        result = TCL_ERROR;
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * TimeGetObjCmd --
 *
 *      Implements "ns_time get": the current wall-clock time.
 *
 * Results:
 *      Tcl result: "secs:usecs".
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

static int
TimeGetObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc, Tcl_Obj *const objv[])
{
    int result = TCL_OK;

    if (Ns_ParseObjv(NULL, NULL, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        Ns_Time now;

        Ns_GetTime(&now);
        Tcl_SetObjResult(interp, NewTimeObj(TimeToUsec(&now)));
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * TimeMakeObjCmd --
 *
 *      Implements "ns_time make /sec/ ?/usec/?".
 *
 * Results:
 *      Tcl result: the time, adjusted.
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

static int
TimeMakeObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc, Tcl_Obj *const objv[])
{
    int         result = TCL_OK;
    Tcl_WideInt sec = 0, usec = 0;
    Ns_ObjvSpec args[] = {
        {"sec",   Ns_ObjvWideInt, &sec,  (void *)&nonNegRange},
        {"?usec", Ns_ObjvWideInt, &usec, (void *)&nonNegRange},
        {NULL, NULL, NULL, NULL}
    };

    if (Ns_ParseObjv(NULL, args, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        int64_t total;

        if (__builtin_mul_overflow((int64_t)sec, USEC_PER_SEC, &total)
            || __builtin_add_overflow(total, (int64_t)usec, &total)) {
            Ns_TclPrintfResult(interp, "time value too large: %" PRId64 ":%" PRId64,
                               (int64_t)sec, (int64_t)usec);
            result = TCL_ERROR;
        } else {
            Tcl_SetObjResult(interp, NewTimeObj(total));
        }
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * TimeIncrObjCmd --
 *
 *      Implements "ns_time incr /time/ /sec/ ?/usec/?".
 *
 * Results:
 *      Tcl result: the incremented time.
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

static int
TimeIncrObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc, Tcl_Obj *const objv[])
{
    int         result = TCL_OK;
    Ns_Time    *timePtr = NULL;
    Tcl_WideInt sec = 0, usec = 0;
    Ns_ObjvSpec args[] = {
        {"time",  Ns_ObjvTime,    &timePtr, NULL},
        {"sec",   Ns_ObjvWideInt, &sec,     (void *)&nonNegRange},
        {"?usec", Ns_ObjvWideInt, &usec,    (void *)&nonNegRange},
        {NULL, NULL, NULL, NULL}
    };

    if (Ns_ParseObjv(NULL, args, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else if (CheckNonNegative(interp, "time", timePtr) != TCL_OK) {
        result = TCL_ERROR;
    } else {
        Ns_Time t = *timePtr;

        Ns_IncrTime(&t, (time_t)sec, (long)usec);
        Tcl_SetObjResult(interp, NewTimeObj(TimeToUsec(&t)));
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * TimeDiffObjCmd --
 *
 *      Implements "ns_time diff /time1/ /time2/".
 *
 * Results:
 *      Tcl result: time1 - time2.
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

static int
TimeDiffObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc, Tcl_Obj *const objv[])
{
    int         result = TCL_OK;
    Ns_Time    *t1Ptr = NULL, *t2Ptr = NULL;
    Ns_ObjvSpec args[] = {
        {"time1", Ns_ObjvTime, &t1Ptr, NULL},
        {"time2", Ns_ObjvTime, &t2Ptr, NULL},
        {NULL, NULL, NULL, NULL}
    };

    if (Ns_ParseObjv(NULL, args, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        Tcl_SetObjResult(interp, NewTimeObj(TimeToUsec(t1Ptr) - TimeToUsec(t2Ptr)));
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * TimeAdjustObjCmd, TimeFormatObjCmd, TimeSecondsObjCmd --
 *
 *      Implement "ns_time adjust|format|seconds|microseconds /time/": the
 *      time in canonical text, as decimal seconds, or its seconds or
 *      microseconds part (NaviServer's signed split: -1.1s has seconds -1
 *      and microseconds 100000).  clientData of TimeSecondsObjCmd is
 *      INT2PTR(1) for "microseconds".
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
TimeAdjustObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc, Tcl_Obj *const objv[])
{
    int         result = TCL_OK;
    Ns_Time    *timePtr = NULL;
    Ns_ObjvSpec args[] = {
        {"time", Ns_ObjvTime, &timePtr, NULL},
        {NULL, NULL, NULL, NULL}
    };

    if (Ns_ParseObjv(NULL, args, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        Tcl_SetObjResult(interp, NewTimeObj(TimeToUsec(timePtr)));
    }
    return result;
}

static int
TimeFormatObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc, Tcl_Obj *const objv[])
{
    int         result = TCL_OK;
    Ns_Time    *timePtr = NULL;
    Ns_ObjvSpec args[] = {
        {"time", Ns_ObjvTime, &timePtr, NULL},
        {NULL, NULL, NULL, NULL}
    };

    if (Ns_ParseObjv(NULL, args, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        Tcl_DString ds;

        Tcl_DStringInit(&ds);
        Ns_TimeToString(timePtr, &ds);
        Tcl_DStringResult(interp, &ds);
    }
    return result;
}

static int
TimeSecondsObjCmd(ClientData clientData, Tcl_Interp *interp, int objc, Tcl_Obj *const objv[])
{
    int         result = TCL_OK;
    Ns_Time    *timePtr = NULL;
    Ns_ObjvSpec args[] = {
        {"time", Ns_ObjvTime, &timePtr, NULL},
        {NULL, NULL, NULL, NULL}
    };

    if (Ns_ParseObjv(NULL, args, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        int64_t sec, usec;

        SplitSigned(TimeToUsec(timePtr), &sec, &usec);
        Tcl_SetObjResult(interp, Tcl_NewWideIntObj(PTR2INT(clientData) ? usec : sec));
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * NsTclTimeObjCmd --
 *
 *      Implements "ns_time": without arguments the current time in whole
 *      seconds, else one of the subcommands adjust, diff, format, get,
 *      incr, make, seconds, microseconds (matched exactly; the unknown-
 *      subcommand message lists them in NaviServer's order).
 *
 * Results:
 *      Tcl result.
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

int
NsTclTimeObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc, Tcl_Obj *const objv[])
{
    static const char *const subcmds[] = {
        "adjust", "diff", "format", "get", "incr", "make", "seconds", "microseconds", NULL
    };
    static Tcl_ObjCmdProc *const procs[] = {
        TimeAdjustObjCmd, TimeDiffObjCmd, TimeFormatObjCmd, TimeGetObjCmd, TimeIncrObjCmd,
        TimeMakeObjCmd, TimeSecondsObjCmd, TimeSecondsObjCmd
    };
    int result, idx;

    if (objc < 2) {
        Tcl_SetObjResult(interp, Tcl_NewWideIntObj((Tcl_WideInt)time(NULL)));
        result = TCL_OK;
    } else if (Tcl_GetIndexFromObj(interp, objv[1], subcmds, "subcommand", TCL_EXACT, &idx)
               != TCL_OK) {
        result = TCL_ERROR;
    } else {
        /* "seconds" and "microseconds" share a proc that tells them apart. */
        result = procs[idx](INT2PTR(strcmp(subcmds[idx], "microseconds") == 0), interp, objc,
                            objv);
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * NsTclSleepObjCmd --
 *
 *      Implements "ns_sleep /timespec/": sleep for a duration, with
 *      microsecond resolution.
 *
 * Results:
 *      Tcl result: empty, or an error for a malformed or negative time.
 *
 * Side effects:
 *      Blocks the calling thread.
 *
 *----------------------------------------------------------------------
 */

int
NsTclSleepObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc, Tcl_Obj *const objv[])
{
    int         result = TCL_OK;
    Ns_Time    *timePtr = NULL;
    Ns_ObjvSpec args[] = {
        {"timespec", Ns_ObjvTime, &timePtr, NULL},
        {NULL, NULL, NULL, NULL}
    };

    if (Ns_ParseObjv(NULL, args, interp, 1, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else if (CheckNonNegative(interp, "timespec", timePtr) != TCL_OK) {
        result = TCL_ERROR;
    } else {
        int64_t         usec = TimeToUsec(timePtr);
        struct timespec ts;

        ts.tv_sec = (time_t)(usec / USEC_PER_SEC);
        ts.tv_nsec = (long)(usec % USEC_PER_SEC) * 1000L;
        /* Sleep the rest after a signal interrupted us. */
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
            /* continue */
        }
    }
    return result;
}
