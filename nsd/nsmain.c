/*
 * nsmain.c --
 *
 *      Ns_Main: command line, config, logs, daemon mode and pid file,
 *      start-up in order (servers, modules, drivers), signals, and the
 *      graceful shutdown (stop accepting, let requests finish within
 *      shutdowntimeout, run shutdown callbacks).
 *
 *      Signals are blocked in every thread and taken by one signal thread
 *      with sigwait, so no handler ever runs in the middle of a lock.
 */

#include "nsd.h"

#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

const char *nsHome = NULL;
const char *nsConfigFile = NULL;
Ns_Time     nsBootTime;

static pthread_mutex_t stopLock = PTHREAD_MUTEX_INITIALIZER;  /* protects stopRequested */
static pthread_cond_t  stopCond = PTHREAD_COND_INITIALIZER;
static bool            stopRequested = false;
/* Command mode: RequestStop writes to it so that reading stdin stops waiting. */
static int             stopPipe[2] = {-1, -1};
static sigset_t        handledSignals;

/*
 *----------------------------------------------------------------------
 * Usage --
 *
 *      Print the command line syntax and exit with status.
 *----------------------------------------------------------------------
 */
static void
Usage(int status)
{
    fprintf(status == 0 ? stdout : stderr,
            "usage: nsd [-f|-c|-V] -t config-file\n"
            "  -f    run in the foreground (log also to stderr)\n"
            "  -c    command mode: foreground, evaluate Tcl from stdin, stop at EOF\n"
            "  -t    the config file (a NaviServer-style Tcl script)\n"
            "  -V    print the version and exit\n");
    exit(status);
}

/*
 *----------------------------------------------------------------------
 * RequestStop --
 *
 *      Wake the main thread to shut down (in command mode, through the
 *      stop pipe its poll() waits on).
 *----------------------------------------------------------------------
 */
static void
RequestStop(void)
{
    pthread_mutex_lock(&stopLock);
    stopRequested = true;
    pthread_cond_broadcast(&stopCond);
    pthread_mutex_unlock(&stopLock);
    if (stopPipe[1] >= 0) {
        /* Failing means the pipe is full: a wake-up is pending anyway. */
        (void)!write(stopPipe[1], "x", 1);
    }
}

/*
 *----------------------------------------------------------------------
 * StopRequested --
 *
 * Results:
 *      True once a signal asked for the shutdown.
 *----------------------------------------------------------------------
 */
static bool
StopRequested(void)
{
    bool stop;

    pthread_mutex_lock(&stopLock);
    stop = stopRequested;
    pthread_mutex_unlock(&stopLock);
    return stop;
}

/*
 *----------------------------------------------------------------------
 * SignalThread --
 *
 *      SIGTERM and SIGINT ask for a graceful shutdown; SIGHUP reopens the
 *      logs (for rotation).
 *----------------------------------------------------------------------
 */
