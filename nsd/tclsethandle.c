/*
 * tclsethandle.c --
 *
 *      Sets and their handles in a Tcl interp: the handle table, the C API
 *      that gives sets handles and looks them up (Ns_TclEnterSet,
 *      Ns_TclGetSet, Ns_TclGetSet2, Ns_TclFreeSet), and the subcommands of
 *      ns_set that make, free, list and measure sets (create, new, copy,
 *      split, free, cleanup, list, stats).
 *
 *      Handles are per interp and look like NaviServer's: "d0", "d1", ...
 *      for dynamic sets, which the interp owns and frees with "ns_set
 *      free" or "ns_set cleanup" (run at the end of every request), and
 *      "t0", ... for static sets, which C code owns (e.g. the request
 *      headers) and which are only forgotten.  The handle table hangs off
 *      the interp as assoc data, so it needs no NsInterp and works in any
 *      interp.
 */

#include "tclsetint.h"

#define SET_DYNAMIC 'd'
#define SET_STATIC  't'

static const char *const setsAssocKey = "nsws:sets";

static Tcl_HashTable *GetHandleTable(Tcl_Interp *interp);
static Tcl_InterpDeleteProc FreeHandleTable;
static void FreeAllHandles(Tcl_HashTable *tablePtr);
static void FreeHandleEntry(Tcl_HashTable *tablePtr, Tcl_HashEntry *hPtr);
static Tcl_Obj *EnterSet(Tcl_Interp *interp, Ns_Set *set, Ns_TclSetType type, bool nocase);
static int LookupHandle(Tcl_Interp *interp, const char *id, Tcl_HashEntry **hPtrPtr);
static int CompareHandleIds(const void *p1, const void *p2);


/*
 *----------------------------------------------------------------------
 *
 * GetHandleTable --
 *
 *      Get the interp's table of set handles, creating it on first use.
 *      Keys are the handles, values SetHandle pointers.
 *
 * Results:
 *      The table.
 *
 * Side effects:
 *      May create the table and register its cleanup with the interp.
 *
 *----------------------------------------------------------------------
 */

static Tcl_HashTable *
GetHandleTable(Tcl_Interp *interp)
{
    Tcl_HashTable *tablePtr = Tcl_GetAssocData(interp, setsAssocKey, NULL);

    if (tablePtr == NULL) {
        tablePtr = (Tcl_HashTable *)ckalloc(sizeof(Tcl_HashTable));
        Tcl_InitHashTable(tablePtr, TCL_STRING_KEYS);
        Tcl_SetAssocData(interp, setsAssocKey, FreeHandleTable, tablePtr);
    }
    return tablePtr;
}


/*
 *----------------------------------------------------------------------
 *
 * FreeHandleTable --
 *
 *      Interp deletion: free the dynamic sets and the handle table.
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
FreeHandleTable(ClientData clientData, Tcl_Interp *UNUSED(interp))
{
    Tcl_HashTable *tablePtr = clientData;

    FreeAllHandles(tablePtr);
    Tcl_DeleteHashTable(tablePtr);
    ckfree((char *)tablePtr);
}


/*
 *----------------------------------------------------------------------
 *
 * FreeAllHandles --
 *
 *      Forget all handles of a table, freeing the dynamic sets ("ns_set
 *      cleanup" and interp deletion).
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      Empties the table.
 *
 *----------------------------------------------------------------------
 */

static void
FreeAllHandles(Tcl_HashTable *tablePtr)
{
    Tcl_HashEntry  *hPtr;
    Tcl_HashSearch  search;

    for (hPtr = Tcl_FirstHashEntry(tablePtr, &search); hPtr != NULL;
         hPtr = Tcl_NextHashEntry(&search)) {
        FreeHandleEntry(tablePtr, hPtr);
    }
}


/*
 *----------------------------------------------------------------------
 *
 * FreeHandleEntry --
 *
 *      Forget a handle; free its set when it is dynamic.
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      Deletes the hash entry.
 *
 *----------------------------------------------------------------------
 */

static void
FreeHandleEntry(Tcl_HashTable *tablePtr, Tcl_HashEntry *hPtr)
{
    const char *id = Tcl_GetHashKey(tablePtr, hPtr);
    SetHandle  *handlePtr = Tcl_GetHashValue(hPtr);

    if (id[0] == SET_DYNAMIC) {
        Ns_SetFree(handlePtr->set);
    }
    ckfree((char *)handlePtr);
    Tcl_DeleteHashEntry(hPtr);
}


