/*
 * tclthread.c --
 *
 *      Threads and mutexes for Tcl scripts: the commands "ns_thread" and
 *      "ns_mutex", with NaviServer 5's subcommands, handles and messages.
 *
 *      A thread made by "ns_thread create" runs its script in a fresh interp
 *      of the creating interp's server; the script crosses over as a C
 *      string, and the result comes back as one for "ns_thread wait".
 *      Handles look like NaviServer's ("t<hex>-a<hex>-ns:thread") but are
 *      checked against a table of the threads not yet waited for, so a
 *      stale or forged handle is an error, not a crash.
 *
 *      Mutexes are process-wide: a handle ("ns:mutex:tcl:0", or any name
 *      used with lock, unlock, trylock or eval, which creates it) means the
 *      same mutex in every thread.  Like NaviServer, mutexes live until the
 *      process exits ("destroy" does nothing): another thread may still
 *      hold or wait for one.  They are error-checking mutexes, so locking
 *      twice or unlocking a mutex the thread does not hold is a Tcl error
 *      instead of a deadlock or undefined behaviour.
 */

#include "nsd.h"

#include <sched.h>

/*
 * A mutex of ns_mutex.
 */
typedef struct MutexRec {
    pthread_mutex_t  lock;  /* the mutex itself */
    atomic_uintptr_t owner; /* thread holding it, 0 when free */
    char            *name;  /* name given to "ns_mutex create", or NULL */
} MutexRec;

/*
 * A thread of ns_thread.  Owned by the thread while it runs detached,
 * else by whoever waits for it.
 */
typedef struct ThreadRec {
    pthread_t tid;
    bool      detached;
    char     *server;       /* server of the creating interp, or NULL */
    char     *name;         /* thread name for the log */
    char     *script;       /* the script, freed when it is done */
    char     *result;       /* result string, for "ns_thread wait" */
} ThreadRec;

/*
 * syncLock protects the two tables and the mutex counter.  It is never
 * held while locking a MutexRec or joining a thread.
 */
static pthread_mutex_t syncLock = PTHREAD_MUTEX_INITIALIZER;
static bool            tablesInitialized = false;
static Tcl_HashTable   mutexTable;    /* handle -> MutexRec *, never shrinks */
static Tcl_HashTable   threadTable;   /* ThreadRec * -> itself, threads to wait for */
static unsigned int    nextMutexId = 0u;

static atomic_uint threadCounter;     /* numbers the names of new threads */

/* The handle type string; its address is part of thread handles. */
static const char threadType[] = "ns:thread";

static _Thread_local ThreadRec *currentThreadPtr = NULL;

static void InitTables(void);
static MutexRec *NewMutex(Tcl_HashEntry *hPtr, const char *label);
static MutexRec *GetMutex(const char *handle, bool create);
static Tcl_Obj *CreateMutex(const char *label);
static Ns_ObjvProc ObjvMutex;
static int MutexError(Tcl_Interp *interp, const char *what, int err, Tcl_Obj *handleObj);
static Tcl_Obj *NewThreadHandle(uintptr_t addr);
static ThreadRec *TakeThread(Tcl_Interp *interp, const char *handle);
static void FreeThreadRec(ThreadRec *recPtr);
static void *ThreadMain(void *arg);
static char *CopyString(const char *string);

static Tcl_ObjCmdProc MutexCreateObjCmd, MutexDestroyObjCmd, MutexEvalObjCmd,
    MutexLockObjCmd, MutexTrylockObjCmd, MutexUnlockObjCmd;
static Tcl_ObjCmdProc ThreadCreateObjCmd, ThreadHandleObjCmd, ThreadIdObjCmd,
    ThreadNameObjCmd, ThreadStackinfoObjCmd, ThreadWaitObjCmd, ThreadYieldObjCmd;


/*
 *----------------------------------------------------------------------
 *
 * InitTables --
 *
 *      Initialise the tables on first use; the caller holds syncLock.
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      Initialises mutexTable and threadTable.
 *
 *----------------------------------------------------------------------
 */

