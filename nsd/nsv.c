/*
 * nsv.c --
 *
 *      Shared variables: the nsv_* commands, arrays of strings shared by all
 *      threads and interps of the process, with NaviServer 5's syntax,
 *      results and messages.
 *
 *      Arrays are spread over a fixed number of buckets by a hash of their
 *      name; each bucket has its own mutex, which protects its table of
 *      arrays and everything in those arrays.  A command takes at most one
 *      bucket lock at a time and holds it only while copying strings in or
 *      out: never across a script, a variable write (traces run scripts) or
 *      a log call.  Values are stored as C strings, never as Tcl_Obj, since
 *      objects must not cross threads.
 */

#include "nsd.h"

#define NSV_BUCKETS 16

/*
 * A value: its bytes are kept with their length, so results need no strlen.
 */
typedef struct Value {
    size_t length;
    char   bytes[];   /* length bytes and a NUL */
} Value;

/*
 * An array: a table of keys to Value pointers.
 */
typedef struct Array {
    Tcl_HashEntry *entryPtr;  /* entry in the bucket's table of arrays */
    Tcl_HashTable  vars;      /* key -> Value *, allocated with malloc */
} Array;

typedef struct Bucket {
    pthread_mutex_t lock;     /* protects arrays and all their contents */
    Tcl_HashTable   arrays;   /* array name -> Array * */
} Bucket;

static Bucket         buckets[NSV_BUCKETS];
static pthread_once_t bucketsOnce = PTHREAD_ONCE_INIT;

static void InitBuckets(void);
static Bucket *LockBucket(const char *arrayName);
static void UnlockBucket(Bucket *bucketPtr);
static Array *LockArray(Tcl_Interp *interp, Tcl_Obj *arrayObj, bool create,
                        Bucket **bucketPtrPtr);
static void FreeArray(Array *arrayPtr);
static void FlushArray(Array *arrayPtr);
static Value *NewValue(const char *bytes, size_t length);
static void SetVar(Array *arrayPtr, const char *key, const char *bytes, size_t length);
static Tcl_Obj *GetVarObj(Array *arrayPtr, const char *key);
static int NoSuchKey(Tcl_Interp *interp, const char *key);
static int AppendValues(Tcl_Interp *interp, int objc, Tcl_Obj *const objv[], bool asList);
static Tcl_ObjCmdProc ArraySetObjCmd, ArraySizeObjCmd, ArrayGetObjCmd;


/*
 *----------------------------------------------------------------------
 *
 * InitBuckets --
 *
 *      Initialise the buckets, once per process.
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      Initialises the bucket locks and tables.
 *
 *----------------------------------------------------------------------
 */

static void
InitBuckets(void)
{
    int i;

    for (i = 0; i < NSV_BUCKETS; i++) {
        pthread_mutex_init(&buckets[i].lock, NULL);
        Tcl_InitHashTable(&buckets[i].arrays, TCL_STRING_KEYS);
    }
}


/*
 *----------------------------------------------------------------------
 *
 * LockBucket, UnlockBucket --
 *
 *      Lock the bucket an array name hashes to (FNV-1a), and unlock it.
 *
 * Results:
 *      LockBucket: the locked bucket.
 *
 * Side effects:
 *      Takes or releases the bucket's mutex.
 *
 *----------------------------------------------------------------------
 */

static Bucket *
LockBucket(const char *arrayName)
{
    uint32_t             hash = 2166136261u;
    const unsigned char *p;
    Bucket              *bucketPtr;

    (void)pthread_once(&bucketsOnce, InitBuckets);
    for (p = (const unsigned char *)arrayName; *p != '\0'; p++) {
        hash = (hash ^ *p) * 16777619u;
    }
    bucketPtr = &buckets[hash % NSV_BUCKETS];
    pthread_mutex_lock(&bucketPtr->lock);
    return bucketPtr;
}

static void
UnlockBucket(Bucket *bucketPtr)
{
    pthread_mutex_unlock(&bucketPtr->lock);
}


