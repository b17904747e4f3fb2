/*
 * tclset.c --
 *
 *      The Tcl face of Ns_Set: handles for sets in an interp and the
 *      "ns_set" command, with NaviServer 5's subcommands, syntax, results
 *      and messages.  Handles are per interp and look like NaviServer's:
 *      "d0", "d1", ... for dynamic sets, which the interp owns and frees
 *      with "ns_set free" or "ns_set cleanup" (run at the end of every
 *      request), and "t0", ... for static sets, which C code owns (e.g. the
 *      request headers) and which are only forgotten.  The handle table
 *      hangs off the interp as assoc data, so it needs no NsInterp and
 *      works in any interp.
 */

#include "nsd.h"

#define SET_DYNAMIC 'd'
#define SET_STATIC  't'

static const char *const setsAssocKey = "nsws:sets";

/*
 * What a handle stands for.
 */
typedef struct SetHandle {
    Ns_Set *set;      /* the set; freed with the handle when dynamic */
    bool    nocase;   /* created with -nocase (or "ns_set new"): compare keys
                       * case-insensitively in every subcommand */
} SetHandle;

static Tcl_HashTable *GetHandleTable(Tcl_Interp *interp);
static Tcl_InterpDeleteProc FreeHandleTable;
static void FreeHandleEntry(Tcl_HashTable *tablePtr, Tcl_HashEntry *hPtr);
static Tcl_Obj *EnterSet(Tcl_Interp *interp, Ns_Set *set, Ns_TclSetType type, bool nocase);
static int LookupHandle(Tcl_Interp *interp, const char *id, Tcl_HashEntry **hPtrPtr);
static Ns_ObjvProc ObjvSetHandle;
static int CompareHandleIds(const void *p1, const void *p2);
static int CheckIndex(Tcl_Interp *interp, Tcl_Obj *subcmdObj, const SetHandle *handlePtr,
                      int index, bool allowEnd);
static bool IsNocase(Tcl_Obj *subcmdObj);
static bool KeyMatches(const char *key, const char *name, bool icase);
static void FormatSet(Tcl_DString *dsPtr, const Ns_Set *set, bool withName, const char *lead,
                      const char *separator);

static Tcl_ObjCmdProc SetArrayObjCmd, SetCleanupObjCmd, SetCopyObjCmd, SetCreateObjCmd,
    SetDeleteObjCmd, SetDelkeyObjCmd, SetFindObjCmd, SetFormatObjCmd, SetFreeObjCmd,
    SetGetObjCmd, SetIsnullObjCmd, SetKeyObjCmd, SetKeysObjCmd, SetListObjCmd,
    SetMergeObjCmd, SetMoveObjCmd, SetNameObjCmd, SetPrintObjCmd, SetPutObjCmd,
    SetSizeObjCmd, SetSplitObjCmd, SetStatsObjCmd, SetTruncateObjCmd, SetUniqueObjCmd,
    SetUpdateObjCmd;

static const Ns_ObjvValueRange indexRange = {0, INT_MAX};


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
    Tcl_HashTable  *tablePtr = clientData;
    Tcl_HashEntry  *hPtr;
    Tcl_HashSearch  search;

    for (hPtr = Tcl_FirstHashEntry(tablePtr, &search); hPtr != NULL;
         hPtr = Tcl_NextHashEntry(&search)) {
        FreeHandleEntry(tablePtr, hPtr);
    }
    Tcl_DeleteHashTable(tablePtr);
    ckfree((char *)tablePtr);
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
 * ObjvSetHandle --
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

static int
ObjvSetHandle(Ns_ObjvSpec *spec, Tcl_Interp *interp, int *objcPtr, Tcl_Obj *const objv[])
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
 * IsNocase --
 *
 *      Tell the case-insensitive subcommands (iget, ifind, ...) from the
 *      others, which share their procs.
 *
 * Results:
 *      true for a subcommand starting with "i" (none of the others do).
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

static bool
IsNocase(Tcl_Obj *subcmdObj)
{
    return (Tcl_GetString(subcmdObj)[0] == 'i');
}