/*
 *----------------------------------------------------------------------
 *
 * EnterSet --
 *
 *      Give a set a new handle in the interp: "d" or "t" and the lowest
 *      free number from the number of handles on (NaviServer's scheme).
 *
 * Results:
 *      The handle as a new Tcl_Obj.
 *
 * Side effects:
 *      Adds an entry to the handle table.
 *
 *----------------------------------------------------------------------
 */

static Tcl_Obj *
EnterSet(Tcl_Interp *interp, Ns_Set *set, Ns_TclSetType type, bool nocase)
{
    Tcl_HashTable *tablePtr = GetHandleTable(interp);
    Tcl_HashEntry *hPtr = NULL;
    SetHandle     *handlePtr;
    unsigned int   next;
    char           id[TCL_INTEGER_SPACE + 2];
    int            isNew = 0;

    for (next = (unsigned int)tablePtr->numEntries; isNew == 0; next++) {
        snprintf(id, sizeof(id), "%c%u", (type == NS_TCL_SET_DYNAMIC) ? SET_DYNAMIC : SET_STATIC,
                 next);
        hPtr = Tcl_CreateHashEntry(tablePtr, id, &isNew);
    }
    handlePtr = (SetHandle *)ckalloc(sizeof(SetHandle));
    handlePtr->set = set;
    handlePtr->nocase = nocase;
    Tcl_SetHashValue(hPtr, handlePtr);

    return Tcl_NewStringObj(id, -1);
}


/*
 *----------------------------------------------------------------------
 *
 * LookupHandle --
 *
 *      Find a handle of the interp.
 *
 * Results:
 *      TCL_OK with the entry in *hPtrPtr, or TCL_ERROR with NaviServer's
 *      "no such set: 'd9'" and -errorcode NS LOOKUP SET d9.
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

static int
LookupHandle(Tcl_Interp *interp, const char *id, Tcl_HashEntry **hPtrPtr)
{
    Tcl_HashEntry *hPtr = Tcl_FindHashEntry(GetHandleTable(interp), id);
    int            result = TCL_OK;

    if (hPtr == NULL) {
        Ns_TclPrintfResult(interp, "no such set: '%s'", id);
        Tcl_SetErrorCode(interp, "NS", "LOOKUP", "SET", id, (char *)NULL);
        result = TCL_ERROR;
    } else {
        *hPtrPtr = hPtr;
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * Ns_TclEnterSet --
 *
 *      Give a set a handle in the interp: NS_TCL_SET_DYNAMIC hands the set
 *      over to the interp, NS_TCL_SET_STATIC leaves it with the caller,
 *      who must keep it alive while the handle exists (until "ns_set
 *      cleanup" at the end of the request).
 *
 * Results:
 *      TCL_OK; the handle is the interp result.
 *
 * Side effects:
 *      Adds a handle.
 *
 *----------------------------------------------------------------------
 */

int
Ns_TclEnterSet(Tcl_Interp *interp, Ns_Set *set, Ns_TclSetType type)
{
    Tcl_SetObjResult(interp, EnterSet(interp, set, type, false));
    return TCL_OK;
}


/*
 *----------------------------------------------------------------------
 *
 * Ns_TclGetSet, Ns_TclGetSet2 --
 *
 *      Resolve a set handle of the interp.
 *
 * Results:
 *      Ns_TclGetSet: the set, or NULL.  Ns_TclGetSet2: TCL_OK with the set
 *      in *setPtr, or TCL_ERROR.  Both leave "no such set: 'x'" in the
 *      interp result when the handle is unknown.
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

Ns_Set *
Ns_TclGetSet(Tcl_Interp *interp, const char *setId)
{
    Ns_Set *set = NULL;

    (void)Ns_TclGetSet2(interp, setId, &set);
    return set;
}

int
Ns_TclGetSet2(Tcl_Interp *interp, const char *setId, Ns_Set **setPtr)
{
    Tcl_HashEntry *hPtr;
    int            result = LookupHandle(interp, setId, &hPtr);

    if (result == TCL_OK) {
        *setPtr = ((SetHandle *)Tcl_GetHashValue(hPtr))->set;
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * Ns_TclFreeSet --
 *
 *      Forget a handle, freeing the set when the interp owns it.
 *
 * Results:
 *      TCL_OK, or TCL_ERROR with "no such set: 'x'".
 *
 * Side effects:
 *      See FreeHandleEntry.
 *
 *----------------------------------------------------------------------
 */