static void
InitTables(void)
{
    if (!tablesInitialized) {
        Tcl_InitHashTable(&mutexTable, TCL_STRING_KEYS);
        Tcl_InitHashTable(&threadTable, TCL_ONE_WORD_KEYS);
        tablesInitialized = true;
    }
}


/*
 *----------------------------------------------------------------------
 *
 * CopyString --
 *
 *      strdup that keeps NULL and never fails.
 *
 * Results:
 *      The copy (free with free), or NULL.
 *
 * Side effects:
 *      Ends the process through Ns_Fatal when memory is exhausted.
 *
 *----------------------------------------------------------------------
 */

static char *
CopyString(const char *string)
{
    char *copy = NULL;

    if (string != NULL) {
        copy = strdup(string);
        if (copy == NULL) {
            Ns_Fatal("ns_thread: out of memory");
        }
    }
    return copy;
}


/*
 *----------------------------------------------------------------------
 *
 * NewMutex --
 *
 *      Make the mutex of a new entry of mutexTable; the caller holds
 *      syncLock.
 *
 * Results:
 *      The mutex.
 *
 * Side effects:
 *      Allocates and initialises the mutex; it lives until the process
 *      exits.
 *
 *----------------------------------------------------------------------
 */

static MutexRec *
NewMutex(Tcl_HashEntry *hPtr, const char *label)
{
    MutexRec           *mutexPtr = malloc(sizeof(MutexRec));
    pthread_mutexattr_t attr;

    if (mutexPtr == NULL) {
        Ns_Fatal("ns_mutex: out of memory");
    }
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK);
    pthread_mutex_init(&mutexPtr->lock, &attr);
    pthread_mutexattr_destroy(&attr);
    atomic_init(&mutexPtr->owner, 0);
    mutexPtr->name = CopyString(label);
    Tcl_SetHashValue(hPtr, mutexPtr);
    return mutexPtr;
}


/*
 *----------------------------------------------------------------------
 *
 * GetMutex --
 *
 *      Find the mutex of a handle; with create, make it when it is new.
 *
 * Results:
 *      The mutex, or NULL when it does not exist and create is false.
 *
 * Side effects:
 *      May create a mutex.
 *
 *----------------------------------------------------------------------
 */

static MutexRec *
GetMutex(const char *handle, bool create)
{
    MutexRec      *mutexPtr = NULL;
    Tcl_HashEntry *hPtr;
    int            isNew = 0;

    pthread_mutex_lock(&syncLock);
    InitTables();
    if (create) {
        hPtr = Tcl_CreateHashEntry(&mutexTable, handle, &isNew);
    } else {
        hPtr = Tcl_FindHashEntry(&mutexTable, handle);
    }
    if (isNew != 0) {
        mutexPtr = NewMutex(hPtr, NULL);
    } else if (hPtr != NULL) {
        mutexPtr = Tcl_GetHashValue(hPtr);
    }
    pthread_mutex_unlock(&syncLock);
    return mutexPtr;
}


/*
 *----------------------------------------------------------------------
 *
 * CreateMutex --
 *
 *      Make a mutex with a new handle "ns:mutex:tcl:N" (skipping numbers
 *      someone already used as a name).
 *
 * Results:
 *      The handle, a new Tcl_Obj.
 *
 * Side effects:
 *      Creates a mutex.
 *
 *----------------------------------------------------------------------
 */

static Tcl_Obj *
CreateMutex(const char *label)
{
    Tcl_HashEntry *hPtr = NULL;
    int            isNew = 0;
    char           handle[64];

    pthread_mutex_lock(&syncLock);
    InitTables();
    while (isNew == 0) {
        snprintf(handle, sizeof(handle), "ns:mutex:tcl:%u", nextMutexId++);
        hPtr = Tcl_CreateHashEntry(&mutexTable, handle, &isNew);
    }
    (void)NewMutex(hPtr, label);
    pthread_mutex_unlock(&syncLock);
    return Tcl_NewStringObj(handle, -1);
}


