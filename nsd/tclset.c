/*
 * tclset.c --
 *
 *      The "ns_set" command, with NaviServer 5's subcommands, syntax,
 *      results and messages: the dispatch, and the subcommands that read
 *      or change the fields of a set (get, put, update, find, keys,
 *      format, merge, ...).  The subcommands that create, free, list and
 *      measure sets, and the handles themselves ("d0", "t1", ...), are in
 *      tclsethandle.c.  Case-insensitive variants (iget, ifind, ...) share
 *      the procs of their plain subcommands.
 */

#include "tclsetint.h"

static bool IgnoreCase(int nocase, Tcl_Obj *subcmdObj, const SetHandle *handlePtr);
static bool KeyMatches(const char *key, const char *name, bool icase);
static int  ParseFieldArgs(Tcl_Interp *interp, int objc, Tcl_Obj *const objv[], bool allowEnd,
                           SetHandle **handlePtrPtr, int *indexPtr);
static int  ParseKeyArgs(Tcl_Interp *interp, int objc, Tcl_Obj *const objv[],
                         SetHandle **handlePtrPtr, char **keyPtr, bool *icasePtr);
static void FormatSet(Tcl_DString *dsPtr, const Ns_Set *set, bool withName, const char *lead,
                      const char *separator);

static Tcl_ObjCmdProc SetArrayObjCmd, SetDeleteObjCmd, SetDelkeyObjCmd, SetFindObjCmd,
    SetFormatObjCmd, SetGetObjCmd, SetIsnullObjCmd, SetKeyObjCmd, SetKeysObjCmd,
    SetMergeObjCmd, SetMoveObjCmd, SetNameObjCmd, SetPrintObjCmd, SetPutObjCmd,
    SetSizeObjCmd, SetTruncateObjCmd, SetUniqueObjCmd, SetUpdateObjCmd;

static const Ns_ObjvValueRange indexRange = {0, INT_MAX};


/*
 *----------------------------------------------------------------------
 *
 * IgnoreCase --
 *
 *      Does a subcommand compare keys case-insensitively?  It does with
 *      -nocase, as one of the "i" subcommands (iget, ifind, ...; the
 *      subcommands sharing their procs do not start with "i"), and on a
 *      set made with -nocase or by "ns_set new".
 *
 * Results:
 *      true for case-insensitive comparison.
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

static bool
IgnoreCase(int nocase, Tcl_Obj *subcmdObj, const SetHandle *handlePtr)
{
    return (nocase != 0 || Tcl_GetString(subcmdObj)[0] == 'i' || handlePtr->nocase);
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
 * ParseFieldArgs --
 *
 *      Parse the arguments "/setId/ /fieldNumber/" of delete, truncate,
 *      isnull, key and value, and check the number against the size of
 *      the set; allowEnd accepts the size itself (for delete and truncate,
 *      where it does nothing).
 *
 * Results:
 *      TCL_OK with *handlePtrPtr and *indexPtr set, or TCL_ERROR with the
 *      usage or NaviServer's message.
 *
 * Side effects:
 *      Sets the interp result on error.
 *
 *----------------------------------------------------------------------
 */

