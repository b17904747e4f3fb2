/*
 * logseverity.c --
 *
 *      The table of log severities: the predefined ones (Notice, Warning,
 *      Error, Fatal, Bug, Debug, Dev) and those created at run time, such
 *      as "Debug(ws)", each with its on/off switch, its line counter and
 *      the ANSI colors it is written in.  Ns_LogSeverityEnabled is asked
 *      for every line, so everything that changes at run time is an atomic
 *      and reading takes no lock.
 */

#include "logint.h"

#define LOG_MAX_SEVERITIES   64      /* predefined ones included */
#define LOG_NAME_SIZE        64      /* severity names: at most 63 bytes */

/*
 * The names of the colors and intensities, for ns_logctl and the config.
 */
Ns_ObjvTable nsLogColorTable[] = {
    {"black",   COLOR_BLACK},
    {"red",     COLOR_RED},
    {"green",   COLOR_GREEN},
    {"yellow",  COLOR_YELLOW},
    {"blue",    COLOR_BLUE},
    {"magenta", COLOR_MAGENTA},
    {"cyan",    COLOR_CYAN},
    {"gray",    COLOR_GRAY},
    {"default", COLOR_DEFAULT},
    {NULL,      0}
};

Ns_ObjvTable nsLogIntensityTable[] = {
    {"normal", INTENSITY_NORMAL},
    {"bright", INTENSITY_BRIGHT},
    {NULL,     0}
};

/*
 * One severity.  The name is written once, before the entry is published
 * by the release store of numSeverities, and never changes afterwards, so
 * readers compare names without a lock.  The other fields are atomics and
 * may change at any time.
 */
typedef struct Severity {
    char        name[LOG_NAME_SIZE]; /* "Notice", "Debug(ws)" */
    atomic_bool enabled;             /* lines of this severity are written */
    atomic_long count;               /* lines logged (while enabled) since start */
    atomic_int  color;               /* LogColor, used when logcolorize is on */
    atomic_int  intensity;           /* INTENSITY_NORMAL or INTENSITY_BRIGHT */
} Severity;

/*
 * Severities [0, numSeverities) are in use; Debug and Dev start disabled,
 * as in NaviServer.  severityLock only serialises the creation of new
 * severities (finding a name and filling in a new entry); it is never
 * held together with another lock.
 */
static Severity severities[LOG_MAX_SEVERITIES] = {
    {"Notice",  true,  0, COLOR_DEFAULT, INTENSITY_NORMAL},
    {"Warning", true,  0, COLOR_DEFAULT, INTENSITY_BRIGHT},
    {"Error",   true,  0, COLOR_RED,     INTENSITY_BRIGHT},
    {"Fatal",   true,  0, COLOR_RED,     INTENSITY_BRIGHT},
    {"Bug",     true,  0, COLOR_RED,     INTENSITY_BRIGHT},
    {"Debug",   false, 0, COLOR_BLUE,    INTENSITY_NORMAL},
    {"Dev",     false, 0, COLOR_GREEN,   INTENSITY_NORMAL}
};
static atomic_int      numSeverities = NS_LOG_NUM_PREDEFINED;
static pthread_mutex_t severityLock = PTHREAD_MUTEX_INITIALIZER;

static bool ValidSeverityName(const char *name);


/*
 *----------------------------------------------------------------------
 *
 * Ns_LogSeverityEnabled --
 *
 *      Is the given severity written to the log?
 *
 * Results:
 *      true when enabled; severities outside the table (never returned by
 *      Ns_CreateLogSeverity) count as enabled, as in NaviServer.
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

bool
Ns_LogSeverityEnabled(Ns_LogSeverity severity)
{
    bool result = true;

    if (severity >= 0 && severity < LOG_MAX_SEVERITIES) {
        result = atomic_load_explicit(&severities[severity].enabled, memory_order_relaxed);
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * Ns_CreateLogSeverity --
 *
 *      Find or create the severity of the given name, e.g. "Debug(ws)".
 *      A new severity starts disabled; the same name always yields the
 *      same severity.
 *
 * Results:
 *      The severity.  When the name is invalid (empty, over 63 bytes,
 *      control characters, digits only) or the table is full, the error is
 *      logged and Debug is returned, so the caller's lines still have a
 *      switch (NaviServer exits the process instead).
 *
 * Side effects:
 *      May add a severity.
 *
 *----------------------------------------------------------------------
 */