/*
 *----------------------------------------------------------------------
 *
 * KeyMatches --
 *
 *      Compare a key with a field name, exactly or with the ASCII case
 *      folding of the Ns_SetI* functions.
 *
 * Results:
 *      true when they match.
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

static bool
KeyMatches(const char *key, const char *name, bool icase)
{
    bool match;

    if (!icase) {
        match = (strcmp(key, name) == 0);
    } else {
        unsigned char c1, c2;

        do {
            c1 = (unsigned char)*key++;
            c2 = (unsigned char)*name++;
            if (c1 >= 'A' && c1 <= 'Z') {
                c1 = (unsigned char)(c1 + ('a' - 'A'));
            }
            if (c2 >= 'A' && c2 <= 'Z') {
                c2 = (unsigned char)(c2 + ('a' - 'A'));
            }
        } while (c1 == c2 && c1 != '\0');
        match = (c1 == c2);
    }
    return match;
}


/*
 *----------------------------------------------------------------------
 *
 * CheckIndex --
 *
 *      Check a field number against the size of the set; allowEnd accepts
 *      the size itself (for delete and truncate, where it does nothing).
 *
 * Results:
 *      TCL_OK, or TCL_ERROR with NaviServer's message.
 *
 * Side effects:
 *      Sets the interp result on error.
 *
 *----------------------------------------------------------------------
 */

