/*
 * event.c --
 *
 *      The event thread (DESIGN §2): one epoll loop that owns every socket
 *      an application gave a callback to (ns_connchan callback, WebSockets).
 *      Event procs run here, one at a time.  Other threads change events
 *      through a command queue and a wake-up eventfd, so that epoll state and
 *      the event list are touched by the event thread only.
 *
 *      Timeouts are checked by scanning the events that have one, at most
 *      every TIMER_TICK_MS: a timeout is a coarse "nothing happened for this
 *      long", never a precise timer.
 *
 *      Lock: queueLock protects the command queue and the started/stopping
 *      flags; it is a leaf lock, never held while calling an event proc.
 */

#include "nsd.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define TIMER_TICK_MS 50
#define MAX_EVENTS    256

/*
 * An event lives as long as its socket's callback, thousands of them on an
 * idle WebSocket server: the fields are ordered to leave next to no padding
 * (72 bytes), and it comes from malloc, which rounds to 16 bytes rather
 * than to a power of two.
 */
struct Ns_Event {
    Ns_EventProc     *proc;
    Ns_EventFreeProc *freeProc;
    void             *arg;
    int               fd;
    atomic_bool       destroyed;    /* set by Ns_EventDestroy in any thread */
    /* Event thread only: */
    bool              inEpoll;      /* fd is in the epoll set */
    bool              linked;       /* in the list of live events */
    unsigned int      when;         /* NS_EV_* watched */
    uint32_t          epollEvents;  /* what epoll watches for fd (when inEpoll) */
    struct Ns_Event  *nextPtr;      /* all live events */
    struct Ns_Event  *prevPtr;
    int64_t           timeoutUs;    /* relative, in microseconds; < 0: none */
    int64_t           deadlineUs;   /* monotonic, when timeoutUs is set */
};

typedef enum { CMD_SET, CMD_DESTROY, CMD_CALL, CMD_EXIT } CommandType;

typedef struct Command {
    struct Command   *nextPtr;
    CommandType       type;
    Ns_Event         *event;
    unsigned int      when;
    int64_t           timeoutUs;    /* < 0: none */
    Ns_EventCallProc *callProc;
    void             *callArg;
} Command;

static pthread_mutex_t queueLock = PTHREAD_MUTEX_INITIALIZER;
static Command        *queueHead = NULL, *queueTail = NULL;
static bool            started = false;
static bool            exited = false;     /* the loop ended: no more commands run */
static pthread_t       eventThread;
static int             epollFd = -1, wakeFd = -1;
static __thread bool   isEventThread = false;

/* Event thread only: */
static Ns_Event       *events = NULL;

static void *EventThread(void *arg);

/*
 *----------------------------------------------------------------------
 * StartLocked --
 *
 *      Start the event thread on first use.  Called with queueLock held.
 *----------------------------------------------------------------------
 */
static void
StartLocked(void)
{
    struct epoll_event ev;

    if (started) {
        return;
    }
    epollFd = epoll_create1(EPOLL_CLOEXEC);
    wakeFd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (epollFd < 0 || wakeFd < 0) {
        Ns_Fatal("event: cannot create epoll or eventfd: %s", strerror(errno));
    }
    ev.events = EPOLLIN;
    ev.data.ptr = NULL;
    epoll_ctl(epollFd, EPOLL_CTL_ADD, wakeFd, &ev);
    if (pthread_create(&eventThread, NULL, EventThread, NULL) != 0) {
        Ns_Fatal("event: cannot start the event thread");
    }
    started = true;
}

/*
 *----------------------------------------------------------------------
 * Enqueue --
 *
 *      Hand a command to the event thread and wake it.  After the loop has
 *      ended, commands are dropped (destroys still free their event).
 *----------------------------------------------------------------------
 */
static void
Enqueue(Command *cmdPtr)
{
    uint64_t one = 1;
    bool     dropped;

    cmdPtr->nextPtr = NULL;
    pthread_mutex_lock(&queueLock);
    StartLocked();
    dropped = exited;
    if (!dropped) {
        if (queueTail != NULL) {
            queueTail->nextPtr = cmdPtr;
        } else {
            queueHead = cmdPtr;
        }
        queueTail = cmdPtr;
    }
    pthread_mutex_unlock(&queueLock);
    if (dropped) {
        if (cmdPtr->type == CMD_DESTROY && cmdPtr->event->freeProc != NULL) {
            cmdPtr->event->freeProc(cmdPtr->event->arg);
        }
        if (cmdPtr->type == CMD_DESTROY) {
            free(cmdPtr->event);
        }
        ckfree(cmdPtr);
        return;
    }
    if (write(wakeFd, &one, sizeof(one)) < 0 && errno != EAGAIN) {
        Ns_Log(Bug, "event: wake-up failed: %s", strerror(errno));
    }
}