static int
ParseFieldArgs(Tcl_Interp *interp, int objc, Tcl_Obj *const objv[], bool allowEnd,
               SetHandle **handlePtrPtr, int *indexPtr)
{
    int         result = TCL_OK;
    Ns_ObjvSpec args[] = {
        {"setId",       NsTclObjvSetHandle, handlePtrPtr, NULL},
        {"fieldNumber", Ns_ObjvInt,         indexPtr,     (void *)&indexRange},
        {NULL, NULL, NULL, NULL}
    };

    if (Ns_ParseObjv(NULL, args, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        size_t size = Ns_SetSize((*handlePtrPtr)->set), index = (size_t)*indexPtr;

        if (index > size || (index == size && !allowEnd)) {
            Ns_TclPrintfResult(interp, "ns_set %s: index must be maximal the number of elements",
                               Tcl_GetString(objv[1]));
            result = TCL_ERROR;
        }
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * ParseKeyArgs --
 *
 *      Parse the arguments "?-nocase? ?--? /setId/ /key/" of delkey, find
 *      and unique (and their "i" variants).
 *
 * Results:
 *      TCL_OK with *handlePtrPtr, *keyPtr and *icasePtr (see IgnoreCase)
 *      set, or TCL_ERROR with the usage or "no such set".
 *
 * Side effects:
 *      Sets the interp result on error.
 *
 *----------------------------------------------------------------------
 */

static int
ParseKeyArgs(Tcl_Interp *interp, int objc, Tcl_Obj *const objv[], SetHandle **handlePtrPtr,
             char **keyPtr, bool *icasePtr)
{
    int         result = TCL_OK, nocase = 0;
    Ns_ObjvSpec opts[] = {
        {"-nocase", Ns_ObjvBool,  &nocase, INT2PTR(1)},
        {"--",      Ns_ObjvBreak, NULL,    NULL},
        {NULL, NULL, NULL, NULL}
    };
    Ns_ObjvSpec args[] = {
        {"setId", NsTclObjvSetHandle, handlePtrPtr, NULL},
        {"key",   Ns_ObjvString,      keyPtr,       NULL},
        {NULL, NULL, NULL, NULL}
    };

    if (Ns_ParseObjv(opts, args, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        *icasePtr = IgnoreCase(nocase, objv[1], *handlePtrPtr);
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
    int        result = TCL_OK;
    SetHandle *handlePtr = NULL;

    if (NsTclParseSetId(interp, objc, objv, &handlePtr) != TCL_OK) {
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
    int        result = TCL_OK, index = 0;
    SetHandle *handlePtr = NULL;

    if (ParseFieldArgs(interp, objc, objv, true, &handlePtr, &index) != TCL_OK) {
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
    int        result = TCL_OK, index = 0;
    SetHandle *handlePtr = NULL;

    if (ParseFieldArgs(interp, objc, objv, true, &handlePtr, &index) != TCL_OK) {
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
    int        result = TCL_OK;
    SetHandle *handlePtr = NULL;
    char      *key = NULL;
    bool       icase = false;

    if (ParseKeyArgs(interp, objc, objv, &handlePtr, &key, &icase) != TCL_OK) {
        result = TCL_ERROR;
    } else {
        bool deleted = icase ? Ns_SetIDeleteKey(handlePtr->set, key)
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
    int        result = TCL_OK;
    SetHandle *handlePtr = NULL;
    char      *key = NULL;
    bool       icase = false;

    if (ParseKeyArgs(interp, objc, objv, &handlePtr, &key, &icase) != TCL_OK) {
        result = TCL_ERROR;
    } else {
        int index = icase ? Ns_SetIFind(handlePtr->set, key) : Ns_SetFind(handlePtr->set, key);

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
        {"setId", NsTclObjvSetHandle, &handlePtr, NULL},
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
        {"setId",    NsTclObjvSetHandle, &handlePtr,  NULL},
        {"key",      Ns_ObjvString,      &key,        NULL},
        {"?default", Ns_ObjvObj,         &defaultObj, NULL},
        {NULL, NULL, NULL, NULL}
    };

    if (Ns_ParseObjv(opts, args, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        const Ns_Set *set = handlePtr->set;
        Tcl_Obj      *listObj = Tcl_NewListObj(0, NULL);
        size_t        i;
        int           count;
        bool          icase = IgnoreCase(nocase, objv[1], handlePtr);

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
    int        result = TCL_OK, index = 0;
    SetHandle *handlePtr = NULL;

    if (ParseFieldArgs(interp, objc, objv, false, &handlePtr, &index) != TCL_OK) {
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
    int        result = TCL_OK, index = 0;
    SetHandle *handlePtr = NULL;

    if (ParseFieldArgs(interp, objc, objv, false, &handlePtr, &index) != TCL_OK) {
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
        {"setId",    NsTclObjvSetHandle, &handlePtr, NULL},
        {"?pattern", Ns_ObjvString,      &pattern,   NULL},
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
        {"setId1", NsTclObjvSetHandle, &handle1Ptr, NULL},
        {"setId2", NsTclObjvSetHandle, &handle2Ptr, NULL},
        {NULL, NULL, NULL, NULL}
    };

    if (Ns_ParseObjv(opts, args, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        if (IgnoreCase(nocase, objv[1], handle1Ptr)) {
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
        {"setId1", NsTclObjvSetHandle, &handle1Ptr, NULL},
        {"setId2", NsTclObjvSetHandle, &handle2Ptr, NULL},
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
    int        result = TCL_OK;
    SetHandle *handlePtr = NULL;

    if (NsTclParseSetId(interp, objc, objv, &handlePtr) != TCL_OK) {
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
    int        result = TCL_OK;
    SetHandle *handlePtr = NULL;

    if (NsTclParseSetId(interp, objc, objv, &handlePtr) != TCL_OK) {
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
        {"setId", NsTclObjvSetHandle, &handlePtr, NULL},
        {"key",   Ns_ObjvObj,         &keyObj,    NULL},
        {"value", Ns_ObjvObj,         &valueObj,  NULL},
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
        {"setId",       NsTclObjvSetHandle, &handlePtr,  NULL},
        {"?nrElements", Ns_ObjvInt,         &nrElements, (void *)&indexRange},
        {"?bufferSize", Ns_ObjvInt,         &bufferSize, (void *)&bufferRange},
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
    int        result = TCL_OK;
    SetHandle *handlePtr = NULL;
    char      *key = NULL;
    bool       icase = false;

    if (ParseKeyArgs(interp, objc, objv, &handlePtr, &key, &icase) != TCL_OK) {
        result = TCL_ERROR;
    } else {
        bool unique = icase ? Ns_SetIUnique(handlePtr->set, key)
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
        {"setId", NsTclObjvSetHandle, &handlePtr, NULL},
        {"key",   Ns_ObjvObj,         &keyObj,    NULL},
        {"value", Ns_ObjvObj,         &valueObj,  NULL},
        {NULL, NULL, NULL, NULL}
    };

    if (Ns_ParseObjv(opts, args, interp, 2, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        const char *subcmd = Tcl_GetString(objv[1]);
        bool        icase = IgnoreCase(nocase, objv[1], handlePtr);
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
        {"cleanup",  NsTclSetCleanupObjCmd},
        {"copy",     NsTclSetCopyObjCmd},
        {"cput",     SetUpdateObjCmd},
        {"create",   NsTclSetCreateObjCmd},
        {"delete",   SetDeleteObjCmd},
        {"delkey",   SetDelkeyObjCmd},
        {"find",     SetFindObjCmd},
        {"format",   SetFormatObjCmd},
        {"free",     NsTclSetFreeObjCmd},
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
        {"list",     NsTclSetListObjCmd},
        {"merge",    SetMergeObjCmd},
        {"move",     SetMoveObjCmd},
        {"name",     SetNameObjCmd},
        {"new",      NsTclSetCreateObjCmd},
        {"print",    SetPrintObjCmd},
        {"put",      SetPutObjCmd},
        {"size",     SetSizeObjCmd},
        {"split",    NsTclSetSplitObjCmd},
        {"stats",    NsTclSetStatsObjCmd},
        {"truncate", SetTruncateObjCmd},
        {"unique",   SetUniqueObjCmd},
        {"update",   SetUpdateObjCmd},
        {"value",    SetKeyObjCmd},
        {"values",   SetKeysObjCmd},
        {NULL, NULL}
    };

    return Ns_SubcmdObjv(subcmds, clientData, interp, objc, objv);
}