/*
 *----------------------------------------------------------------------
 *
 * ObjvMutex --
 *
 *      Ns_ObjvProc for a mutex handle; dest is a MutexRec **.  The mutex is
 *      created when it does not exist, unless arg is INT2PTR(1), in which
 *      case dest may get NULL.
 *
 * Results:
 *      TCL_OK, or TCL_ERROR when the word is missing.
 *
 * Side effects:
 *      May create a mutex; decrements *objcPtr.
 *
 *----------------------------------------------------------------------
 */

static int
ObjvMutex(Ns_ObjvSpec *spec, Tcl_Interp *interp, int *objcPtr, Tcl_Obj *const objv[])
{
    int result = TCL_OK;

    if (*objcPtr < 1) {
        Ns_TclPrintfResult(interp, "missing argument to %s", spec->key);
        result = TCL_ERROR;
    } else {
        *(MutexRec **)spec->dest = GetMutex(Tcl_GetString(objv[0]), spec->arg == NULL);
        *objcPtr -= 1;
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * MutexLock, MutexTrylock, MutexUnlock --
 *
 *      Lock and unlock with the owner kept, so that misuse (locking twice,
 *      unlocking a mutex this thread does not hold) is refused before it
 *      reaches pthreads: an error for the script, never undefined
 *      behaviour or a sanitizer report.
 *
 * Results:
 *      0, or EDEADLK, EBUSY, EPERM or another pthread error.
 *
 *----------------------------------------------------------------------
 */

static int
MutexLock(MutexRec *mutexPtr)
{
    uintptr_t self = (uintptr_t)pthread_self();
    int       err = EDEADLK;

    if (atomic_load(&mutexPtr->owner) != self) {
        err = pthread_mutex_lock(&mutexPtr->lock);
        if (err == 0) {
            atomic_store(&mutexPtr->owner, self);
        }
    }
    return err;
}

static int
MutexTrylock(MutexRec *mutexPtr)
{
    uintptr_t self = (uintptr_t)pthread_self();
    int       err = EBUSY;

    if (atomic_load(&mutexPtr->owner) != self) {
        err = pthread_mutex_trylock(&mutexPtr->lock);
        if (err == 0) {
            atomic_store(&mutexPtr->owner, self);
        }
    }
    return err;
}

static int
MutexUnlock(MutexRec *mutexPtr)
{
    int err = EPERM;

    if (atomic_load(&mutexPtr->owner) == (uintptr_t)pthread_self()) {
        atomic_store(&mutexPtr->owner, 0);
        err = pthread_mutex_unlock(&mutexPtr->lock);
    }
    return err;
}


/*
 *----------------------------------------------------------------------
 *
 * MutexError --
 *
 *      Report a failed lock or unlock of a mutex.
 *
 * Results:
 *      TCL_ERROR with a message and -errorcode NS MUTEX handle.
 *
 * Side effects:
 *      Sets the interp result.
 *
 *----------------------------------------------------------------------
 */

static int
MutexError(Tcl_Interp *interp, const char *what, int err, Tcl_Obj *handleObj)
{
    const char *handle = Tcl_GetString(handleObj);

    if (err == EDEADLK) {
        Ns_TclPrintfResult(interp, "mutex \"%s\" is already locked by this thread", handle);
    } else if (err == EPERM) {
        Ns_TclPrintfResult(interp, "mutex \"%s\" is not locked by this thread", handle);
    } else {
        Ns_TclPrintfResult(interp, "cannot %s mutex \"%s\": %s", what, handle, strerror(err));
    }
    Tcl_SetErrorCode(interp, "NS", "MUTEX", handle, (char *)NULL);
    return TCL_ERROR;
}


/*
 *----------------------------------------------------------------------
 *
 * MutexCreateObjCmd --
 *
 *      Implements "ns_mutex create ?/name/?": a new mutex; the name is
 *      only a label, the handle is always new.
 *
 * Results:
 *      Tcl result: the handle, "ns:mutex:tcl:N".
 *
 * Side effects:
 *      Creates a mutex.
 *
 *----------------------------------------------------------------------
 */

static int
MutexCreateObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                  Tcl_Obj *const objv[])
{
    int         result = TCL_OK;
    char       *name = NULL;
    Ns_ObjvSpec args[] = {
        {"?name", Ns_ObjvString, &name, NULL},
        {NULL, NULL, NULL, NULL}
    };

    if (Ns_ParseObjv(NULL, args, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        Tcl_SetObjResult(interp, CreateMutex(name));
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * MutexDestroyObjCmd --
 *
 *      Implements "ns_mutex destroy /mutexId/".  Nothing is destroyed, as
 *      in NaviServer: another thread may still use the mutex.
 *
 * Results:
 *      Tcl result: the handle.
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

static int
MutexDestroyObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                   Tcl_Obj *const objv[])
{
    int         result = TCL_OK;
    MutexRec   *mutexPtr = NULL;
    Ns_ObjvSpec args[] = {
        {"mutexId", ObjvMutex, &mutexPtr, INT2PTR(1)},
        {NULL, NULL, NULL, NULL}
    };

    if (Ns_ParseObjv(NULL, args, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        Tcl_SetObjResult(interp, objv[2]);
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * MutexLockObjCmd, MutexUnlockObjCmd --
 *
 *      Implement "ns_mutex lock /mutexId/" (blocks until the mutex is
 *      free) and "ns_mutex unlock /mutexId/".
 *
 * Results:
 *      Tcl result: the handle; an error when this thread holds the mutex
 *      already (lock) or does not hold it (unlock).
 *
 * Side effects:
 *      Locks or unlocks the mutex.
 *
 *----------------------------------------------------------------------
 */

static int
MutexLockObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                Tcl_Obj *const objv[])
{
    int         result = TCL_OK, err;
    MutexRec   *mutexPtr = NULL;
    Ns_ObjvSpec args[] = {
        {"mutexId", ObjvMutex, &mutexPtr, NULL},
        {NULL, NULL, NULL, NULL}
    };

    if (Ns_ParseObjv(NULL, args, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else if ((err = MutexLock(mutexPtr)) != 0) {
        result = MutexError(interp, "lock", err, objv[2]);
    } else {
        Tcl_SetObjResult(interp, objv[2]);
    }
    return result;
}

static int
MutexUnlockObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                  Tcl_Obj *const objv[])
{
    int         result = TCL_OK, err;
    MutexRec   *mutexPtr = NULL;
    Ns_ObjvSpec args[] = {
        {"mutexId", ObjvMutex, &mutexPtr, NULL},
        {NULL, NULL, NULL, NULL}
    };

    if (Ns_ParseObjv(NULL, args, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else if ((err = MutexUnlock(mutexPtr)) != 0) {
        result = MutexError(interp, "unlock", err, objv[2]);
    } else {
        Tcl_SetObjResult(interp, objv[2]);
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * MutexTrylockObjCmd --
 *
 *      Implements "ns_mutex trylock /mutexId/": lock without blocking.
 *
 * Results:
 *      Tcl result: 0 when the mutex was locked now, -1 when it is busy
 *      (also when this thread holds it), as NaviServer 5.
 *
 * Side effects:
 *      May lock the mutex.
 *
 *----------------------------------------------------------------------
 */

static int
MutexTrylockObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                   Tcl_Obj *const objv[])
{
    int         result = TCL_OK;
    MutexRec   *mutexPtr = NULL;
    Ns_ObjvSpec args[] = {
        {"mutexId", ObjvMutex, &mutexPtr, NULL},
        {NULL, NULL, NULL, NULL}
    };

    if (Ns_ParseObjv(NULL, args, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        int err = MutexTrylock(mutexPtr);

        if (err != 0 && err != EBUSY) {
            result = MutexError(interp, "lock", err, objv[2]);
        } else {
            Tcl_SetObjResult(interp, Tcl_NewIntObj(err == 0 ? 0 : -1));
        }
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * MutexEvalObjCmd --
 *
 *      Implements "ns_mutex eval /mutexId/ /script/": run the script with
 *      the mutex held, releasing it however the script ends.
 *
 * Results:
 *      The script's result and code.
 *
 * Side effects:
 *      Those of the script.
 *
 *----------------------------------------------------------------------
 */

static int
MutexEvalObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                Tcl_Obj *const objv[])
{
    int         result = TCL_OK, err;
    MutexRec   *mutexPtr = NULL;
    Tcl_Obj    *scriptObj = NULL;
    Ns_ObjvSpec args[] = {
        {"mutexId", ObjvMutex,  &mutexPtr,  NULL},
        {"script",  Ns_ObjvObj, &scriptObj, NULL},
        {NULL, NULL, NULL, NULL}
    };

    if (Ns_ParseObjv(NULL, args, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else if ((err = MutexLock(mutexPtr)) != 0) {
        result = MutexError(interp, "lock", err, objv[2]);
    } else {
        result = Tcl_EvalObjEx(interp, scriptObj, 0);
        /*
         * The script may have unlocked the mutex itself; that is its
         * business, and no reason to lose its result.
         */
        (void)MutexUnlock(mutexPtr);
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * NsTclMutexObjCmd --
 *
 *      Implements "ns_mutex".
 *
 * Results:
 *      Tcl result.
 *
 * Side effects:
 *      Those of the subcommand.
 *
 *----------------------------------------------------------------------
 */

int
NsTclMutexObjCmd(ClientData clientData, Tcl_Interp *interp, int objc, Tcl_Obj *const objv[])
{
    static const Ns_SubCmdSpec subcmds[] = {
        {"create",  MutexCreateObjCmd},
        {"destroy", MutexDestroyObjCmd},
        {"eval",    MutexEvalObjCmd},
        {"lock",    MutexLockObjCmd},
        {"trylock", MutexTrylockObjCmd},
        {"unlock",  MutexUnlockObjCmd},
        {NULL, NULL}
    };

    return Ns_SubcmdObjv(subcmds, clientData, interp, objc, objv);
}


/*
 *----------------------------------------------------------------------
 *
 * NewThreadHandle --
 *
 *      Make a thread handle in NaviServer's form, "t<hex>-a<hex>-ns:thread"
 *      (the type's and the thread's address).
 *
 * Results:
 *      A new Tcl_Obj.
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

static Tcl_Obj *
NewThreadHandle(uintptr_t addr)
{
    return Tcl_ObjPrintf("t%" PRIxPTR "-a%" PRIxPTR "-%s", (uintptr_t)threadType, addr,
                         threadType);
}


/*
 *----------------------------------------------------------------------
 *
 * TakeThread --
 *
 *      Resolve a thread handle for "ns_thread wait" and remove the thread
 *      from the table, so that it is waited for once.
 *
 * Results:
 *      The thread, or NULL with NaviServer's message (invalid address
 *      "x") for a malformed, unknown, detached or already waited-for
 *      thread, or with "cannot wait for the current thread".
 *
 * Side effects:
 *      Removes the thread from threadTable.
 *
 *----------------------------------------------------------------------
 */

static ThreadRec *
TakeThread(Tcl_Interp *interp, const char *handle)
{
    uintptr_t   typeAddr = 0u, addr = 0u;
    ThreadRec  *recPtr = NULL;
    Tcl_Obj    *expectedObj = NULL;
    bool        isSelf = false;

    /* Only the exact text this file makes is a handle. */
    if (sscanf(handle, "t%" SCNxPTR "-a%" SCNxPTR, &typeAddr, &addr) == 2) {
        expectedObj = NewThreadHandle(addr);
        Tcl_IncrRefCount(expectedObj);
    }
    if (expectedObj != NULL && strcmp(Tcl_GetString(expectedObj), handle) == 0) {
        Tcl_HashEntry *hPtr;

        pthread_mutex_lock(&syncLock);
        InitTables();
        hPtr = Tcl_FindHashEntry(&threadTable, (const char *)addr);
        if (hPtr != NULL) {
            recPtr = Tcl_GetHashValue(hPtr);
            if (recPtr == currentThreadPtr) {
                recPtr = NULL;
                isSelf = true;
            } else {
                Tcl_DeleteHashEntry(hPtr);
            }
        }
        pthread_mutex_unlock(&syncLock);
    }
    if (expectedObj != NULL) {
        Tcl_DecrRefCount(expectedObj);
    }
    if (isSelf) {
        Ns_TclPrintfResult(interp, "cannot wait for the current thread");
    } else if (recPtr == NULL) {
        Ns_TclPrintfResult(interp, "invalid address \"%s\"", handle);
    }
    return recPtr;
}


/*
 *----------------------------------------------------------------------
 *
 * FreeThreadRec --
 *
 *      Free a thread record.
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      Frees memory.
 *
 *----------------------------------------------------------------------
 */

static void
FreeThreadRec(ThreadRec *recPtr)
{
    free(recPtr->server);
    free(recPtr->name);
    free(recPtr->script);
    free(recPtr->result);
    free(recPtr);
}


/*
 *----------------------------------------------------------------------
 *
 * ThreadMain --
 *
 *      Body of an ns_thread thread: run the script in a fresh interp of
 *      the server, keep its result for "ns_thread wait", and leave Tcl.
 *      A script error is logged; the error message is the result.
 *
 * Results:
 *      NULL.
 *
 * Side effects:
 *      Those of the script.  A detached thread frees its record.
 *
 *----------------------------------------------------------------------
 */

static void *
ThreadMain(void *arg)
{
    ThreadRec  *recPtr = arg;
    Tcl_Interp *interp;

    currentThreadPtr = recPtr;
    NsLogSetThreadName(recPtr->name);

    interp = Ns_TclAllocateInterp(recPtr->server);
    if (interp == NULL) {
        Ns_Log(Error, "ns_thread: cannot get an interp for server %s",
               recPtr->server != NULL ? recPtr->server : "(none)");
    } else {
        if (Tcl_EvalEx(interp, recPtr->script, -1, TCL_EVAL_GLOBAL) != TCL_OK) {
            Ns_TclLogErrorInfo(interp, "ns_thread");
        }
        if (!recPtr->detached) {
            recPtr->result = CopyString(Tcl_GetStringResult(interp));
        }
        Ns_TclDeAllocateInterp(interp);
    }
    free(recPtr->script);
    recPtr->script = NULL;

    currentThreadPtr = NULL;
    if (recPtr->detached) {
        FreeThreadRec(recPtr);
    }
    Tcl_FinalizeThread();
    return NULL;
}


/*
 *----------------------------------------------------------------------
 *
 * ThreadCreateObjCmd --
 *
 *      Implements "ns_thread create ?-detached? ?-name /value/? ?--?
 *      /script/" and the deprecated "begin" and "begindetached" (which is
 *      create -detached).
 *
 * Results:
 *      Tcl result: the thread handle, or empty for a detached thread;
 *      "cannot create thread" when the system refuses.
 *
 * Side effects:
 *      Starts a thread.
 *
 *----------------------------------------------------------------------
 */

static int
ThreadCreateObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                   Tcl_Obj *const objv[])
{
    int         result = TCL_OK, detached = 0;
    char       *name = (char *)"nsthread", *script = NULL;
    Ns_ObjvSpec opts[] = {
        {"-detached", Ns_ObjvBool,   &detached, INT2PTR(1)},
        {"-name",     Ns_ObjvString, &name,     NULL},
        {"--",        Ns_ObjvBreak,  NULL,      NULL},
        {NULL, NULL, NULL, NULL}
    };
    Ns_ObjvSpec args[] = {
        {"script", Ns_ObjvString, &script, NULL},
        {NULL, NULL, NULL, NULL}
    };

    if (strcmp(Tcl_GetString(objv[1]), "begindetached") == 0) {
        detached = 1;
    }
    if (Ns_ParseObjv(opts, args, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        ThreadRec     *recPtr = calloc(1u, sizeof(ThreadRec));
        pthread_attr_t attr;
        Tcl_Obj       *handleObj = NULL;
        char           threadName[128];
        int            err, isNew;

        if (recPtr == NULL) {
            Ns_Fatal("ns_thread: out of memory");
        }
        snprintf(threadName, sizeof(threadName), "tcl:%s:%u", name,
                 atomic_fetch_add(&threadCounter, 1u));
        recPtr->detached = (detached != 0);
        recPtr->server = CopyString(Ns_TclInterpServer(interp));
        recPtr->name = CopyString(threadName);
        recPtr->script = CopyString(script);
        if (!recPtr->detached) {
            /* Made now: a detached thread may free its record at any time. */
            handleObj = NewThreadHandle((uintptr_t)recPtr);
            Tcl_IncrRefCount(handleObj);
        }

        if (handleObj != NULL) {
            /*
             * Register a joinable thread before it starts: nobody can ask
             * for it before this command returns its handle.
             */
            pthread_mutex_lock(&syncLock);
            InitTables();
            Tcl_SetHashValue(Tcl_CreateHashEntry(&threadTable, (const char *)recPtr, &isNew),
                             recPtr);
            pthread_mutex_unlock(&syncLock);
        }
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, recPtr->detached
                                    ? PTHREAD_CREATE_DETACHED : PTHREAD_CREATE_JOINABLE);
        err = pthread_create(&recPtr->tid, &attr, ThreadMain, recPtr);
        pthread_attr_destroy(&attr);

        if (err != 0) {
            if (handleObj != NULL) {
                pthread_mutex_lock(&syncLock);
                Tcl_DeleteHashEntry(Tcl_FindHashEntry(&threadTable, (const char *)recPtr));
                pthread_mutex_unlock(&syncLock);
                Tcl_DecrRefCount(handleObj);
            }
            FreeThreadRec(recPtr);
            Ns_Log(Error, "ns_thread: pthread_create failed: %s", strerror(err));
            Ns_TclPrintfResult(interp, "cannot create thread");
            result = TCL_ERROR;
        } else if (handleObj != NULL) {
            Tcl_SetObjResult(interp, handleObj);
            Tcl_DecrRefCount(handleObj);
        }
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * ThreadWaitObjCmd --
 *
 *      Implements "ns_thread wait /threadid/" (and the deprecated "join"):
 *      wait until the thread has finished.
 *
 * Results:
 *      Tcl result: the result of the thread's script (its error message
 *      when it failed).
 *
 * Side effects:
 *      Blocks until the thread exits; the handle is invalid afterwards.
 *
 *----------------------------------------------------------------------
 */

static int
ThreadWaitObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                 Tcl_Obj *const objv[])
{
    int         result = TCL_OK;
    char       *handle = NULL;
    Ns_ObjvSpec args[] = {
        {"threadid", Ns_ObjvString, &handle, NULL},
        {NULL, NULL, NULL, NULL}
    };

    if (Ns_ParseObjv(NULL, args, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        ThreadRec *recPtr = TakeThread(interp, handle);

        if (recPtr == NULL) {
            result = TCL_ERROR;
        } else {
            (void)pthread_join(recPtr->tid, NULL);
            Tcl_SetObjResult(interp, Tcl_NewStringObj(recPtr->result != NULL
                                                      ? recPtr->result : "", -1));
            FreeThreadRec(recPtr);
        }
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * ThreadHandleObjCmd --
 *
 *      Implements "ns_thread handle" (and the deprecated "get").
 *
 * Results:
 *      Tcl result: the handle of the current thread (only the handle of a
 *      thread made by "ns_thread create" can be waited for).
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

static int
ThreadHandleObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                   Tcl_Obj *const objv[])
{
    int result = TCL_OK;

    if (Ns_ParseObjv(NULL, NULL, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        uintptr_t addr = (currentThreadPtr != NULL)
            ? (uintptr_t)currentThreadPtr : (uintptr_t)pthread_self();

        Tcl_SetObjResult(interp, NewThreadHandle(addr));
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * ThreadIdObjCmd --
 *
 *      Implements "ns_thread id" (and the deprecated "getid").
 *
 * Results:
 *      Tcl result: the thread id in hex, as NaviServer.
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

static int
ThreadIdObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
               Tcl_Obj *const objv[])
{
    int result = TCL_OK;

    if (Ns_ParseObjv(NULL, NULL, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        Ns_TclPrintfResult(interp, "%" PRIxPTR, (uintptr_t)pthread_self());
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * ThreadNameObjCmd --
 *
 *      Implements "ns_thread name ?/name/?": the name the thread has in the
 *      server log.
 *
 * Results:
 *      Tcl result: the (new) name.
 *
 * Side effects:
 *      May rename the thread.
 *
 *----------------------------------------------------------------------
 */

static int
ThreadNameObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                 Tcl_Obj *const objv[])
{
    int         result = TCL_OK;
    char       *name = NULL;
    Ns_ObjvSpec args[] = {
        {"?name", Ns_ObjvString, &name, NULL},
        {NULL, NULL, NULL, NULL}
    };

    if (Ns_ParseObjv(NULL, args, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        if (name != NULL) {
            NsLogSetThreadName(name);
        }
        Tcl_SetObjResult(interp, Tcl_NewStringObj(NsLogThreadName(), -1));
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * ThreadStackinfoObjCmd --
 *
 *      Implements "ns_thread stackinfo".
 *
 * Results:
 *      Tcl result: "max <bytes> free <bytes>" for the current thread's
 *      stack (free is an estimate from the current frame).
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

static int
ThreadStackinfoObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                      Tcl_Obj *const objv[])
{
    int result = TCL_OK;

    if (Ns_ParseObjv(NULL, NULL, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        pthread_attr_t attr;
        void          *stackAddr = NULL;
        size_t         stackSize = 0u, freeSize = 0u;
        char           here;

        if (pthread_getattr_np(pthread_self(), &attr) == 0) {
            (void)pthread_attr_getstack(&attr, &stackAddr, &stackSize);
            pthread_attr_destroy(&attr);
            /* Stacks grow down: the free part lies below this frame. */
            if (stackAddr != NULL && (uintptr_t)&here > (uintptr_t)stackAddr) {
                freeSize = (size_t)((uintptr_t)&here - (uintptr_t)stackAddr);
            }
        }
        Ns_TclPrintfResult(interp, "max %zu free %zu", stackSize, freeSize);
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * ThreadYieldObjCmd --
 *
 *      Implements "ns_thread yield".
 *
 * Results:
 *      Tcl result: empty.
 *
 * Side effects:
 *      Lets other threads run.
 *
 *----------------------------------------------------------------------
 */

static int
ThreadYieldObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                  Tcl_Obj *const objv[])
{
    int result = TCL_OK;

    if (Ns_ParseObjv(NULL, NULL, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        (void)sched_yield();
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * NsTclThreadObjCmd --
 *
 *      Implements "ns_thread", with NaviServer 5's subcommands including
 *      the deprecated begin, begindetached, get, getid and join.
 *
 * Results:
 *      Tcl result.
 *
 * Side effects:
 *      Those of the subcommand.
 *
 *----------------------------------------------------------------------
 */

int
NsTclThreadObjCmd(ClientData clientData, Tcl_Interp *interp, int objc, Tcl_Obj *const objv[])
{
    static const Ns_SubCmdSpec subcmds[] = {
        {"begin",         ThreadCreateObjCmd},
        {"begindetached", ThreadCreateObjCmd},
        {"create",        ThreadCreateObjCmd},
        {"get",           ThreadHandleObjCmd},
        {"getid",         ThreadIdObjCmd},
        {"handle",        ThreadHandleObjCmd},
        {"id",            ThreadIdObjCmd},
        {"join",          ThreadWaitObjCmd},
        {"name",          ThreadNameObjCmd},
        {"stackinfo",     ThreadStackinfoObjCmd},
        {"wait",          ThreadWaitObjCmd},
        {"yield",         ThreadYieldObjCmd},
        {NULL, NULL}
    };

    return Ns_SubcmdObjv(subcmds, clientData, interp, objc, objv);
}
