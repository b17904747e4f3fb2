/*
 * pool.c --
 *
 *      The connection thread pool of a server: a queue of complete requests
 *      and minthreads..maxthreads threads, each with its own Tcl interp,
 *      that take requests from the queue and run them.  The queue holds at
 *      most maxconnections requests; past that the driver answers 503.
 *
 *      Lock order: servPtr->lock is a leaf lock; it is never held while
 *      running a request, logging, or doing I/O.
 */

#include "nsd.h"

#include <openssl/crypto.h>

static void *ConnThread(void *arg);
static void  CreateConnThread(NsServer *servPtr);

static atomic_uint_fast64_t nextThreadId = 0;

/*
 *----------------------------------------------------------------------
 * NsStartPool --
 *
 *      Start the server's minthreads connection threads.
 *----------------------------------------------------------------------
 */
void
NsStartPool(NsServer *servPtr)
{
    pthread_mutex_lock(&servPtr->lock);
    for (int i = 0; i < servPtr->minthreads; i++) {
        CreateConnThread(servPtr);
    }
    pthread_mutex_unlock(&servPtr->lock);
}

/*
 *----------------------------------------------------------------------
 * CreateConnThread --
 *
 *      Start one more connection thread.  Called with servPtr->lock held.
 *----------------------------------------------------------------------
 */
static void
CreateConnThread(NsServer *servPtr)
{
    pthread_t      thread;
    pthread_attr_t attr;

    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    /* Tcl recursion in pages wants more than a small default stack. */
    pthread_attr_setstacksize(&attr, 2 * 1024 * 1024);
    if (pthread_create(&thread, &attr, ConnThread, servPtr) == 0) {
        servPtr->threads++;
    }
    pthread_attr_destroy(&attr);
}

/*
 *----------------------------------------------------------------------
 * NsQueueConn --
 *
 *      Queue a complete request for a connection thread, starting another
 *      thread when all are busy and maxthreads allows.
 *
 * Results:
 *      true when queued; false when the queue is full or the server is
 *      stopping (the caller still owns connPtr and answers 503).
 *----------------------------------------------------------------------
 */
bool
NsQueueConn(NsServer *servPtr, Conn *connPtr)
{
    bool queued = false;
    bool wake = false;

    pthread_mutex_lock(&servPtr->lock);
    if (!servPtr->stopping && servPtr->queued < servPtr->maxconnections) {
        connPtr->nextPtr = NULL;
        if (servPtr->queueTail != NULL) {
            servPtr->queueTail->nextPtr = connPtr;
        } else {
            servPtr->queueHead = connPtr;
        }
        servPtr->queueTail = connPtr;
        servPtr->queued++;
        if (servPtr->idle < servPtr->queued && servPtr->threads < servPtr->maxthreads) {
            CreateConnThread(servPtr);
        }
        /*
         * A busy thread looks at the queue before it waits again, so only
         * an idle one needs waking.
         */
        wake = (servPtr->idle > 0);
        queued = true;
    }
    pthread_mutex_unlock(&servPtr->lock);
    if (wake) {
        /*
         * Signalled after the unlock: a thread woken while the lock is still
         * held would only go back to sleep, on the mutex this time.
         */
        pthread_cond_signal(&servPtr->cond);
    }
    return queued;
}

/*
 *----------------------------------------------------------------------
 * ConnThread --
 *
 *      A connection thread: create the thread's interp once, then run
 *      queued requests until the server stops.
 *----------------------------------------------------------------------
 */
static void *
ConnThread(void *arg)
{
    NsServer *servPtr = arg;
    char      name[64];

    snprintf(name, sizeof(name), "conn:%s:%" PRIuFAST64, servPtr->name,
             atomic_fetch_add(&nextThreadId, 1));
    NsLogSetThreadName(name);
    /* Create the interp before taking work, so the first request is not slow. */
    (void)NsTclConnInterp(servPtr);

    pthread_mutex_lock(&servPtr->lock);
    for (;;) {
        Conn *connPtr;

        servPtr->idle++;
        while (servPtr->queueHead == NULL && !servPtr->stopping) {
            pthread_cond_wait(&servPtr->cond, &servPtr->lock);
        }
        servPtr->idle--;
        connPtr = servPtr->queueHead;
        if (connPtr == NULL) {
            /* Stopping and nothing left to do. */
            break;
        }
        servPtr->queueHead = connPtr->nextPtr;
        if (servPtr->queueHead == NULL) {
            servPtr->queueTail = NULL;
        }
        servPtr->queued--;
        servPtr->active++;
        pthread_mutex_unlock(&servPtr->lock);

        NsConnRun(connPtr);

        /* Held on into the next turn: one lock round per request, not two. */
        pthread_mutex_lock(&servPtr->lock);
        servPtr->active--;
    }
    pthread_mutex_unlock(&servPtr->lock);

    /*
     * Release what the thread holds (its interps, Tcl's and OpenSSL's
     * per-thread state) before saying it is gone: the process may exit as
     * soon as the last thread is counted out.
     */
    NsTclFreeThreadInterps();
    Tcl_FinalizeThread();
    OPENSSL_thread_stop();
    pthread_mutex_lock(&servPtr->lock);
    servPtr->threads--;
    pthread_cond_broadcast(&servPtr->cond);
    pthread_mutex_unlock(&servPtr->lock);
    return NULL;
}

/*
 *----------------------------------------------------------------------
 * NsStopPool --
 *
 *      Let queued and running requests finish, until the deadline at most,
 *      then let the threads exit.
 *----------------------------------------------------------------------
 */
void
NsStopPool(NsServer *servPtr, const Ns_Time *deadlinePtr)
{
    struct timespec ts;
    int             rc = 0;

    ts.tv_sec = deadlinePtr->sec;
    ts.tv_nsec = deadlinePtr->usec * 1000;
    pthread_mutex_lock(&servPtr->lock);
    servPtr->stopping = true;
    pthread_cond_broadcast(&servPtr->cond);
    while (servPtr->threads > 0 && rc == 0) {
        rc = pthread_cond_timedwait(&servPtr->cond, &servPtr->lock, &ts);
    }
    if (servPtr->threads > 0) {
        int threads = servPtr->threads;

        pthread_mutex_unlock(&servPtr->lock);
        Ns_Log(Warning, "server %s: %d connection threads still busy at shutdown timeout",
               servPtr->name, threads);
    } else {
        pthread_mutex_unlock(&servPtr->lock);
    }
}