/*
 *----------------------------------------------------------------------
 *
 * LockArray --
 *
 *      Find (or with create, make) an array and lock its bucket.
 *
 * Results:
 *      The array with its bucket locked (*bucketPtrPtr), or NULL with
 *      nothing locked and "no such array: name" (-errorcode
 *      TCL LOOKUP NSV ARRAY name) in the interp result.
 *
 * Side effects:
 *      May create the array.
 *
 *----------------------------------------------------------------------
 */

static Array *
LockArray(Tcl_Interp *interp, Tcl_Obj *arrayObj, bool create, Bucket **bucketPtrPtr)
{
    const char    *arrayName = Tcl_GetString(arrayObj);
    Bucket        *bucketPtr = LockBucket(arrayName);
    Array         *arrayPtr = NULL;
    Tcl_HashEntry *hPtr;

    if (create) {
        int isNew;

        hPtr = Tcl_CreateHashEntry(&bucketPtr->arrays, arrayName, &isNew);
        if (isNew != 0) {
            Array *newPtr = (Array *)ckalloc(sizeof(Array));

            newPtr->entryPtr = hPtr;
            Tcl_InitHashTable(&newPtr->vars, TCL_STRING_KEYS);
            Tcl_SetHashValue(hPtr, newPtr);
        }
    } else {
        hPtr = Tcl_FindHashEntry(&bucketPtr->arrays, arrayName);
    }
    if (hPtr != NULL) {
        arrayPtr = Tcl_GetHashValue(hPtr);
        *bucketPtrPtr = bucketPtr;
    } else {
        UnlockBucket(bucketPtr);
        Ns_TclPrintfResult(interp, "no such array: %s", arrayName);
        Tcl_SetErrorCode(interp, "TCL", "LOOKUP", "NSV", "ARRAY", arrayName, (char *)NULL);
    }
    return arrayPtr;
}


/*
 *----------------------------------------------------------------------
 *
 * FlushArray, FreeArray --
 *
 *      Remove all keys of an array; free an array entirely.  The caller
 *      holds the bucket lock.
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      Frees memory; FreeArray removes the array from its bucket.
 *
 *----------------------------------------------------------------------
 */

static void
FlushArray(Array *arrayPtr)
{
    Tcl_HashEntry  *hPtr;
    Tcl_HashSearch  search;

    for (hPtr = Tcl_FirstHashEntry(&arrayPtr->vars, &search); hPtr != NULL;
         hPtr = Tcl_NextHashEntry(&search)) {
        free(Tcl_GetHashValue(hPtr));
        Tcl_DeleteHashEntry(hPtr);
    }
}

static void
FreeArray(Array *arrayPtr)
{
    FlushArray(arrayPtr);
    Tcl_DeleteHashTable(&arrayPtr->vars);
    Tcl_DeleteHashEntry(arrayPtr->entryPtr);
    ckfree((char *)arrayPtr);
}


/*
 *----------------------------------------------------------------------
 *
 * NewValue, SetVar, GetVarObj --
 *
 *      Make a stored value; set a key of a locked array; copy the value of
 *      a key of a locked array into a new Tcl_Obj.
 *
 * Results:
 *      NewValue: the value.  GetVarObj: a new object (refcount 0), or NULL
 *      when the key does not exist.
 *
 * Side effects:
 *      Allocates memory; SetVar frees the old value.
 *
 *----------------------------------------------------------------------
 */

static Value *
NewValue(const char *bytes, size_t length)
{
    Value *valuePtr = malloc(sizeof(Value) + length + 1u);

    if (valuePtr == NULL) {
        Ns_Fatal("nsv: out of memory allocating %zu bytes", length);
    }
    valuePtr->length = length;
    memcpy(valuePtr->bytes, bytes, length);
    valuePtr->bytes[length] = '\0';
    return valuePtr;
}