static void *
SignalThread(void *UNUSED(arg))
{
    NsLogSetThreadName("signal");
    for (;;) {
        int sig = 0;

        if (sigwait(&handledSignals, &sig) != 0) {
            continue;
        }
        if (sig == SIGHUP) {
            /* Logged after, so that the new log says why it was opened. */
            if (NsLogReopen() == NS_OK) {
                Ns_Log(Notice, "nsd: SIGHUP: logs reopened");
            } else {
                Ns_Log(Error, "nsd: SIGHUP: reopening the logs failed (see above)");
            }
        } else {
            Ns_Log(Notice, "nsd: %s: shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
            RequestStop();
        }
    }
    return NULL;
}

/*
 *----------------------------------------------------------------------
 * EvalLines --
 *
 *      Command mode: move the complete lines of pending (all of it at EOF)
 *      into cmd, and evaluate cmd each time it holds a complete command.
 *      Errors go to stderr with their stack.
 *----------------------------------------------------------------------
 */
static void
EvalLines(Tcl_Interp *interp, Tcl_DString *pendingPtr, Tcl_DString *cmdPtr, bool eof)
{
    const char *start = Tcl_DStringValue(pendingPtr);
    const char *end = start + Tcl_DStringLength(pendingPtr);
    const char *p = start;
    Tcl_DString rest;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *lineEnd = (nl != NULL) ? nl + 1 : (eof ? end : NULL);

        if (lineEnd == NULL) {
            break;
        }
        Tcl_DStringAppend(cmdPtr, p, (int)(lineEnd - p));
        p = lineEnd;
        if (Tcl_CommandComplete(Tcl_DStringValue(cmdPtr))) {
            if (Tcl_EvalEx(interp, Tcl_DStringValue(cmdPtr), -1, TCL_EVAL_GLOBAL) != TCL_OK) {
                const char *info = Tcl_GetVar(interp, "errorInfo", TCL_GLOBAL_ONLY);

                fprintf(stderr, "%s\n", info != NULL ? info : Tcl_GetStringResult(interp));
            }
            Tcl_DStringSetLength(cmdPtr, 0);
            fflush(stdout);
        }
    }
    Tcl_DStringInit(&rest);
    Tcl_DStringAppend(&rest, p, (int)(end - p));
    Tcl_DStringFree(pendingPtr);
    Tcl_DStringAppend(pendingPtr, Tcl_DStringValue(&rest), Tcl_DStringLength(&rest));
    Tcl_DStringFree(&rest);
}

/*
 *----------------------------------------------------------------------
 * CommandMode --
 *
 *      -c: evaluate Tcl commands read from stdin in a server interp, one
 *      complete command at a time, as NaviServer's command mode does; at
 *      EOF the server shuts down.  stdin is read with poll() together with
 *      the stop pipe, so SIGTERM and SIGINT stop the server even while
 *      stdin stays open (an interactive session, a test holding a pipe).
 *----------------------------------------------------------------------
 */
static void
CommandMode(void)
{
    Tcl_Interp *interp = Ns_TclAllocateInterp(NULL);
    Tcl_DString pending, cmd;
    char        buf[8192];
    bool        eof = false;

    Tcl_DStringInit(&pending);
    Tcl_DStringInit(&cmd);
    while (!eof && !StopRequested()) {
        struct pollfd pfd[2] = {{0, POLLIN, 0}, {stopPipe[0], POLLIN, 0}};
        ssize_t       n;

        if (poll(pfd, stopPipe[0] >= 0 ? 2 : 1, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            Ns_Log(Error, "nsd: command mode: poll: %s", strerror(errno));
            break;
        }
        if (pfd[0].revents == 0) {
            continue;
        }
        n = read(0, buf, sizeof(buf));
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
            continue;
        }
        if (n > 0) {
            Tcl_DStringAppend(&pending, buf, (int)n);
        } else {
            eof = true;
        }
        EvalLines(interp, &pending, &cmd, eof);
    }
    Tcl_DStringFree(&pending);
    Tcl_DStringFree(&cmd);
    Tcl_DeleteInterp(interp);
}

/*
 *----------------------------------------------------------------------
 * FindHome --
 *
 *      The server's home: ns/parameters home, else the parent of the
 *      directory holding the nsd binary (bin/nsd in a server tree or in
 *      the build tree).
 *----------------------------------------------------------------------
 */
static const char *
FindHome(void)
{
    const char *home = Ns_ConfigGetValue("ns/parameters", "home");
    char       *exe, *dir;

    if (home != NULL) {
        return home;
    }
    exe = realpath(Tcl_GetNameOfExecutable(), NULL);
    if (exe == NULL) {
        return ns_strdup(".");
    }
    dir = dirname(dirname(exe));
    home = ns_strdup(dir);
    free(exe);
    return home;
}

/*
 *----------------------------------------------------------------------
 * LogPath --
 *
 *      A log file's path: absolute as configured, else under logdir.
 *----------------------------------------------------------------------
 */