static Command *
NewCommand(CommandType type, Ns_Event *event)
{
    Command *cmdPtr = ckalloc(sizeof(Command));

    memset(cmdPtr, 0, sizeof(Command));
    cmdPtr->type = type;
    cmdPtr->event = event;
    cmdPtr->timeoutUs = -1;
    return cmdPtr;
}

/*
 * MonotonicUs, DeadlineUs, TimeoutUs: times as microseconds, which keeps
 * Ns_Event small (an idle server may hold tens of thousands).  A timeout
 * of ages saturates at INT64_MAX, "never"; TimeoutUs gives -1 for none
 * (NULL, or sec < 0).
 */
static int64_t
MonotonicUs(void)
{
    Ns_Time now;

    Ns_GetMonotonicTime(&now);
    return Ns_TimeToMicroseconds(&now);
}

static int64_t
DeadlineUs(int64_t now, int64_t timeoutUs)
{
    return (timeoutUs > INT64_MAX - now) ? INT64_MAX : now + timeoutUs;
}

static int64_t
TimeoutUs(const Ns_Time *timePtr)
{
    if (timePtr == NULL || timePtr->sec < 0) {
        return -1;
    }
    if (timePtr->sec >= INT64_MAX / 1000000 - 1) {
        return INT64_MAX;
    }
    return Ns_TimeToMicroseconds(timePtr);
}

/*
 *----------------------------------------------------------------------
 * Apply --
 *
 *      Bring epoll and the event list in line with a changed event.
 *      Event thread only.
 *----------------------------------------------------------------------
 */
static void
Apply(Ns_Event *event)
{
    uint32_t want = 0;
    /*
     * Errors and hang-ups need no bit in the mask (epoll always reports
     * them), but the fd must be in the set: an event that watches only
     * NS_EV_ERROR is added with an empty mask.
     */
    bool     watch = (event->fd >= 0
                      && (event->when & (NS_EV_READ | NS_EV_WRITE | NS_EV_ERROR)) != 0);

    if ((event->when & NS_EV_READ) != 0) {
        want |= EPOLLIN | EPOLLRDHUP;
    }
    if ((event->when & NS_EV_WRITE) != 0) {
        want |= EPOLLOUT;
    }
    if (watch != event->inEpoll || (watch && want != event->epollEvents)) {
        struct epoll_event ev;
        int                op = !event->inEpoll ? EPOLL_CTL_ADD
                                : !watch ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;

        ev.events = want;
        ev.data.ptr = event;
        if (epoll_ctl(epollFd, op, event->fd, &ev) != 0) {
            Ns_Log(Warning, "event: epoll_ctl fd %d: %s", event->fd, strerror(errno));
        }
        event->epollEvents = want;
        event->inEpoll = watch;
    }
    if (event->timeoutUs >= 0) {
        event->deadlineUs = DeadlineUs(MonotonicUs(), event->timeoutUs);
    }
    if (!event->linked) {
        event->nextPtr = events;
        event->prevPtr = NULL;
        if (events != NULL) {
            events->prevPtr = event;
        }
        events = event;
        event->linked = true;
    }
}

/*
 *----------------------------------------------------------------------
 * Remove --
 *
 *      Take an event out of epoll and the list, then free it.  Event
 *      thread only.
 *----------------------------------------------------------------------
 */
static void
Remove(Ns_Event *event)
{
    if (event->inEpoll) {
        (void)epoll_ctl(epollFd, EPOLL_CTL_DEL, event->fd, NULL);
    }
    if (event->linked) {
        if (event->prevPtr != NULL) {
            event->prevPtr->nextPtr = event->nextPtr;
        } else {
            events = event->nextPtr;
        }
        if (event->nextPtr != NULL) {
            event->nextPtr->prevPtr = event->prevPtr;
        }
    }
    if (event->freeProc != NULL) {
        event->freeProc(event->arg);
    }
    free(event);
}

/*
 *----------------------------------------------------------------------
 * Ns_EventCreate --
 *
 *      A new event for fd (which the caller keeps owning).  It watches
 *      nothing until Ns_EventSet.
 *----------------------------------------------------------------------
 */