static void
SetVar(Array *arrayPtr, const char *key, const char *bytes, size_t length)
{
    int            isNew;
    Tcl_HashEntry *hPtr = Tcl_CreateHashEntry(&arrayPtr->vars, key, &isNew);
    Value         *valuePtr = NewValue(bytes, length);

    if (isNew == 0) {
        free(Tcl_GetHashValue(hPtr));
    }
    Tcl_SetHashValue(hPtr, valuePtr);
}

static Tcl_Obj *
GetVarObj(Array *arrayPtr, const char *key)
{
    Tcl_HashEntry *hPtr = Tcl_FindHashEntry(&arrayPtr->vars, key);
    Tcl_Obj       *resultObj = NULL;

    if (hPtr != NULL) {
        const Value *valuePtr = Tcl_GetHashValue(hPtr);

        resultObj = Tcl_NewStringObj(valuePtr->bytes, (int)valuePtr->length);
    }
    return resultObj;
}


/*
 *----------------------------------------------------------------------
 *
 * NoSuchKey --
 *
 *      Report a missing key.
 *
 * Results:
 *      TCL_ERROR, with "no such key: key" and -errorcode
 *      TCL LOOKUP NSV KEY key.
 *
 * Side effects:
 *      Sets the interp result.
 *
 *----------------------------------------------------------------------
 */

static int
NoSuchKey(Tcl_Interp *interp, const char *key)
{
    Ns_TclPrintfResult(interp, "no such key: %s", key);
    Tcl_SetErrorCode(interp, "TCL", "LOOKUP", "NSV", "KEY", key, (char *)NULL);
    return TCL_ERROR;
}


/*
 *----------------------------------------------------------------------
 *
 * NsTclNsvSetObjCmd --
 *
 *      Implements "nsv_set ?-default? ?-reset? ?--? /array/ /key/
 *      ?/value/?".  With a value: set the key (-default: only when it does
 *      not exist yet; -reset: return the old value).  Without a value:
 *      -reset unsets the key and returns its old value; plain nsv_set
 *      returns the value like nsv_get.
 *
 * Results:
 *      Tcl result: the new value, or the old one with -reset, or the
 *      existing one with -default.
 *
 * Side effects:
 *      May create the array and set or unset the key.
 *
 *----------------------------------------------------------------------
 */