Ns_LogSeverity
Ns_CreateLogSeverity(const char *name)
{
    Ns_LogSeverity severity = Debug;
    const char    *problem = NsLogCreateSeverity(name, &severity);

    if (problem != NULL) {
        Ns_Log(Error, "log: cannot create severity \"%s\": %s; using Debug",
               name != NULL ? name : "", problem);
        severity = Debug;
    }
    return severity;
}


/*
 *----------------------------------------------------------------------
 *
 * NsLogCountLine, NsLogSeverityColors --
 *
 *      For the writer of a line: count it for "ns_logctl stats", and get
 *      the ANSI color and intensity its severity is written in.
 *
 * Results:
 *      NsLogSeverityColors: false (and nothing stored) for a severity
 *      outside the table, which is written without colors.
 *
 * Side effects:
 *      NsLogCountLine increments the severity's counter.
 *
 *----------------------------------------------------------------------
 */

void
NsLogCountLine(Ns_LogSeverity severity)
{
    if (severity >= 0 && severity < LOG_MAX_SEVERITIES) {
        atomic_fetch_add_explicit(&severities[severity].count, 1, memory_order_relaxed);
    }
}

bool
NsLogSeverityColors(Ns_LogSeverity severity, int *colorPtr, int *intensityPtr)
{
    bool inTable = (severity >= 0 && severity < LOG_MAX_SEVERITIES);

    if (inTable) {
        *colorPtr = atomic_load(&severities[severity].color);
        *intensityPtr = atomic_load(&severities[severity].intensity);
    }
    return inTable;
}


/*
 *----------------------------------------------------------------------
 *
 * NsLogFindSeverity --
 *
 *      Look a severity up by name: an exact name first, then a predefined
 *      name in any case ("notice"), then a legacy number ("5").
 *
 * Results:
 *      The severity, or -1.
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

Ns_LogSeverity
NsLogFindSeverity(const char *name)
{
    int            i, n = atomic_load_explicit(&numSeverities, memory_order_acquire);
    Ns_LogSeverity result = -1;

    for (i = 0; i < n && result < 0; i++) {
        if (strcmp(severities[i].name, name) == 0) {
            result = i;
        }
    }
    for (i = 0; i < NS_LOG_NUM_PREDEFINED && result < 0; i++) {
        if (strcasecmp(severities[i].name, name) == 0) {
            result = i;
        }
    }
    if (result < 0 && name[0] >= '0' && name[0] <= '9'
        && (name[1] == '\0' || (name[1] >= '0' && name[1] <= '9' && name[2] == '\0'))) {
        int value = atoi(name);

        if (value < n) {
            result = value;
        }
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * NsLogCreateSeverity --
 *
 *      Find the severity of the given name or add it, disabled.
 *
 * Results:
 *      NULL and *severityPtr set, or the reason it could not be created.
 *
 * Side effects:
 *      May publish a new severity.
 *
 *----------------------------------------------------------------------
 */