Ns_Event *
Ns_EventCreate(int fd, Ns_EventProc *proc, Ns_EventFreeProc *freeProc, void *arg)
{
    Ns_Event *event = ns_calloc(sizeof(Ns_Event));

    event->fd = fd;
    event->proc = proc;
    event->freeProc = freeProc;
    event->arg = arg;
    event->timeoutUs = -1;
    atomic_init(&event->destroyed, false);
    return event;
}

/*
 *----------------------------------------------------------------------
 * Ns_EventSet --
 *
 *      Watch for when (NS_EV_READ | NS_EV_WRITE ...), with an optional
 *      inactivity timeout.
 *----------------------------------------------------------------------
 */
void
Ns_EventSet(Ns_Event *event, unsigned int when, const Ns_Time *timeoutPtr)
{
    if (isEventThread) {
        event->when = when;
        event->timeoutUs = TimeoutUs(timeoutPtr);
        Apply(event);
    } else {
        Command *cmdPtr = NewCommand(CMD_SET, event);

        cmdPtr->when = when;
        cmdPtr->timeoutUs = TimeoutUs(timeoutPtr);
        Enqueue(cmdPtr);
    }
}

/*
 *----------------------------------------------------------------------
 * Ns_EventDestroy --
 *
 *      Stop an event.  Its proc is not called again (the flag is seen at
 *      once by the event thread); freeProc runs in the event thread.
 *----------------------------------------------------------------------
 */
void
Ns_EventDestroy(Ns_Event *event)
{
    atomic_store(&event->destroyed, true);
    if (isEventThread) {
        /* Maybe inside its own proc: free after the current dispatch round. */
        Command *cmdPtr = NewCommand(CMD_DESTROY, event);

        pthread_mutex_lock(&queueLock);
        cmdPtr->nextPtr = NULL;
        if (queueTail != NULL) {
            queueTail->nextPtr = cmdPtr;
        } else {
            queueHead = cmdPtr;
        }
        queueTail = cmdPtr;
        pthread_mutex_unlock(&queueLock);
    } else {
        Enqueue(NewCommand(CMD_DESTROY, event));
    }
}

/*
 *----------------------------------------------------------------------
 * Ns_EventCall --
 *
 *      Run proc(arg) in the event thread: at once when called there,
 *      otherwise as soon as it gets to it.
 *----------------------------------------------------------------------
 */
void
Ns_EventCall(Ns_EventCallProc *proc, void *arg)
{
    if (isEventThread) {
        proc(arg);
    } else {
        Command *cmdPtr = NewCommand(CMD_CALL, NULL);

        cmdPtr->callProc = proc;
        cmdPtr->callArg = arg;
        Enqueue(cmdPtr);
    }
}

bool
Ns_EventIsEventThread(void)
{
    return isEventThread;
}

/*
 *----------------------------------------------------------------------
 * Dispatch --
 *
 *      Call an event's proc unless it was destroyed meanwhile, and restart
 *      its inactivity timeout.
 *----------------------------------------------------------------------
 */
static void
Dispatch(Ns_Event *event, unsigned int why)
{
    if (atomic_load(&event->destroyed)) {
        return;
    }
    if (event->timeoutUs >= 0 && why != NS_EV_TIMEOUT) {
        event->deadlineUs = DeadlineUs(MonotonicUs(), event->timeoutUs);
    }
    event->proc(event, event->arg, why);
}

/*
 *----------------------------------------------------------------------
 * RunCommands --
 *
 *      Apply what other threads asked for.
 *
 * Results:
 *      true when asked to exit.
 *----------------------------------------------------------------------
 */
static bool
RunCommands(void)
{
    Command *cmdPtr;
    bool     exit = false;

    pthread_mutex_lock(&queueLock);
    cmdPtr = queueHead;
    queueHead = queueTail = NULL;
    pthread_mutex_unlock(&queueLock);

    while (cmdPtr != NULL) {
        Command *nextPtr = cmdPtr->nextPtr;

        switch (cmdPtr->type) {
        case CMD_SET:
            if (!atomic_load(&cmdPtr->event->destroyed)) {
                cmdPtr->event->when = cmdPtr->when;
                cmdPtr->event->timeoutUs = cmdPtr->timeoutUs;
                Apply(cmdPtr->event);
            }
            break;
        case CMD_DESTROY:
            Remove(cmdPtr->event);
            break;
        case CMD_CALL:
            cmdPtr->callProc(cmdPtr->callArg);
            break;
        case CMD_EXIT:
            exit = true;
            break;
        }
        ckfree(cmdPtr);
        cmdPtr = nextPtr;
    }
    return exit;
}