static int
CheckIndex(Tcl_Interp *interp, Tcl_Obj *subcmdObj, const SetHandle *handlePtr, int index,
           bool allowEnd)
{
    size_t size = Ns_SetSize(handlePtr->set);
    int    result = TCL_OK;

    if ((size_t)index > size || ((size_t)index == size && !allowEnd)) {
        Ns_TclPrintfResult(interp, "ns_set %s: index must be maximal the number of elements",
                           Tcl_GetString(subcmdObj));
        result = TCL_ERROR;
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * SetArrayObjCmd --
 *
 *      Implements "ns_set array /setId/".
 *
 * Results:
 *      Tcl result: a flat list key value key value ... (NULL reads "").
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

static int
SetArrayObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
               Tcl_Obj *const objv[])
{
    int         result = TCL_OK;
    SetHandle  *handlePtr = NULL;
    Ns_ObjvSpec args[] = {
        {"setId", ObjvSetHandle, &handlePtr, NULL},
        {NULL, NULL, NULL, NULL}
    };

    if (Ns_ParseObjv(NULL, args, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        const Ns_Set *set = handlePtr->set;
        Tcl_Obj      *listObj = Tcl_NewListObj(0, NULL);
        size_t        i;

        for (i = 0u; i < set->size; i++) {
            const char *key = Ns_SetKey(set, i), *value = Ns_SetValue(set, i);

            Tcl_ListObjAppendElement(NULL, listObj, Tcl_NewStringObj(key ? key : "", -1));
            Tcl_ListObjAppendElement(NULL, listObj, Tcl_NewStringObj(value ? value : "", -1));
        }
        Tcl_SetObjResult(interp, listObj);
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * SetCleanupObjCmd --
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

static int
SetCleanupObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                 Tcl_Obj *const objv[])
{
    int result = TCL_OK;

    if (Ns_ParseObjv(NULL, NULL, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        Tcl_HashTable  *tablePtr = GetHandleTable(interp);
        Tcl_HashEntry  *hPtr;
        Tcl_HashSearch  search;

        for (hPtr = Tcl_FirstHashEntry(tablePtr, &search); hPtr != NULL;
             hPtr = Tcl_NextHashEntry(&search)) {
            FreeHandleEntry(tablePtr, hPtr);
        }
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * SetCopyObjCmd --
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

static int
SetCopyObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
              Tcl_Obj *const objv[])
{
    int         result = TCL_OK;
    SetHandle  *handlePtr = NULL;
    Ns_ObjvSpec args[] = {
        {"setId", ObjvSetHandle, &handlePtr, NULL},
        {NULL, NULL, NULL, NULL}
    };

    if (Ns_ParseObjv(NULL, args, interp, 2, objc, objv) != NS_OK) {
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
 * SetCreateObjCmd --
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

static int
SetCreateObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
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
 * SetDeleteObjCmd, SetTruncateObjCmd --
 *
 *      Implement "ns_set delete /setId/ /fieldNumber/" (delete one field)
 *      and "ns_set truncate /setId/ /fieldNumber/" (keep the fields before
 *      it).
 *
 * Results:
 *      Tcl result: empty.
 *
 * Side effects:
 *      Frees fields.
 *
 *----------------------------------------------------------------------
 */

static int
SetDeleteObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                Tcl_Obj *const objv[])
{
    int         result = TCL_OK, index = 0;
    SetHandle  *handlePtr = NULL;
    Ns_ObjvSpec args[] = {
        {"setId",       ObjvSetHandle, &handlePtr, NULL},
        {"fieldNumber", Ns_ObjvInt,    &index,     (void *)&indexRange},
        {NULL, NULL, NULL, NULL}
    };

    if (Ns_ParseObjv(NULL, args, interp, 2, objc, objv) != NS_OK
        || CheckIndex(interp, objv[1], handlePtr, index, true) != TCL_OK) {
        result = TCL_ERROR;
    } else {
        Ns_SetDelete(handlePtr->set, index);
    }
    return result;
}

static int
SetTruncateObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                  Tcl_Obj *const objv[])
{
    int         result = TCL_OK, index = 0;
    SetHandle  *handlePtr = NULL;
    Ns_ObjvSpec args[] = {
        {"setId",       ObjvSetHandle, &handlePtr, NULL},
        {"fieldNumber", Ns_ObjvInt,    &index,     (void *)&indexRange},
        {NULL, NULL, NULL, NULL}
    };

    if (Ns_ParseObjv(NULL, args, interp, 2, objc, objv) != NS_OK
        || CheckIndex(interp, objv[1], handlePtr, index, true) != TCL_OK) {
        result = TCL_ERROR;
    } else {
        Ns_SetTrunc(handlePtr->set, (size_t)index);
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * SetDelkeyObjCmd --
 *
 *      Implements "ns_set delkey|idelkey ?-nocase? ?--? /setId/ /key/":
 *      delete the first field with key.
 *
 * Results:
 *      Tcl result: 1 when a field was deleted, else 0.
 *
 * Side effects:
 *      Frees a field.
 *
 *----------------------------------------------------------------------
 */

static int
SetDelkeyObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                Tcl_Obj *const objv[])
{
    int         result = TCL_OK, nocase = 0;
    SetHandle  *handlePtr = NULL;
    char       *key = NULL;
    Ns_ObjvSpec opts[] = {
        {"-nocase", Ns_ObjvBool,  &nocase, INT2PTR(1)},
        {"--",      Ns_ObjvBreak, NULL,    NULL},
        {NULL, NULL, NULL, NULL}
    };
    Ns_ObjvSpec args[] = {
        {"setId", ObjvSetHandle, &handlePtr, NULL},
        {"key",   Ns_ObjvString, &key,       NULL},
        {NULL, NULL, NULL, NULL}
    };

    if (Ns_ParseObjv(opts, args, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        bool deleted = (nocase != 0 || IsNocase(objv[1]) || handlePtr->nocase)
            ? Ns_SetIDeleteKey(handlePtr->set, key)
            : Ns_SetDeleteKey(handlePtr->set, key);

        Tcl_SetObjResult(interp, Tcl_NewBooleanObj(deleted));
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * SetFindObjCmd --
 *
 *      Implements "ns_set find|ifind ?-nocase? ?--? /setId/ /key/".
 *
 * Results:
 *      Tcl result: the index of the first field with key, or -1.
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

static int
SetFindObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
              Tcl_Obj *const objv[])
{
    int         result = TCL_OK, nocase = 0;
    SetHandle  *handlePtr = NULL;
    char       *key = NULL;
    Ns_ObjvSpec opts[] = {
        {"-nocase", Ns_ObjvBool,  &nocase, INT2PTR(1)},
        {"--",      Ns_ObjvBreak, NULL,    NULL},
        {NULL, NULL, NULL, NULL}
    };
    Ns_ObjvSpec args[] = {
        {"setId", ObjvSetHandle, &handlePtr, NULL},
        {"key",   Ns_ObjvString, &key,       NULL},
        {NULL, NULL, NULL, NULL}
    };

    if (Ns_ParseObjv(opts, args, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        int index = (nocase != 0 || IsNocase(objv[1]) || handlePtr->nocase)
            ? Ns_SetIFind(handlePtr->set, key)
            : Ns_SetFind(handlePtr->set, key);

        Tcl_SetObjResult(interp, Tcl_NewIntObj(index));
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * FormatSet --
 *
 *      Format a set for reading: its name and ":" on a line of its own
 *      (when withName and the set has a name), then one line per field:
 *      lead, key, separator, value.
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      Appends to dsPtr.
 *
 *----------------------------------------------------------------------
 */

static void
FormatSet(Tcl_DString *dsPtr, const Ns_Set *set, bool withName, const char *lead,
          const char *separator)
{
    size_t i;

    if (withName && set->name != NULL) {
        Tcl_DStringAppend(dsPtr, set->name, -1);
        Tcl_DStringAppend(dsPtr, ":\n", 2);
    }
    for (i = 0u; i < set->size; i++) {
        const char *key = Ns_SetKey(set, i), *value = Ns_SetValue(set, i);

        Tcl_DStringAppend(dsPtr, lead, -1);
        Tcl_DStringAppend(dsPtr, key != NULL ? key : "", -1);
        Tcl_DStringAppend(dsPtr, separator, -1);
        Tcl_DStringAppend(dsPtr, value != NULL ? value : "", -1);
        Tcl_DStringAppend(dsPtr, "\n", 1);
    }
}


/*
 *----------------------------------------------------------------------
 *
 * SetFormatObjCmd --
 *
 *      Implements "ns_set format ?-noname? ?-lead /value/?
 *      ?-separator /value/? ?--? /setId/" (lead defaults to two blanks,
 *      separator to ": ").
 *
 * Results:
 *      Tcl result: the formatted set.
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

static int
SetFormatObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                Tcl_Obj *const objv[])
{
    int         result = TCL_OK, noname = 0;
    SetHandle  *handlePtr = NULL;
    char       *lead = (char *)"  ", *separator = (char *)": ";
    Ns_ObjvSpec opts[] = {
        {"-noname",    Ns_ObjvBool,   &noname,    INT2PTR(1)},
        {"-lead",      Ns_ObjvString, &lead,      NULL},
        {"-separator", Ns_ObjvString, &separator, NULL},
        {"--",         Ns_ObjvBreak,  NULL,       NULL},
        {NULL, NULL, NULL, NULL}
    };
    Ns_ObjvSpec args[] = {
        {"setId", ObjvSetHandle, &handlePtr, NULL},
        {NULL, NULL, NULL, NULL}
    };

    if (Ns_ParseObjv(opts, args, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        Tcl_DString ds;

        Tcl_DStringInit(&ds);
        FormatSet(&ds, handlePtr->set, noname == 0, lead, separator);
        Tcl_DStringResult(interp, &ds);
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * SetFreeObjCmd --
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

static int
SetFreeObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
              Tcl_Obj *const objv[])
{
    int         result = TCL_OK;
    SetHandle  *handlePtr = NULL;
    Ns_ObjvSpec args[] = {
        {"setId", ObjvSetHandle, &handlePtr, NULL},
        {NULL, NULL, NULL, NULL}
    };

    if (Ns_ParseObjv(NULL, args, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        result = Ns_TclFreeSet(interp, Tcl_GetString(objv[2]));
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * SetGetObjCmd --
 *
 *      Implements "ns_set get|iget ?-all? ?-nocase? ?--? /setId/ /key/
 *      ?/default/?".
 *
 * Results:
 *      Tcl result: the value of the first field with key, or with -all
 *      the list of all their values; the default (or "") when there is
 *      none.
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

static int
SetGetObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
             Tcl_Obj *const objv[])
{
    int         result = TCL_OK, all = 0, nocase = 0;
    SetHandle  *handlePtr = NULL;
    char       *key = NULL;
    Tcl_Obj    *defaultObj = NULL;
    Ns_ObjvSpec opts[] = {
        {"-all",    Ns_ObjvBool,  &all,    INT2PTR(1)},
        {"-nocase", Ns_ObjvBool,  &nocase, INT2PTR(1)},
        {"--",      Ns_ObjvBreak, NULL,    NULL},
        {NULL, NULL, NULL, NULL}
    };
    Ns_ObjvSpec args[] = {
        {"setId",    ObjvSetHandle, &handlePtr,  NULL},
        {"key",      Ns_ObjvString, &key,        NULL},
        {"?default", Ns_ObjvObj,    &defaultObj, NULL},
        {NULL, NULL, NULL, NULL}
    };

    if (Ns_ParseObjv(opts, args, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        const Ns_Set *set = handlePtr->set;
        Tcl_Obj      *listObj = Tcl_NewListObj(0, NULL);
        size_t        i;
        int           count;
        bool          icase = (nocase != 0 || IsNocase(objv[1]) || handlePtr->nocase);

        for (i = 0u; i < set->size; i++) {
            const char *name = Ns_SetKey(set, i);

            if (name != NULL && KeyMatches(key, name, icase)) {
                const char *value = Ns_SetValue(set, i);

                Tcl_ListObjAppendElement(NULL, listObj,
                                         Tcl_NewStringObj(value != NULL ? value : "", -1));
                if (all == 0) {
                    break;
                }
            }
        }
        (void)Tcl_ListObjLength(NULL, listObj, &count);
        if (count == 0) {
            Tcl_DecrRefCount(listObj);
            Tcl_SetObjResult(interp, defaultObj != NULL ? defaultObj : Tcl_NewObj());
        } else if (all == 0) {
            Tcl_Obj *valueObj;

            (void)Tcl_ListObjIndex(NULL, listObj, 0, &valueObj);
            Tcl_SetObjResult(interp, valueObj);
            Tcl_DecrRefCount(listObj);
        } else {
            Tcl_SetObjResult(interp, listObj);
        }
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * SetIsnullObjCmd --
 *
 *      Implements "ns_set isnull /setId/ /fieldNumber/".
 *
 * Results:
 *      Tcl result: 1 when the field's value is NULL, else 0.
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

static int
SetIsnullObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                Tcl_Obj *const objv[])
{
    int         result = TCL_OK, index = 0;
    SetHandle  *handlePtr = NULL;
    Ns_ObjvSpec args[] = {
        {"setId",       ObjvSetHandle, &handlePtr, NULL},
        {"fieldNumber", Ns_ObjvInt,    &index,     (void *)&indexRange},
        {NULL, NULL, NULL, NULL}
    };

    if (Ns_ParseObjv(NULL, args, interp, 2, objc, objv) != NS_OK
        || CheckIndex(interp, objv[1], handlePtr, index, false) != TCL_OK) {
        result = TCL_ERROR;
    } else {
        Tcl_SetObjResult(interp, Tcl_NewBooleanObj(Ns_SetValue(handlePtr->set, index) == NULL));
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * SetKeyObjCmd --
 *
 *      Implements "ns_set key|value /setId/ /fieldNumber/".
 *
 * Results:
 *      Tcl result: the key or value of the field (NULL reads "").
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

static int
SetKeyObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
             Tcl_Obj *const objv[])
{
    int         result = TCL_OK, index = 0;
    SetHandle  *handlePtr = NULL;
    Ns_ObjvSpec args[] = {
        {"setId",       ObjvSetHandle, &handlePtr, NULL},
        {"fieldNumber", Ns_ObjvInt,    &index,     (void *)&indexRange},
        {NULL, NULL, NULL, NULL}
    };

    if (Ns_ParseObjv(NULL, args, interp, 2, objc, objv) != NS_OK
        || CheckIndex(interp, objv[1], handlePtr, index, false) != TCL_OK) {
        result = TCL_ERROR;
    } else {
        const char *string = (Tcl_GetString(objv[1])[0] == 'k')
            ? Ns_SetKey(handlePtr->set, index)
            : Ns_SetValue(handlePtr->set, index);

        Tcl_SetObjResult(interp, Tcl_NewStringObj(string != NULL ? string : "", -1));
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * SetKeysObjCmd --
 *
 *      Implements "ns_set keys|values /setId/ ?/pattern/?".
 *
 * Results:
 *      Tcl result: the keys or values (matching the glob pattern), in
 *      order.
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

static int
SetKeysObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
              Tcl_Obj *const objv[])
{
    int         result = TCL_OK;
    SetHandle  *handlePtr = NULL;
    char       *pattern = NULL;
    Ns_ObjvSpec args[] = {
        {"setId",    ObjvSetHandle, &handlePtr, NULL},
        {"?pattern", Ns_ObjvString, &pattern,   NULL},
        {NULL, NULL, NULL, NULL}
    };

    if (Ns_ParseObjv(NULL, args, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        const Ns_Set *set = handlePtr->set;
        Tcl_Obj      *listObj = Tcl_NewListObj(0, NULL);
        bool          keys = (Tcl_GetString(objv[1])[0] == 'k');
        size_t        i;

        for (i = 0u; i < set->size; i++) {
            const char *string = keys ? Ns_SetKey(set, i) : Ns_SetValue(set, i);

            if (string == NULL) {
                string = "";
            }
            if (pattern == NULL || Tcl_StringMatch(string, pattern)) {
                Tcl_ListObjAppendElement(NULL, listObj, Tcl_NewStringObj(string, -1));
            }
        }
        Tcl_SetObjResult(interp, listObj);
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
 * SetListObjCmd --
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

static int
SetListObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
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
 * SetMergeObjCmd --
 *
 *      Implements "ns_set merge|imerge ?-nocase? ?--? /setId1/ /setId2/":
 *      add to set1 the fields of set2 whose keys set1 lacks.
 *
 * Results:
 *      Tcl result: setId1.
 *
 * Side effects:
 *      Adds fields to set1.
 *
 *----------------------------------------------------------------------
 */

static int
SetMergeObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
               Tcl_Obj *const objv[])
{
    int         result = TCL_OK, nocase = 0;
    SetHandle  *handle1Ptr = NULL, *handle2Ptr = NULL;
    Ns_ObjvSpec opts[] = {
        {"-nocase", Ns_ObjvBool,  &nocase, INT2PTR(1)},
        {"--",      Ns_ObjvBreak, NULL,    NULL},
        {NULL, NULL, NULL, NULL}
    };
    Ns_ObjvSpec args[] = {
        {"setId1", ObjvSetHandle, &handle1Ptr, NULL},
        {"setId2", ObjvSetHandle, &handle2Ptr, NULL},
        {NULL, NULL, NULL, NULL}
    };

    if (Ns_ParseObjv(opts, args, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        if (nocase != 0 || IsNocase(objv[1]) || handle1Ptr->nocase) {
            Ns_SetIMerge(handle1Ptr->set, handle2Ptr->set);
        } else {
            Ns_SetMerge(handle1Ptr->set, handle2Ptr->set);
        }
        /* setId1 is the second word from the end: options may precede it. */
        Tcl_SetObjResult(interp, objv[objc - 2]);
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * SetMoveObjCmd --
 *
 *      Implements "ns_set move /setId1/ /setId2/": move all fields of set2
 *      to the end of set1.
 *
 * Results:
 *      Tcl result: setId1.
 *
 * Side effects:
 *      set2 becomes empty.
 *
 *----------------------------------------------------------------------
 */

static int
SetMoveObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
              Tcl_Obj *const objv[])
{
    int         result = TCL_OK;
    SetHandle  *handle1Ptr = NULL, *handle2Ptr = NULL;
    Ns_ObjvSpec args[] = {
        {"setId1", ObjvSetHandle, &handle1Ptr, NULL},
        {"setId2", ObjvSetHandle, &handle2Ptr, NULL},
        {NULL, NULL, NULL, NULL}
    };

    if (Ns_ParseObjv(NULL, args, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        Ns_SetMove(handle1Ptr->set, handle2Ptr->set);
        Tcl_SetObjResult(interp, objv[2]);
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * SetNameObjCmd --
 *
 *      Implements "ns_set name /setId/".
 *
 * Results:
 *      Tcl result: the set's name ("" when it has none).
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

static int
SetNameObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
              Tcl_Obj *const objv[])
{
    int         result = TCL_OK;
    SetHandle  *handlePtr = NULL;
    Ns_ObjvSpec args[] = {
        {"setId", ObjvSetHandle, &handlePtr, NULL},
        {NULL, NULL, NULL, NULL}
    };

    if (Ns_ParseObjv(NULL, args, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        const char *name = Ns_SetName(handlePtr->set);

        Tcl_SetObjResult(interp, Tcl_NewStringObj(name != NULL ? name : "", -1));
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * SetPrintObjCmd --
 *
 *      Implements "ns_set print /setId/": write the set to the server log.
 *
 * Results:
 *      Tcl result: empty.
 *
 * Side effects:
 *      One Notice log entry.
 *
 *----------------------------------------------------------------------
 */

static int
SetPrintObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
               Tcl_Obj *const objv[])
{
    int         result = TCL_OK;
    SetHandle  *handlePtr = NULL;
    Ns_ObjvSpec args[] = {
        {"setId", ObjvSetHandle, &handlePtr, NULL},
        {NULL, NULL, NULL, NULL}
    };

    if (Ns_ParseObjv(NULL, args, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        Tcl_DString ds;

        Tcl_DStringInit(&ds);
        FormatSet(&ds, handlePtr->set, true, "  ", ": ");
        Ns_Log(Notice, "ns_set print %s:\n%s", Tcl_GetString(objv[2]), Tcl_DStringValue(&ds));
        Tcl_DStringFree(&ds);
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * SetPutObjCmd --
 *
 *      Implements "ns_set put /setId/ /key/ /value/": append a field.
 *
 * Results:
 *      Tcl result: the index of the new field.
 *
 * Side effects:
 *      Adds a field.
 *
 *----------------------------------------------------------------------
 */

static int
SetPutObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
             Tcl_Obj *const objv[])
{
    int         result = TCL_OK;
    SetHandle  *handlePtr = NULL;
    Tcl_Obj    *keyObj = NULL, *valueObj = NULL;
    Ns_ObjvSpec args[] = {
        {"setId", ObjvSetHandle, &handlePtr, NULL},
        {"key",   Ns_ObjvObj,    &keyObj,    NULL},
        {"value", Ns_ObjvObj,    &valueObj,  NULL},
        {NULL, NULL, NULL, NULL}
    };

    if (Ns_ParseObjv(NULL, args, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        int         keyLength, valueLength;
        const char *key = Tcl_GetStringFromObj(keyObj, &keyLength);
        const char *value = Tcl_GetStringFromObj(valueObj, &valueLength);
        size_t      index = Ns_SetPutSz(handlePtr->set, key, keyLength, value, valueLength);

        Tcl_SetObjResult(interp, Tcl_NewWideIntObj((Tcl_WideInt)index));
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * SetSizeObjCmd --
 *
 *      Implements "ns_set size /setId/ ?/nrElements/? ?/bufferSize/?".
 *      With nrElements, fields from that index on are dropped; bufferSize
 *      (a preallocation hint in NaviServer) is accepted and ignored.
 *
 * Results:
 *      Tcl result: the number of fields.
 *
 * Side effects:
 *      May drop fields.
 *
 *----------------------------------------------------------------------
 */

static int
SetSizeObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
              Tcl_Obj *const objv[])
{
    static const Ns_ObjvValueRange bufferRange = {200, INT_MAX};
    int         result = TCL_OK, nrElements = -1, bufferSize = -1;
    SetHandle  *handlePtr = NULL;
    Ns_ObjvSpec args[] = {
        {"setId",       ObjvSetHandle, &handlePtr,  NULL},
        {"?nrElements", Ns_ObjvInt,    &nrElements, (void *)&indexRange},
        {"?bufferSize", Ns_ObjvInt,    &bufferSize, (void *)&bufferRange},
        {NULL, NULL, NULL, NULL}
    };

    if (Ns_ParseObjv(NULL, args, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        if (nrElements >= 0) {
            Ns_SetTrunc(handlePtr->set, (size_t)nrElements);
        }
        Tcl_SetObjResult(interp, Tcl_NewWideIntObj((Tcl_WideInt)Ns_SetSize(handlePtr->set)));
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * SetSplitObjCmd --
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

static int
SetSplitObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
               Tcl_Obj *const objv[])
{
    int         result = TCL_OK;
    SetHandle  *handlePtr = NULL;
    char       *splitString = (char *)".";
    Ns_ObjvSpec args[] = {
        {"setId",      ObjvSetHandle, &handlePtr,   NULL},
        {"?splitChar", Ns_ObjvString, &splitString, NULL},
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
 * SetStatsObjCmd --
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

static int
SetStatsObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
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


/*
 *----------------------------------------------------------------------
 *
 * SetUniqueObjCmd --
 *
 *      Implements "ns_set unique|iunique ?-nocase? ?--? /setId/ /key/".
 *
 * Results:
 *      Tcl result: 1 when key occurs at most once, else 0.
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

static int
SetUniqueObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                Tcl_Obj *const objv[])
{
    int         result = TCL_OK, nocase = 0;
    SetHandle  *handlePtr = NULL;
    char       *key = NULL;
    Ns_ObjvSpec opts[] = {
        {"-nocase", Ns_ObjvBool,  &nocase, INT2PTR(1)},
        {"--",      Ns_ObjvBreak, NULL,    NULL},
        {NULL, NULL, NULL, NULL}
    };
    Ns_ObjvSpec args[] = {
        {"setId", ObjvSetHandle, &handlePtr, NULL},
        {"key",   Ns_ObjvString, &key,       NULL},
        {NULL, NULL, NULL, NULL}
    };

    if (Ns_ParseObjv(opts, args, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        bool unique = (nocase != 0 || IsNocase(objv[1]) || handlePtr->nocase)
            ? Ns_SetIUnique(handlePtr->set, key)
            : Ns_SetUnique(handlePtr->set, key);

        Tcl_SetObjResult(interp, Tcl_NewBooleanObj(unique));
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * SetUpdateObjCmd --
 *
 *      Implements "ns_set update|iupdate|cput|icput ?-nocase? ?--? /setId/
 *      /key/ /value/": update sets the value of the first field with key
 *      (appending one when there is none); cput appends a field only when
 *      there is none.
 *
 * Results:
 *      Tcl result: the index of the updated, existing or new field.
 *
 * Side effects:
 *      May change or add a field.
 *
 *----------------------------------------------------------------------
 */

static int
SetUpdateObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                Tcl_Obj *const objv[])
{
    int         result = TCL_OK, nocase = 0;
    SetHandle  *handlePtr = NULL;
    Tcl_Obj    *keyObj = NULL, *valueObj = NULL;
    Ns_ObjvSpec opts[] = {
        {"-nocase", Ns_ObjvBool,  &nocase, INT2PTR(1)},
        {"--",      Ns_ObjvBreak, NULL,    NULL},
        {NULL, NULL, NULL, NULL}
    };
    Ns_ObjvSpec args[] = {
        {"setId", ObjvSetHandle, &handlePtr, NULL},
        {"key",   Ns_ObjvObj,    &keyObj,    NULL},
        {"value", Ns_ObjvObj,    &valueObj,  NULL},
        {NULL, NULL, NULL, NULL}
    };

    if (Ns_ParseObjv(opts, args, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        const char *subcmd = Tcl_GetString(objv[1]);
        bool        icase = (nocase != 0 || subcmd[0] == 'i' || handlePtr->nocase);
        bool        isUpdate = (subcmd[(subcmd[0] == 'i') ? 1 : 0] == 'u');
        const char *key = Tcl_GetString(keyObj), *value = Tcl_GetString(valueObj);
        Ns_Set     *set = handlePtr->set;
        int         index = icase ? Ns_SetIFind(set, key) : Ns_SetFind(set, key);

        if (index < 0) {
            index = (int)Ns_SetPut(set, key, value);
        } else if (isUpdate) {
            if (icase) {
                Ns_SetIUpdate(set, key, value);
            } else {
                Ns_SetUpdate(set, key, value);
            }
        }
        Tcl_SetObjResult(interp, Tcl_NewIntObj(index));
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * NsTclSetObjCmd --
 *
 *      Implements "ns_set", dispatching to the subcommands in NaviServer
 *      5's table.
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
NsTclSetObjCmd(ClientData clientData, Tcl_Interp *interp, int objc, Tcl_Obj *const objv[])
{
    static const Ns_SubCmdSpec subcmds[] = {
        {"array",    SetArrayObjCmd},
        {"cleanup",  SetCleanupObjCmd},
        {"copy",     SetCopyObjCmd},
        {"cput",     SetUpdateObjCmd},
        {"create",   SetCreateObjCmd},
        {"delete",   SetDeleteObjCmd},
        {"delkey",   SetDelkeyObjCmd},
        {"find",     SetFindObjCmd},
        {"format",   SetFormatObjCmd},
        {"free",     SetFreeObjCmd},
        {"get",      SetGetObjCmd},
        {"icput",    SetUpdateObjCmd},
        {"idelkey",  SetDelkeyObjCmd},
        {"ifind",    SetFindObjCmd},
        {"iget",     SetGetObjCmd},
        {"imerge",   SetMergeObjCmd},
        {"isnull",   SetIsnullObjCmd},
        {"iunique",  SetUniqueObjCmd},
        {"iupdate",  SetUpdateObjCmd},
        {"key",      SetKeyObjCmd},
        {"keys",     SetKeysObjCmd},
        {"list",     SetListObjCmd},
        {"merge",    SetMergeObjCmd},
        {"move",     SetMoveObjCmd},
        {"name",     SetNameObjCmd},
        {"new",      SetCreateObjCmd},
        {"print",    SetPrintObjCmd},
        {"put",      SetPutObjCmd},
        {"size",     SetSizeObjCmd},
        {"split",    SetSplitObjCmd},
        {"stats",    SetStatsObjCmd},
        {"truncate", SetTruncateObjCmd},
        {"unique",   SetUniqueObjCmd},
        {"update",   SetUpdateObjCmd},
        {"value",    SetKeyObjCmd},
        {"values",   SetKeysObjCmd},
        {NULL, NULL}
    };

    return Ns_SubcmdObjv(subcmds, clientData, interp, objc, objv);
}