static const char *
LogPath(const char *logdir, const char *section, const char *key, const char *def)
{
    const char *name = Ns_ConfigString(section, key, def);
    Tcl_DString ds;
    const char *result;

    if (name[0] == '/') {
        return name;
    }
    Tcl_DStringInit(&ds);
    Tcl_DStringAppend(&ds, logdir, -1);
    Tcl_DStringAppend(&ds, "/", 1);
    Tcl_DStringAppend(&ds, name, -1);
    result = ns_strdup(Tcl_DStringValue(&ds));
    Tcl_DStringFree(&ds);
    return result;
}

/*
 *----------------------------------------------------------------------
 * Daemonize --
 *
 *      Detach from the terminal: the parent exits at once, the child
 *      carries on in a new session with stdio on /dev/null.
 *----------------------------------------------------------------------
 */
static void
Daemonize(void)
{
    pid_t pid = fork();
    int   fd;

    if (pid < 0) {
        fprintf(stderr, "nsd: fork: %s\n", strerror(errno));
        exit(1);
    }
    if (pid > 0) {
        _exit(0);
    }
    setsid();
    fd = open("/dev/null", O_RDWR);
    if (fd >= 0) {
        dup2(fd, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        if (fd > 2) {
            close(fd);
        }
    }
}

/*
 *----------------------------------------------------------------------
 * WritePidFile --
 *----------------------------------------------------------------------
 */
static void
WritePidFile(const char *path)
{
    FILE *f = fopen(path, "w");

    if (f == NULL) {
        Ns_Log(Warning, "nsd: cannot write pid file %s: %s", path, strerror(errno));
    } else {
        fprintf(f, "%d\n", (int)getpid());
        fclose(f);
    }
}

/*
 *----------------------------------------------------------------------
 * RaiseFileLimit --
 *
 *      Every connection and WebSocket is a descriptor, so take all the
 *      descriptors the hard limit allows (as NaviServer does); the soft
 *      limit of a login shell (often 1024) would cap the server far below
 *      what the machine can hold.
 *----------------------------------------------------------------------
 */
static void
RaiseFileLimit(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        Ns_Log(Warning, "nsd: getrlimit(RLIMIT_NOFILE): %s", strerror(errno));
        return;
    }
    if (rl.rlim_cur < rl.rlim_max) {
        rlim_t old = rl.rlim_cur;

        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
            Ns_Log(Warning, "nsd: setrlimit(RLIMIT_NOFILE, %llu): %s",
                   (unsigned long long)rl.rlim_max, strerror(errno));
            rl.rlim_cur = old;
        }
    }
    Ns_Log(Notice, "nsd: max files: %llu", (unsigned long long)rl.rlim_cur);
}

/*
 *----------------------------------------------------------------------
 * Ns_Main --
 *
 *      The life of the server.
 *
 * Results:
 *      The process exit status.
 *----------------------------------------------------------------------
 */