/*
 *----------------------------------------------------------------------
 * CheckTimeouts --
 *
 *      Fire NS_EV_TIMEOUT for events idle past their timeout.  The
 *      deadline is pushed on first, so a proc that does nothing is called
 *      again only after another full timeout.
 *----------------------------------------------------------------------
 */
static void
CheckTimeouts(void)
{
    int64_t now = MonotonicUs();

    for (Ns_Event *event = events; event != NULL;) {
        Ns_Event *nextPtr = event->nextPtr;

        if (event->timeoutUs >= 0 && event->deadlineUs < now) {
            event->deadlineUs = DeadlineUs(now, event->timeoutUs);
            Dispatch(event, NS_EV_TIMEOUT);
        }
        event = nextPtr;
    }
}

/*
 *----------------------------------------------------------------------
 * EventThread --
 *
 *      The loop: epoll, commands, timeouts; at exit every live event gets
 *      NS_EV_EXIT once, then the commands that caused are run, and the
 *      thread's interps are deleted.
 *----------------------------------------------------------------------
 */
static void *
EventThread(void *UNUSED(arg))
{
    struct epoll_event ready[MAX_EVENTS];
    Ns_Time            lastTick, now;
    bool               exit = false;

    isEventThread = true;
    NsLogSetThreadName("event");
    Ns_GetMonotonicTime(&lastTick);

    while (!exit) {
        int n = epoll_wait(epollFd, ready, MAX_EVENTS, TIMER_TICK_MS);

        if (n < 0 && errno != EINTR) {
            Ns_Log(Error, "event: epoll_wait: %s", strerror(errno));
            break;
        }
        for (int i = 0; i < n; i++) {
            Ns_Event    *event = ready[i].data.ptr;
            uint32_t     got = ready[i].events;
            unsigned int why = 0;

            if (event == NULL) {
                uint64_t count;

                (void)!read(wakeFd, &count, sizeof(count));
                continue;
            }
            if ((got & (EPOLLIN | EPOLLRDHUP)) != 0) {
                why |= NS_EV_READ;
            }
            if ((got & EPOLLOUT) != 0) {
                why |= NS_EV_WRITE;
            }
            if ((got & (EPOLLERR | EPOLLHUP)) != 0) {
                /* Let a reader see the EOF or error through its read. */
                why |= ((event->when & NS_EV_READ) != 0) ? NS_EV_READ : NS_EV_ERROR;
            }
            why &= event->when | NS_EV_ERROR;
            if (why != 0) {
                Dispatch(event, why);
            }
        }
        exit = RunCommands();
        Ns_GetMonotonicTime(&now);
        if (Ns_TimeToMilliseconds(&now) - Ns_TimeToMilliseconds(&lastTick) >= TIMER_TICK_MS) {
            CheckTimeouts();
            lastTick = now;
        }
    }

    for (Ns_Event *event = events; event != NULL;) {
        Ns_Event *nextPtr = event->nextPtr;

        Dispatch(event, NS_EV_EXIT);
        event = nextPtr;
    }
    (void)RunCommands();
    pthread_mutex_lock(&queueLock);
    exited = true;
    pthread_mutex_unlock(&queueLock);
    (void)RunCommands();
    while (events != NULL) {
        Remove(events);
    }
    NsTclFreeThreadInterps();
    Tcl_FinalizeThread();
    return NULL;
}

/*
 *----------------------------------------------------------------------
 * NsStopEvents --
 *
 *      At shutdown: deliver NS_EV_EXIT to every event and end the thread,
 *      waiting for it until the shutdown deadline (wall clock).
 *
 * Results:
 *      false when the thread is still running at the deadline (a callback
 *      that does not return): the process must exit without it.
 *----------------------------------------------------------------------
 */
bool
NsStopEvents(const Ns_Time *deadlinePtr)
{
    bool wasStarted, ended = true;

    pthread_mutex_lock(&queueLock);
    wasStarted = started && !exited;
    pthread_mutex_unlock(&queueLock);
    if (wasStarted) {
        struct timespec ts = {deadlinePtr->sec, deadlinePtr->usec * 1000};

        Enqueue(NewCommand(CMD_EXIT, NULL));
        ended = (pthread_timedjoin_np(eventThread, NULL, &ts) == 0);
        if (!ended) {
            Ns_Log(Warning, "event: thread still busy at the end of shutdowntimeout");
        }
    }
    return ended;
}