int
Ns_TclFreeSet(Tcl_Interp *interp, const char *setId)
{
    Tcl_HashEntry *hPtr;
    int            result = LookupHandle(interp, setId, &hPtr);

    if (result == TCL_OK) {
        FreeHandleEntry(GetHandleTable(interp), hPtr);
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * NsTclObjvSetHandle --
 *
 *      Ns_ObjvProc for a set handle argument; dest is a SetHandle **.  The
 *      usage text shows the key ("/setId/").
 *
 * Results:
 *      TCL_OK, or TCL_ERROR with "no such set: 'x'".
 *
 * Side effects:
 *      Stores into *dest; decrements *objcPtr.
 *
 *----------------------------------------------------------------------
 */

int
NsTclObjvSetHandle(Ns_ObjvSpec *spec, Tcl_Interp *interp, int *objcPtr, Tcl_Obj *const objv[])
{
    Tcl_HashEntry *hPtr;
    int            result;

    if (*objcPtr < 1) {
        Ns_TclPrintfResult(interp, "missing argument to %s", spec->key);
        result = TCL_ERROR;
    } else if (LookupHandle(interp, Tcl_GetString(objv[0]), &hPtr) != TCL_OK) {
        result = TCL_ERROR;
    } else {
        *(SetHandle **)spec->dest = Tcl_GetHashValue(hPtr);
        *objcPtr -= 1;
        result = TCL_OK;
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * NsTclParseSetId --
 *
 *      Parse the one argument "/setId/" of the subcommands that take only
 *      a set (array, copy, free, name, print).
 *
 * Results:
 *      TCL_OK with *handlePtrPtr set, or TCL_ERROR with the usage or "no
 *      such set".
 *
 * Side effects:
 *      Sets the interp result on error.
 *
 *----------------------------------------------------------------------
 */

int
NsTclParseSetId(Tcl_Interp *interp, int objc, Tcl_Obj *const objv[], SetHandle **handlePtrPtr)
{
    int         result = TCL_OK;
    Ns_ObjvSpec args[] = {
        {"setId", NsTclObjvSetHandle, handlePtrPtr, NULL},
        {NULL, NULL, NULL, NULL}
    };

    if (Ns_ParseObjv(NULL, args, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * NsTclSetCreateObjCmd --
 *
 *      Implements "ns_set create|new ?-nocase? ?--? ?name? ?key value ...?":
 *      an odd number of words starts with the set name.  "new" implies
 *      -nocase, as in NaviServer 5.
 *
 * Results:
 *      Tcl result: the handle of the new dynamic set.
 *
 * Side effects:
 *      Creates a set.
 *
 *----------------------------------------------------------------------
 */

int
NsTclSetCreateObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                     Tcl_Obj *const objv[])
{
    int         result = TCL_OK, nocase = 0, nargs = 0;
    Ns_ObjvSpec opts[] = {
        {"-nocase", Ns_ObjvBool,  &nocase, INT2PTR(1)},
        {"--",      Ns_ObjvBreak, NULL,    NULL},
        {NULL, NULL, NULL, NULL}
    };
    Ns_ObjvSpec args[] = {
        {"?arg", Ns_ObjvArgs, &nargs, NULL},
        {NULL, NULL, NULL, NULL}
    };

    if (Ns_ParseObjv(opts, args, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        int         i = objc - nargs;
        const char *name = NULL;
        Ns_Set     *set;

        if (nargs % 2 == 1) {
            name = Tcl_GetString(objv[i++]);
        }
        set = Ns_SetCreate(name);
        for (; i + 1 < objc; i += 2) {
            int         keyLength, valueLength;
            const char *key = Tcl_GetStringFromObj(objv[i], &keyLength);
            const char *value = Tcl_GetStringFromObj(objv[i + 1], &valueLength);

            (void)Ns_SetPutSz(set, key, keyLength, value, valueLength);
        }
        Tcl_SetObjResult(interp, EnterSet(interp, set, NS_TCL_SET_DYNAMIC,
                                          nocase != 0 || Tcl_GetString(objv[1])[0] == 'n'));
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * NsTclSetCopyObjCmd --
 *
 *      Implements "ns_set copy /setId/".
 *
 * Results:
 *      Tcl result: the handle of a new dynamic copy.
 *
 * Side effects:
 *      Creates a set.
 *
 *----------------------------------------------------------------------
 */

int
NsTclSetCopyObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                   Tcl_Obj *const objv[])
{
    int        result = TCL_OK;
    SetHandle *handlePtr = NULL;

    if (NsTclParseSetId(interp, objc, objv, &handlePtr) != TCL_OK) {
        result = TCL_ERROR;
    } else {
        Tcl_SetObjResult(interp, EnterSet(interp, Ns_SetCopy(handlePtr->set),
                                          NS_TCL_SET_DYNAMIC, handlePtr->nocase));
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * NsTclSetSplitObjCmd --
 *
 *      Implements "ns_set split /setId/ ?/splitChar/?" (default "."): a
 *      field "dog.food" goes as key "food" into a new set named "dog";
 *      keys without the character go into a set without name.
 *
 * Results:
 *      Tcl result: the handles of the new dynamic sets, in order of first
 *      appearance.
 *
 * Side effects:
 *      Creates sets.
 *
 *----------------------------------------------------------------------
 */

int
NsTclSetSplitObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                    Tcl_Obj *const objv[])
{
    int         result = TCL_OK;
    SetHandle  *handlePtr = NULL;
    char       *splitString = (char *)".";
    Ns_ObjvSpec args[] = {
        {"setId",      NsTclObjvSetHandle, &handlePtr,   NULL},
        {"?splitChar", Ns_ObjvString,      &splitString, NULL},
        {NULL, NULL, NULL, NULL}
    };

    if (Ns_ParseObjv(NULL, args, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;

    } else if (strlen(splitString) != 1u) {
        Ns_TclPrintfResult(interp, "ns_set split: the split character must be one character"
                           " long, provided '%s'", splitString);
        result = TCL_ERROR;

    } else {
        const Ns_Set *set = handlePtr->set;
        Ns_Set      **parts = (Ns_Set **)ckalloc(sizeof(Ns_Set *) * (set->size + 1u));
        Tcl_Obj      *listObj = Tcl_NewListObj(0, NULL);
        size_t        nparts = 0u, i, j;

        for (i = 0u; i < set->size; i++) {
            const char *key = Ns_SetKey(set, i), *sep = NULL, *name = NULL;
            size_t      nameLength = 0u;
            Ns_Set     *part = NULL;

            if (key != NULL && (sep = strchr(key, splitString[0])) != NULL) {
                name = key;
                nameLength = (size_t)(sep - key);
                key = sep + 1;
            }
            for (j = 0u; j < nparts && part == NULL; j++) {
                const char *partName = Ns_SetName(parts[j]);

                if ((name == NULL && partName == NULL)
                    || (name != NULL && partName != NULL && strlen(partName) == nameLength
                        && strncmp(partName, name, nameLength) == 0)) {
                    part = parts[j];
                }
            }
            if (part == NULL) {
                Tcl_DString nameDs;

                Tcl_DStringInit(&nameDs);
                Tcl_DStringAppend(&nameDs, name != NULL ? name : "", (int)nameLength);
                part = Ns_SetCreate(name != NULL ? Tcl_DStringValue(&nameDs) : NULL);
                Tcl_DStringFree(&nameDs);
                parts[nparts++] = part;
            }
            (void)Ns_SetPut(part, key, Ns_SetValue(set, i));
        }
        for (j = 0u; j < nparts; j++) {
            Tcl_ListObjAppendElement(NULL, listObj,
                                     EnterSet(interp, parts[j], NS_TCL_SET_DYNAMIC,
                                              handlePtr->nocase));
        }
        ckfree((char *)parts);
        Tcl_SetObjResult(interp, listObj);
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * NsTclSetFreeObjCmd --
 *
 *      Implements "ns_set free /setId/".
 *
 * Results:
 *      Tcl result: empty.
 *
 * Side effects:
 *      Forgets the handle; frees the set when dynamic.
 *
 *----------------------------------------------------------------------
 */

int
NsTclSetFreeObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                   Tcl_Obj *const objv[])
{
    int        result = TCL_OK;
    SetHandle *handlePtr = NULL;

    if (NsTclParseSetId(interp, objc, objv, &handlePtr) != TCL_OK) {
        result = TCL_ERROR;
    } else {
        result = Ns_TclFreeSet(interp, Tcl_GetString(objv[2]));
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * NsTclSetCleanupObjCmd --
 *
 *      Implements "ns_set cleanup": free all dynamic sets of the interp
 *      and forget all handles.
 *
 * Results:
 *      Tcl result: empty.
 *
 * Side effects:
 *      Frees sets.
 *
 *----------------------------------------------------------------------
 */

int
NsTclSetCleanupObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                      Tcl_Obj *const objv[])
{
    int result = TCL_OK;

    if (Ns_ParseObjv(NULL, NULL, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        FreeAllHandles(GetHandleTable(interp));
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * CompareHandleIds --
 *
 *      qsort comparison of handles by number, so that lists come out in
 *      the order the handles were made.
 *
 * Results:
 *      <0, 0, >0.
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

static int
CompareHandleIds(const void *p1, const void *p2)
{
    const char    *id1 = *(const char *const *)p1, *id2 = *(const char *const *)p2;
    unsigned long  n1 = strtoul(id1 + 1, NULL, 10), n2 = strtoul(id2 + 1, NULL, 10);

    return (n1 < n2) ? -1 : ((n1 > n2) ? 1 : (int)id1[0] - (int)id2[0]);
}


/*
 *----------------------------------------------------------------------
 *
 * NsTclSetListObjCmd --
 *
 *      Implements "ns_set list".
 *
 * Results:
 *      Tcl result: the handles of the interp, oldest first.
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

int
NsTclSetListObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                   Tcl_Obj *const objv[])
{
    int result = TCL_OK;

    if (Ns_ParseObjv(NULL, NULL, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        Tcl_HashTable  *tablePtr = GetHandleTable(interp);
        Tcl_HashEntry  *hPtr;
        Tcl_HashSearch  search;
        const char    **ids;
        Tcl_Obj        *listObj = Tcl_NewListObj(0, NULL);
        int             n = 0, i;

        ids = (const char **)ckalloc(sizeof(char *) * ((size_t)tablePtr->numEntries + 1u));
        for (hPtr = Tcl_FirstHashEntry(tablePtr, &search); hPtr != NULL;
             hPtr = Tcl_NextHashEntry(&search)) {
            ids[n++] = Tcl_GetHashKey(tablePtr, hPtr);
        }
        qsort(ids, (size_t)n, sizeof(char *), CompareHandleIds);
        for (i = 0; i < n; i++) {
            Tcl_ListObjAppendElement(NULL, listObj, Tcl_NewStringObj(ids[i], -1));
        }
        ckfree((char *)ids);
        Tcl_SetObjResult(interp, listObj);
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * NsTclSetStatsObjCmd --
 *
 *      Implements "ns_set stats": counts and sizes of the interp's sets.
 *      size_* is the bytes of names, keys and values; allocated_* adds
 *      the field arrays and set structs.
 *
 * Results:
 *      Tcl result: a dict nr_dynamic size_dynamic allocated_dynamic
 *      nr_static size_static allocated_static (NaviServer's keys).
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

int
NsTclSetStatsObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                    Tcl_Obj *const objv[])
{
    int result = TCL_OK;

    if (Ns_ParseObjv(NULL, NULL, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        Tcl_HashTable  *tablePtr = GetHandleTable(interp);
        Tcl_HashEntry  *hPtr;
        Tcl_HashSearch  search;
        Tcl_WideInt     stats[2][3] = {{0, 0, 0}, {0, 0, 0}};  /* [dynamic, static] */
        Tcl_Obj        *dictObj = Tcl_NewDictObj();
        static const char *const names[2][3] = {
            {"nr_dynamic", "size_dynamic", "allocated_dynamic"},
            {"nr_static",  "size_static",  "allocated_static"}
        };
        int             k, n;

        for (hPtr = Tcl_FirstHashEntry(tablePtr, &search); hPtr != NULL;
             hPtr = Tcl_NextHashEntry(&search)) {
            const char   *id = Tcl_GetHashKey(tablePtr, hPtr);
            const Ns_Set *set = ((SetHandle *)Tcl_GetHashValue(hPtr))->set;
            Tcl_WideInt   bytes = (set->name != NULL) ? (Tcl_WideInt)strlen(set->name) : 0;
            size_t        i;

            k = (id[0] == SET_DYNAMIC) ? 0 : 1;
            for (i = 0u; i < set->size; i++) {
                bytes += (Ns_SetKey(set, i) != NULL) ? (Tcl_WideInt)strlen(Ns_SetKey(set, i)) : 0;
                bytes += (Ns_SetValue(set, i) != NULL)
                    ? (Tcl_WideInt)strlen(Ns_SetValue(set, i)) : 0;
            }
            stats[k][0]++;
            stats[k][1] += bytes;
            stats[k][2] += bytes + (Tcl_WideInt)(sizeof(Ns_Set)
                                                 + set->maxSize * sizeof(Ns_SetField));
        }
        for (k = 0; k < 2; k++) {
            for (n = 0; n < 3; n++) {
                Tcl_DictObjPut(NULL, dictObj, Tcl_NewStringObj(names[k][n], -1),
                               Tcl_NewWideIntObj(stats[k][n]));
            }
        }
        Tcl_SetObjResult(interp, dictObj);
    }
    return result;
}