int
Ns_Main(int argc, char **argv)
{
    bool        foreground = false, commandMode = false;
    const char *logdir, *pidfile;
    Ns_Time     timeout, deadline;
    pthread_t   signalThread;
    int         opt;
    bool        eventsEnded;

    Ns_GetTime(&nsBootTime);
    NsLogSetThreadName("main");
    while ((opt = getopt(argc, argv, "fcit:Vhd")) != -1) {
        switch (opt) {
        case 'f': foreground = true; break;
        case 'c': commandMode = foreground = true; break;
        case 'i': foreground = true; break;   /* inittab mode: like -f */
        case 'd': break;                      /* debugger-friendly: accepted */
        case 't': nsConfigFile = optarg; break;
        case 'V':
            printf("nsws/%s (NaviServer-style host, Tcl %s)\n", NS_VERSION, TCL_PATCH_LEVEL);
            return 0;
        case 'h': Usage(0); break;
        default:  Usage(1); break;
        }
    }
    if (nsConfigFile == NULL || optind != argc) {
        Usage(1);
    }
    Tcl_FindExecutable(argv[0]);
    nsConfigFile = realpath(nsConfigFile, NULL);
    if (nsConfigFile == NULL) {
        fprintf(stderr, "nsd: config file \"%s\": %s\n", argv[optind - 1], strerror(errno));
        return 1;
    }
    if (NsConfigRead(nsConfigFile) != NS_OK) {
        return 1;
    }
    nsHome = FindHome();
    NsConfigSetDefault("ns/parameters", "home", nsHome);
    logdir = Ns_ConfigString("ns/parameters", "logdir", "logs");
    if (logdir[0] != '/') {
        logdir = LogPath(nsHome, "ns/parameters", "logdir", "logs");
    }
    NsConfigSetDefault("ns/parameters", "logdir", logdir);
    (void)mkdir(logdir, 0755);

    if (!foreground) {
        Daemonize();
    }
    /* Command mode owns stdout and stderr: the log stays in its file. */
    if (NsLogOpen(LogPath(logdir, "ns/parameters", "serverlog", "nsd.log"),
                  foreground && !commandMode) != NS_OK) {
        return 1;
    }
    NsLogConfigure("ns/parameters");
    pidfile = LogPath(logdir, "ns/parameters", "pidfile", "nsd.pid");
    WritePidFile(pidfile);
    Ns_ConfigTime("ns/parameters", "shutdowntimeout", "20s", &timeout);
    Ns_Log(Notice, "nsd: nsws/%s starting, config %s, home %s", NS_VERSION, nsConfigFile,
           nsHome);
    RaiseFileLimit();

    /* Every thread created from here on inherits the blocked signals. */
    sigemptyset(&handledSignals);
    sigaddset(&handledSignals, SIGTERM);
    sigaddset(&handledSignals, SIGINT);
    sigaddset(&handledSignals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &handledSignals, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (commandMode && pipe2(stopPipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        Ns_Log(Warning, "nsd: command mode: pipe: %s: signals wait for stdin", strerror(errno));
        stopPipe[0] = stopPipe[1] = -1;
    }
    pthread_create(&signalThread, NULL, SignalThread, NULL);
    pthread_detach(signalThread);

    if (NsInitServers() != NS_OK || NsInitDrivers() != NS_OK) {
        Ns_Log(Fatal, "nsd: start-up failed");
        unlink(pidfile);
        return 1;
    }
    {
        const char *server = NsDefaultServer()->name;
        const char *nslog = Ns_ConfigGetPath(server, "nslog", (char *)0);

        (void)NsAccessLogOpen(LogPath(logdir, nslog, "file", "access.log"));
    }
    NsStartServers();
    NsRunAtStartup();
    if (NsStartDrivers() != NS_OK) {
        Ns_Log(Fatal, "nsd: drivers failed to start");
        unlink(pidfile);
        return 1;
    }
    Ns_Log(Notice, "nsd: ready");

    if (commandMode) {
        CommandMode();
    } else {
        pthread_mutex_lock(&stopLock);
        while (!stopRequested) {
            pthread_cond_wait(&stopCond, &stopLock);
        }
        pthread_mutex_unlock(&stopLock);
    }

    Ns_Log(Notice, "nsd: shutdown started, timeout %ld.%06lds", (long)timeout.sec,
           timeout.usec);
    NsSetShutdownPending();
    NsStopDrivers();
    Ns_GetTime(&deadline);
    Ns_IncrTime(&deadline, timeout.sec, timeout.usec);
    NsStopServers(&deadline);
    NsRunAtShutdown(&deadline);
    eventsEnded = NsStopEvents(&deadline);
    unlink(pidfile);
    Ns_Log(Notice, "nsd: exiting");
    if (!eventsEnded) {
        /* exit() would finalize Tcl under the feet of the busy thread. */
        _exit(0);
    }
    return 0;
}