int
NsTclNsvSetObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                  Tcl_Obj *const objv[])
{
    int         result = TCL_OK, doDefault = 0, doReset = 0;
    Tcl_Obj    *arrayObj = NULL, *valueObj = NULL;
    char       *key = NULL;
    Ns_ObjvSpec opts[] = {
        {"-default", Ns_ObjvBool,  &doDefault, INT2PTR(1)},
        {"-reset",   Ns_ObjvBool,  &doReset,   INT2PTR(1)},
        {"--",       Ns_ObjvBreak, NULL,       NULL},
        {NULL, NULL, NULL, NULL}
    };
    Ns_ObjvSpec args[] = {
        {"array",  Ns_ObjvObj,    &arrayObj, NULL},
        {"key",    Ns_ObjvString, &key,      NULL},
        {"?value", Ns_ObjvObj,    &valueObj, NULL},
        {NULL, NULL, NULL, NULL}
    };

    if (Ns_ParseObjv(opts, args, interp, 1, objc, objv) != NS_OK) {
        result = TCL_ERROR;

    } else if (doDefault != 0 && doReset != 0) {
        Ns_TclPrintfResult(interp, "only '-default' or '-reset' can be used");
        result = TCL_ERROR;

    } else if (valueObj == NULL && doDefault != 0) {
        Ns_TclPrintfResult(interp, "can't use '-default' without providing a value for key %s",
                           key);
        result = TCL_ERROR;

    } else if (valueObj != NULL) {
        Bucket     *bucketPtr;
        Array      *arrayPtr = LockArray(interp, arrayObj, true, &bucketPtr);
        Tcl_Obj    *oldObj = NULL, *resultObj = valueObj;
        int         length;
        const char *bytes = Tcl_GetStringFromObj(valueObj, &length);

        if (doDefault != 0 || doReset != 0) {
            oldObj = GetVarObj(arrayPtr, key);
        }

        if (doDefault != 0 && oldObj != NULL) {
            resultObj = oldObj;
        } else {
            SetVar(arrayPtr, key, bytes, (size_t)length);
            if (doReset != 0) {
                resultObj = (oldObj != NULL) ? oldObj : Tcl_NewObj();
            }
        }
        UnlockBucket(bucketPtr);
        if (oldObj != NULL && resultObj != oldObj) {
            Tcl_DecrRefCount(oldObj);
        }
        Tcl_SetObjResult(interp, resultObj);

    } else {
        Bucket  *bucketPtr;
        Array   *arrayPtr = LockArray(interp, arrayObj, false, &bucketPtr);
        Tcl_Obj *oldObj = NULL;

        if (arrayPtr == NULL) {
            result = TCL_ERROR;
        } else {
            Tcl_HashEntry *hPtr = Tcl_FindHashEntry(&arrayPtr->vars, key);

            oldObj = GetVarObj(arrayPtr, key);
            if (hPtr != NULL && doReset != 0) {
                free(Tcl_GetHashValue(hPtr));
                Tcl_DeleteHashEntry(hPtr);
            }
            UnlockBucket(bucketPtr);
            if (oldObj != NULL) {
                Tcl_SetObjResult(interp, oldObj);
            } else if (doReset == 0) {
                result = NoSuchKey(interp, key);
            }
        }
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * NsTclNsvGetObjCmd --
 *
 *      Implements "nsv_get /array/ /key/ ?/varName/?".
 *
 * Results:
 *      Tcl result: the value; with varName 1 (variable set) or 0 (no such
 *      key, variable untouched).
 *
 * Side effects:
 *      May set the variable.
 *
 *----------------------------------------------------------------------
 */

int
NsTclNsvGetObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                  Tcl_Obj *const objv[])
{
    int         result = TCL_OK;
    Tcl_Obj    *arrayObj = NULL, *varNameObj = NULL;
    char       *key = NULL;
    Ns_ObjvSpec args[] = {
        {"array",    Ns_ObjvObj,    &arrayObj,   NULL},
        {"key",      Ns_ObjvString, &key,        NULL},
        {"?varName", Ns_ObjvObj,    &varNameObj, NULL},
        {NULL, NULL, NULL, NULL}
    };

    if (Ns_ParseObjv(NULL, args, interp, 1, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        Bucket  *bucketPtr;
        Array   *arrayPtr = LockArray(interp, arrayObj, false, &bucketPtr);
        Tcl_Obj *valueObj = NULL;

        if (arrayPtr == NULL) {
            result = TCL_ERROR;
        } else {
            valueObj = GetVarObj(arrayPtr, key);
            UnlockBucket(bucketPtr);

            if (varNameObj == NULL) {
                if (valueObj != NULL) {
                    Tcl_SetObjResult(interp, valueObj);
                } else {
                    result = NoSuchKey(interp, key);
                }
            } else if (valueObj == NULL) {
                Tcl_SetObjResult(interp, Tcl_NewBooleanObj(0));
            } else if (Tcl_ObjSetVar2(interp, varNameObj, NULL, valueObj, TCL_LEAVE_ERR_MSG)
                       == NULL) {
                result = TCL_ERROR;
            } else {
                Tcl_SetObjResult(interp, Tcl_NewBooleanObj(1));
            }
        }
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * NsTclNsvExistsObjCmd --
 *
 *      Implements "nsv_exists /array/ /key/".
 *
 * Results:
 *      Tcl result: 1 when the array has the key, else 0.
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

int
NsTclNsvExistsObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                     Tcl_Obj *const objv[])
{
    int         result = TCL_OK;
    Tcl_Obj    *arrayObj = NULL;
    char       *key = NULL;
    Ns_ObjvSpec args[] = {
        {"array", Ns_ObjvObj,    &arrayObj, NULL},
        {"key",   Ns_ObjvString, &key,      NULL},
        {NULL, NULL, NULL, NULL}
    };

    if (Ns_ParseObjv(NULL, args, interp, 1, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        Bucket *bucketPtr;
        Array  *arrayPtr = LockArray(interp, arrayObj, false, &bucketPtr);
        bool    exists = false;

        if (arrayPtr != NULL) {
            exists = (Tcl_FindHashEntry(&arrayPtr->vars, key) != NULL);
            UnlockBucket(bucketPtr);
        }
        Tcl_SetObjResult(interp, Tcl_NewBooleanObj(exists));
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * NsTclNsvUnsetObjCmd --
 *
 *      Implements "nsv_unset ?-nocomplain? ?--? /array/ ?/key/?": unset a
 *      key, or the whole array.
 *
 * Results:
 *      Tcl result: empty; an error for a missing array or key unless
 *      -nocomplain.
 *
 * Side effects:
 *      Frees the key or the array.
 *
 *----------------------------------------------------------------------
 */

int
NsTclNsvUnsetObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                    Tcl_Obj *const objv[])
{
    int         result = TCL_OK, nocomplain = 0;
    Tcl_Obj    *arrayObj = NULL;
    char       *key = NULL;
    Ns_ObjvSpec opts[] = {
        {"-nocomplain", Ns_ObjvBool,  &nocomplain, INT2PTR(1)},
        {"--",          Ns_ObjvBreak, NULL,        NULL},
        {NULL, NULL, NULL, NULL}
    };
    Ns_ObjvSpec args[] = {
        {"array", Ns_ObjvObj,    &arrayObj, NULL},
        {"?key",  Ns_ObjvString, &key,      NULL},
        {NULL, NULL, NULL, NULL}
    };

    if (Ns_ParseObjv(opts, args, interp, 1, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        Bucket *bucketPtr;
        Array  *arrayPtr = LockArray(interp, arrayObj, false, &bucketPtr);

        if (arrayPtr == NULL) {
            result = TCL_ERROR;
        } else {
            if (key == NULL) {
                FreeArray(arrayPtr);
            } else {
                Tcl_HashEntry *hPtr = Tcl_FindHashEntry(&arrayPtr->vars, key);

                if (hPtr != NULL) {
                    free(Tcl_GetHashValue(hPtr));
                    Tcl_DeleteHashEntry(hPtr);
                } else {
                    result = TCL_ERROR;
                }
            }
            UnlockBucket(bucketPtr);
            if (result != TCL_OK) {
                result = NoSuchKey(interp, key);
            }
        }
        if (result != TCL_OK && nocomplain != 0) {
            Tcl_ResetResult(interp);
            result = TCL_OK;
        }
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * NsTclNsvIncrObjCmd --
 *
 *      Implements "nsv_incr /array/ /key/ ?/increment/?": add an integer
 *      (default 1) to the value, which starts at 0 when the key is new.
 *
 * Results:
 *      Tcl result: the new value; an error when the old value is not an
 *      integer or the sum overflows.
 *
 * Side effects:
 *      May create the array and the key.
 *
 *----------------------------------------------------------------------
 */

int
NsTclNsvIncrObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                   Tcl_Obj *const objv[])
{
    int         result = TCL_OK, increment = 1;
    Tcl_Obj    *arrayObj = NULL;
    char       *key = NULL;
    Ns_ObjvSpec args[] = {
        {"array",      Ns_ObjvObj,    &arrayObj,  NULL},
        {"key",        Ns_ObjvString, &key,       NULL},
        {"?increment", Ns_ObjvInt,    &increment, NULL},
        {NULL, NULL, NULL, NULL}
    };

    if (Ns_ParseObjv(NULL, args, interp, 1, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        Bucket      *bucketPtr;
        Array       *arrayPtr = LockArray(interp, arrayObj, true, &bucketPtr);
        Tcl_Obj     *oldObj = GetVarObj(arrayPtr, key);
        Tcl_WideInt  value = 0;
        const char  *problem = NULL;

        /* Converting a private object is safe under the lock: no script can run. */
        if (oldObj != NULL && Tcl_GetWideIntFromObj(NULL, oldObj, &value) != TCL_OK) {
            problem = "array variable is not an integer";
        } else if (__builtin_add_overflow(value, (Tcl_WideInt)increment, &value)) {
            problem = "integer overflow";
        } else {
            char buf[TCL_INTEGER_SPACE + 2];
            int  length = snprintf(buf, sizeof(buf), "%" PRId64, (int64_t)value);

            SetVar(arrayPtr, key, buf, (size_t)length);
        }
        UnlockBucket(bucketPtr);
        if (oldObj != NULL) {
            Tcl_DecrRefCount(oldObj);
        }
        if (problem != NULL) {
            Ns_TclPrintfResult(interp, "%s", problem);
            result = TCL_ERROR;
        } else {
            Tcl_SetObjResult(interp, Tcl_NewWideIntObj(value));
        }
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * NsTclNsvAppendObjCmd --
 *
 *      Implements "nsv_append /array/ /key/ /value .../": append the
 *      values to the string.
 *
 * Results:
 *      Tcl result: the new value.
 *
 * Side effects:
 *      May create the array and the key.
 *
 *----------------------------------------------------------------------
 */

int
NsTclNsvAppendObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                     Tcl_Obj *const objv[])
{
    return AppendValues(interp, objc, objv, false);
}


/*
 *----------------------------------------------------------------------
 *
 * NsTclNsvLappendObjCmd --
 *
 *      Implements "nsv_lappend /array/ /key/ /value .../": append the
 *      values as list elements.
 *
 * Results:
 *      Tcl result: the new value.
 *
 * Side effects:
 *      May create the array and the key.
 *
 *----------------------------------------------------------------------
 */

int
NsTclNsvLappendObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                      Tcl_Obj *const objv[])
{
    return AppendValues(interp, objc, objv, true);
}


/*
 *----------------------------------------------------------------------
 *
 * AppendValues --
 *
 *      The work of nsv_append (asList false) and nsv_lappend (asList true).
 *
 * Results:
 *      Tcl result: the new value.
 *
 * Side effects:
 *      May create the array and the key.
 *
 *----------------------------------------------------------------------
 */

static int
AppendValues(Tcl_Interp *interp, int objc, Tcl_Obj *const objv[], bool asList)
{
    int         result = TCL_OK, nvalues = 0;
    Tcl_Obj    *arrayObj = NULL;
    char       *key = NULL;
    Ns_ObjvSpec args[] = {
        {"array", Ns_ObjvObj,    &arrayObj, NULL},
        {"key",   Ns_ObjvString, &key,      NULL},
        {"value", Ns_ObjvArgs,   &nvalues,  NULL},
        {NULL, NULL, NULL, NULL}
    };

    if (Ns_ParseObjv(NULL, args, interp, 1, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        Bucket        *bucketPtr;
        Array         *arrayPtr;
        Tcl_HashEntry *hPtr;
        Tcl_DString    ds;
        int            i;

        Tcl_DStringInit(&ds);
        arrayPtr = LockArray(interp, arrayObj, true, &bucketPtr);
        hPtr = Tcl_FindHashEntry(&arrayPtr->vars, key);
        if (hPtr != NULL) {
            const Value *valuePtr = Tcl_GetHashValue(hPtr);

            Tcl_DStringAppend(&ds, valuePtr->bytes, (int)valuePtr->length);
        }
        for (i = objc - nvalues; i < objc; i++) {
            int         length;
            const char *bytes = Tcl_GetStringFromObj(objv[i], &length);

            if (asList) {
                Tcl_DStringAppendElement(&ds, bytes);
            } else {
                Tcl_DStringAppend(&ds, bytes, length);
            }
        }
        SetVar(arrayPtr, key, Tcl_DStringValue(&ds), (size_t)Tcl_DStringLength(&ds));
        UnlockBucket(bucketPtr);
        Tcl_DStringResult(interp, &ds);
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * ArraySetObjCmd --
 *
 *      Implements "nsv_array set|reset /array/ /list/": set keys from a
 *      list of keys and values; reset removes all other keys first.
 *
 * Results:
 *      Tcl result: empty.
 *
 * Side effects:
 *      May create the array.
 *
 *----------------------------------------------------------------------
 */

static int
ArraySetObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
               Tcl_Obj *const objv[])
{
    int         result = TCL_OK, lobjc;
    Tcl_Obj    *arrayObj = NULL, *listObj = NULL, **lobjv;
    Ns_ObjvSpec args[] = {
        {"array", Ns_ObjvObj, &arrayObj, NULL},
        {"list",  Ns_ObjvObj, &listObj,  NULL},
        {NULL, NULL, NULL, NULL}
    };

    if (Ns_ParseObjv(NULL, args, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;

    } else if (Tcl_ListObjGetElements(interp, listObj, &lobjc, &lobjv) != TCL_OK) {
        result = TCL_ERROR;

    } else if (lobjc % 2 == 1) {
        Ns_TclPrintfResult(interp, "invalid list: %s", Tcl_GetString(listObj));
        result = TCL_ERROR;

    } else {
        Bucket *bucketPtr;
        Array  *arrayPtr;
        int     i;

        arrayPtr = LockArray(interp, arrayObj, true, &bucketPtr);
        if (Tcl_GetString(objv[1])[0] == 'r') {
            FlushArray(arrayPtr);
        }
        for (i = 0; i < lobjc; i += 2) {
            int         length;
            const char *value = Tcl_GetStringFromObj(lobjv[i + 1], &length);

            SetVar(arrayPtr, Tcl_GetString(lobjv[i]), value, (size_t)length);
        }
        UnlockBucket(bucketPtr);
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * ArraySizeObjCmd --
 *
 *      Implements "nsv_array size|exists /array/".
 *
 * Results:
 *      Tcl result: the number of keys (0 for no array), or whether the
 *      array exists.
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

static int
ArraySizeObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                Tcl_Obj *const objv[])
{
    int         result = TCL_OK;
    Tcl_Obj    *arrayObj = NULL;
    Ns_ObjvSpec args[] = {
        {"array", Ns_ObjvObj, &arrayObj, NULL},
        {NULL, NULL, NULL, NULL}
    };

    if (Ns_ParseObjv(NULL, args, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        Bucket *bucketPtr;
        Array  *arrayPtr = LockArray(interp, arrayObj, false, &bucketPtr);
        int     size = 0;
        bool    exists = (arrayPtr != NULL);

        if (exists) {
            size = arrayPtr->vars.numEntries;
            UnlockBucket(bucketPtr);
        }
        Tcl_SetObjResult(interp, (Tcl_GetString(objv[1])[0] == 's')
                         ? Tcl_NewIntObj(size) : Tcl_NewBooleanObj(exists));
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * ArrayGetObjCmd --
 *
 *      Implements "nsv_array get|names /array/ ?/pattern/?".
 *
 * Results:
 *      Tcl result: keys and values (get) or keys (names) matching the
 *      glob pattern; empty for no array.
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

static int
ArrayGetObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
               Tcl_Obj *const objv[])
{
    int         result = TCL_OK;
    Tcl_Obj    *arrayObj = NULL;
    char       *pattern = NULL;
    Ns_ObjvSpec args[] = {
        {"array",    Ns_ObjvObj,    &arrayObj, NULL},
        {"?pattern", Ns_ObjvString, &pattern,  NULL},
        {NULL, NULL, NULL, NULL}
    };

    if (Ns_ParseObjv(NULL, args, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        Bucket  *bucketPtr;
        Array   *arrayPtr = LockArray(interp, arrayObj, false, &bucketPtr);
        Tcl_Obj *listObj = Tcl_NewListObj(0, NULL);
        bool     withValues = (Tcl_GetString(objv[1])[0] == 'g');

        if (arrayPtr != NULL) {
            Tcl_HashEntry  *hPtr;
            Tcl_HashSearch  search;

            for (hPtr = Tcl_FirstHashEntry(&arrayPtr->vars, &search); hPtr != NULL;
                 hPtr = Tcl_NextHashEntry(&search)) {
                const char *key = Tcl_GetHashKey(&arrayPtr->vars, hPtr);

                if (pattern == NULL || Tcl_StringMatch(key, pattern)) {
                    Tcl_ListObjAppendElement(NULL, listObj, Tcl_NewStringObj(key, -1));
                    if (withValues) {
                        const Value *valuePtr = Tcl_GetHashValue(hPtr);

                        Tcl_ListObjAppendElement(NULL, listObj,
                                                 Tcl_NewStringObj(valuePtr->bytes,
                                                                  (int)valuePtr->length));
                    }
                }
            }
            UnlockBucket(bucketPtr);
        }
        /* A missing array reads as empty: drop the lookup's message. */
        Tcl_ResetResult(interp);
        Tcl_SetObjResult(interp, listObj);
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * NsTclNsvArrayObjCmd --
 *
 *      Implements "nsv_array set|reset|get|names|size|exists ...", with
 *      NaviServer's messages (no command name before "bad subcommand").
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
NsTclNsvArrayObjCmd(ClientData clientData, Tcl_Interp *interp, int objc,
                    Tcl_Obj *const objv[])
{
    static const char *const subcmds[] = {
        "set", "reset", "get", "names", "size", "exists", NULL
    };
    static Tcl_ObjCmdProc *const procs[] = {
        ArraySetObjCmd, ArraySetObjCmd, ArrayGetObjCmd, ArrayGetObjCmd, ArraySizeObjCmd,
        ArraySizeObjCmd
    };
    int result, idx;

    if (objc < 2) {
        Tcl_WrongNumArgs(interp, 1, objv, "/subcommand/ ...");
        result = TCL_ERROR;
    } else if (Tcl_GetIndexFromObj(interp, objv[1], subcmds, "subcommand", TCL_EXACT, &idx)
               != TCL_OK) {
        result = TCL_ERROR;
    } else {
        result = procs[idx](clientData, interp, objc, objv);
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * NsTclNsvNamesObjCmd --
 *
 *      Implements "nsv_names ?/pattern/?".
 *
 * Results:
 *      Tcl result: the names of all arrays (matching the glob pattern).
 *
 * Side effects:
 *      Locks each bucket in turn.
 *
 *----------------------------------------------------------------------
 */

int
NsTclNsvNamesObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                    Tcl_Obj *const objv[])
{
    int         result = TCL_OK;
    char       *pattern = NULL;
    Ns_ObjvSpec args[] = {
        {"?pattern", Ns_ObjvString, &pattern, NULL},
        {NULL, NULL, NULL, NULL}
    };

    if (Ns_ParseObjv(NULL, args, interp, 1, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        Tcl_Obj *listObj = Tcl_NewListObj(0, NULL);
        int      i;

        (void)pthread_once(&bucketsOnce, InitBuckets);
        for (i = 0; i < NSV_BUCKETS; i++) {
            Bucket         *bucketPtr = &buckets[i];
            Tcl_HashEntry  *hPtr;
            Tcl_HashSearch  search;

            pthread_mutex_lock(&bucketPtr->lock);
            for (hPtr = Tcl_FirstHashEntry(&bucketPtr->arrays, &search); hPtr != NULL;
                 hPtr = Tcl_NextHashEntry(&search)) {
                const char *name = Tcl_GetHashKey(&bucketPtr->arrays, hPtr);

                if (pattern == NULL || Tcl_StringMatch(name, pattern)) {
                    Tcl_ListObjAppendElement(NULL, listObj, Tcl_NewStringObj(name, -1));
                }
            }
            pthread_mutex_unlock(&bucketPtr->lock);
        }
        Tcl_SetObjResult(interp, listObj);
    }
    return result;
}