const char *
NsLogCreateSeverity(const char *name, Ns_LogSeverity *severityPtr)
{
    const char *problem = NULL;

    if (!ValidSeverityName(name)) {
        problem = "invalid name";
    } else {
        Ns_LogSeverity severity;

        pthread_mutex_lock(&severityLock);
        severity = NsLogFindSeverity(name);
        if (severity < 0) {
            int n = atomic_load_explicit(&numSeverities, memory_order_relaxed);

            if (n >= LOG_MAX_SEVERITIES) {
                problem = "too many severities";
            } else {
                Severity *sevPtr = &severities[n];

                memcpy(sevPtr->name, name, strlen(name) + 1u);
                atomic_store_explicit(&sevPtr->enabled, false, memory_order_relaxed);
                atomic_store_explicit(&sevPtr->color, COLOR_DEFAULT, memory_order_relaxed);
                atomic_store_explicit(&sevPtr->intensity, INTENSITY_NORMAL,
                                      memory_order_relaxed);
                /*
                 * Publish last: readers that see the new count see the name.
                 */
                atomic_store_explicit(&numSeverities, n + 1, memory_order_release);
                severity = n;
            }
        }
        pthread_mutex_unlock(&severityLock);
        *severityPtr = severity;
    }
    return problem;
}


/*
 *----------------------------------------------------------------------
 *
 * ValidSeverityName --
 *
 *      A severity name must be 1 to 63 bytes without control characters
 *      (it is written into every line of its severity) and must not be
 *      digits only (those are the legacy numeric severities).
 *
 * Results:
 *      true when valid.
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

static bool
ValidSeverityName(const char *name)
{
    bool   valid = (name != NULL && name[0] != '\0');
    bool   digitsOnly = true;
    size_t i;

    for (i = 0u; valid && name[i] != '\0'; i++) {
        unsigned char c = (unsigned char)name[i];

        if (c < 0x20u || c == 0x7fu || i >= LOG_NAME_SIZE - 1u) {
            valid = false;
        } else if (c < '0' || c > '9') {
            digitsOnly = false;
        }
    }
    return valid && !digitsOnly;
}


/*
 *----------------------------------------------------------------------
 *
 * NsLogSeverityName --
 *
 *      The name of a severity as written into log lines.
 *
 * Results:
 *      The name, "Unknown" outside the table (as NaviServer).
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

const char *
NsLogSeverityName(Ns_LogSeverity severity)
{
    const char *result = "Unknown";

    if (severity >= 0 && severity < atomic_load_explicit(&numSeverities, memory_order_acquire)) {
        result = severities[severity].name;
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * NsLogNumSeverities, NsLogSeverityCount --
 *
 *      The number of severities (they are numbered from 0, in creation
 *      order), and the lines a severity has logged since the start.
 *
 * Results:
 *      As above; NsLogSeverityCount is 0 outside the table.
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

int
NsLogNumSeverities(void)
{
    return atomic_load_explicit(&numSeverities, memory_order_acquire);
}

long
NsLogSeverityCount(Ns_LogSeverity severity)
{
    long result = 0;

    if (severity >= 0 && severity < NsLogNumSeverities()) {
        result = atomic_load_explicit(&severities[severity].count, memory_order_relaxed);
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * NsLogSetSeverity --
 *
 *      Enable or disable a severity server-wide and set its colors; each
 *      of enabled (0 or 1), color (a LogColor) and intensity is left as it
 *      is when -1.  Fatal cannot be disabled.
 *
 * Results:
 *      Whether the severity was enabled before the call.
 *
 * Side effects:
 *      Changes the severity for all threads.
 *
 *----------------------------------------------------------------------
 */

bool
NsLogSetSeverity(Ns_LogSeverity severity, int enabled, int color, int intensity)
{
    bool state = Ns_LogSeverityEnabled(severity);

    if (severity >= 0 && severity < NsLogNumSeverities()) {
        Severity *sevPtr = &severities[severity];

        if (enabled != -1 && severity != Fatal) {
            state = atomic_exchange(&sevPtr->enabled, (enabled != 0));
        }
        if (color != -1) {
            atomic_store(&sevPtr->color, color);
        }
        if (intensity != -1) {
            atomic_store(&sevPtr->intensity, intensity);
        }
    }
    return state;
}
