/*
 * tclobjv.c --
 *
 *      Parsing the options and arguments of Tcl commands from spec tables, as
 *      NaviServer's Ns_ParseObjv does.  A command describes its options
 *      ("-name") and positional arguments ("name", "?name" when optional) in
 *      two tables of Ns_ObjvSpec; Ns_ParseObjv converts the words into the
 *      C variables the tables point to, and the "wrong # args" usage text is
 *      generated from the same tables, so it cannot drift from the code.
 *      Subcommand dispatch (Ns_SubcmdObjv) and Ns_TclPrintfResult live here
 *      too, since every command procedure uses them together.
 *
 *      Matching is always exact: no abbreviations of options, table values
 *      or subcommands, and nothing is cached in the internal rep of a word
 *      except parsed times (see Ns_ObjvTime).
 */

#include "nsd.h"

#include <inttypes.h>
#include <limits.h>

/*
 * NaviServer prints this after the enumerated subcommands when a command is
 * called without one.  The missing closing "?" is NaviServer 5's exact text
 * (its tests pin it), kept for compatibility.
 */
#define SUBCMD_USAGE_SUFFIX " ?/arg .../"

static int LookupExact(Tcl_Interp *interp, Tcl_Obj *wordObj, const void *table, size_t stride,
                       const char *what, int *indexPtr);
static int FindOption(const Ns_ObjvSpec *optSpec, Tcl_Obj *wordObj);
static int CheckRange(Tcl_Interp *interp, const char *key, const Ns_ObjvValueRange *rangePtr,
                      Tcl_WideInt value);
static void AppendRangeBound(Tcl_DString *dsPtr, int64_t bound, bool isMax);
static void AppendRange(Tcl_DString *dsPtr, const Ns_ObjvValueRange *rangePtr);
static void AppendOptionValue(Tcl_DString *dsPtr, const Ns_ObjvSpec *specPtr);
static void AppendArgument(Tcl_DString *dsPtr, const Ns_ObjvSpec *specPtr);
static int MissingArgument(Tcl_Interp *interp, const Ns_ObjvSpec *specPtr);

static Tcl_UpdateStringProc UpdateStringOfTime;
static Tcl_SetFromAnyProc   SetTimeFromAny;

/*
 * Parsed times are kept in the internal rep of the word itself, so that
 * Ns_ObjvTime can hand out an Ns_Time pointer that lives as long as the word
 * (NaviServer does the same).  The Ns_Time is stored directly in the
 * internalRep union.
 */
static const Tcl_ObjType timeType = {
    "ns:time",          /* name */
    NULL,               /* freeIntRepProc: nothing allocated */
    NULL,               /* dupIntRepProc: a plain copy of the union is right */
    UpdateStringOfTime, /* updateStringProc */
    SetTimeFromAny      /* setFromAnyProc */
};

_Static_assert(sizeof(Ns_Time) <= sizeof(((Tcl_Obj *)NULL)->internalRep),
               "Ns_Time must fit into the internal rep of a Tcl_Obj");


/*
 *----------------------------------------------------------------------
 *
 * Ns_ParseObjv --
 *
 *      Convert objv[offset..objc-1] as described by the option and argument
 *      tables.  Options come first, in any order, and end at "--" (when the
 *      table has an Ns_ObjvBreak entry), at the first word that is not one
 *      of the options, or when no words are left for the required
 *      arguments.  A word starting with "-" that is no known option is
 *      taken as the first argument, as NaviServer does.  When exactly the
 *      required number of words is given, no option processing is done at
 *      all, so that "nsv_set -reset a" sets key "a" of array "-reset".
 *
 * Results:
 *      NS_OK, or NS_ERROR with a message in the interp result ("wrong # args"
 *      with the generated usage and -errorcode TCL WRONGARGS, or the error of
 *      a converter).
 *
 * Side effects:
 *      Stores the converted values through the dest pointers of the specs.
 *
 *----------------------------------------------------------------------
 */

int
Ns_ParseObjv(Ns_ObjvSpec *optSpec, Ns_ObjvSpec *argSpec, Tcl_Interp *interp,
             int offset, int objc, Tcl_Obj *const objv[])
{
    Ns_ObjvSpec *specPtr;
    int          remain = objc - offset, status = NS_OK;
    bool         parseOptions = (optSpec != NULL && optSpec->key != NULL);

    if (parseOptions && argSpec != NULL) {
        int required = 0;

        for (specPtr = argSpec; specPtr->key != NULL && specPtr->key[0] != '?'; specPtr++) {
            required++;
        }
        if (required == remain) {
            parseOptions = false;
        }
    }

    while (parseOptions && remain > 0) {
        int optIndex = FindOption(optSpec, objv[objc - remain]);
        int rc;

        if (optIndex < 0) {
            break;
        }
        remain--;
        specPtr = &optSpec[optIndex];
        rc = specPtr->proc(specPtr, interp, &remain, objv + (objc - remain));
        if (rc == TCL_BREAK) {
            break;
        } else if (rc != TCL_OK) {
            status = NS_ERROR;
            break;
        }
    }

    if (status == NS_OK && argSpec != NULL) {
        for (specPtr = argSpec; specPtr->key != NULL; specPtr++) {
            if (remain == 0) {
                if (specPtr->key[0] != '?') {
                    Ns_WrongNumArgs(interp, optSpec, argSpec, offset, objv);
                    status = NS_ERROR;
                }
                break;
            }
            if (specPtr->proc(specPtr, interp, &remain, objv + (objc - remain)) != TCL_OK) {
                status = NS_ERROR;
                break;
            }
        }
    }
    if (status == NS_OK && remain > 0) {
        Ns_WrongNumArgs(interp, optSpec, argSpec, offset, objv);
        status = NS_ERROR;
    }
    return status;
}


/*
 *----------------------------------------------------------------------
 *
 * Ns_WrongNumArgs --
 *
 *      Leave NaviServer 5's usage message in the interp result, e.g.
 *      wrong # args: should be "ns_connchan read ?-websocket? /channel/".
 *      The command name is objv[0..offset-1].
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      Sets the interp result and -errorcode TCL WRONGARGS (through
 *      Tcl_WrongNumArgs).
 *
 *----------------------------------------------------------------------
 */

void
Ns_WrongNumArgs(Tcl_Interp *interp, Ns_ObjvSpec *optSpec, Ns_ObjvSpec *argSpec, int offset,
                Tcl_Obj *const objv[])
{
    const Ns_ObjvSpec *specPtr;
    Tcl_DString        ds;

    Tcl_DStringInit(&ds);
    if (optSpec != NULL) {
        for (specPtr = optSpec; specPtr->key != NULL; specPtr++) {
            if (strcmp(specPtr->key, "--") == 0) {
                Tcl_DStringAppend(&ds, "?--? ", 5);
            } else {
                Tcl_DStringAppend(&ds, "?", 1);
                Tcl_DStringAppend(&ds, specPtr->key, -1);
                if (specPtr->proc != Ns_ObjvBool || specPtr->arg == NULL) {
                    Tcl_DStringAppend(&ds, " ", 1);
                    AppendOptionValue(&ds, specPtr);
                }
                Tcl_DStringAppend(&ds, "? ", 2);
            }
        }
    }
    if (argSpec != NULL) {
        for (specPtr = argSpec; specPtr->key != NULL; specPtr++) {
            AppendArgument(&ds, specPtr);
            Tcl_DStringAppend(&ds, " ", 1);
        }
    }
    if (Tcl_DStringLength(&ds) > 0) {
        Tcl_DStringSetLength(&ds, Tcl_DStringLength(&ds) - 1);
        Tcl_WrongNumArgs(interp, offset, objv, Tcl_DStringValue(&ds));
    } else {
        Tcl_WrongNumArgs(interp, offset, objv, NULL);
    }
    Tcl_DStringFree(&ds);
}


/*
 *----------------------------------------------------------------------
 *
 * AppendOptionValue --
 *
 *      Append the placeholder for the value of an option: "true|false" for
 *      a boolean, the table keys joined by "|" for an index or flags, the
 *      values "0|1" for an integer limited to two values, and otherwise a
 *      placeholder such as "/integer[1,MAX]/", "/time/" or "/value/".
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
AppendOptionValue(Tcl_DString *dsPtr, const Ns_ObjvSpec *specPtr)
{
    Ns_ObjvProc             *proc = specPtr->proc;
    const Ns_ObjvValueRange *rangePtr = specPtr->arg;

    if (proc == Ns_ObjvBool) {
        Tcl_DStringAppend(dsPtr, "true|false", -1);

    } else if (proc == Ns_ObjvIndex || proc == Ns_ObjvFlags) {
        const Ns_ObjvTable *entryPtr;

        for (entryPtr = specPtr->arg; entryPtr->key != NULL; entryPtr++) {
            if (entryPtr != specPtr->arg) {
                Tcl_DStringAppend(dsPtr, "|", 1);
            }
            Tcl_DStringAppend(dsPtr, entryPtr->key, -1);
        }

    } else if ((proc == Ns_ObjvInt || proc == Ns_ObjvWideInt) && rangePtr != NULL
               && rangePtr->maxValue >= rangePtr->minValue
               && rangePtr->maxValue - rangePtr->minValue <= 1) {
        /*
         * A range of one or two values reads best as the values themselves,
         * as in "?-fin 0|1?".
         */
        char buf[48];

        snprintf(buf, sizeof(buf), "%" PRId64, rangePtr->minValue);
        Tcl_DStringAppend(dsPtr, buf, -1);
        if (rangePtr->maxValue != rangePtr->minValue) {
            snprintf(buf, sizeof(buf), "|%" PRId64, rangePtr->maxValue);
            Tcl_DStringAppend(dsPtr, buf, -1);
        }

    } else {
        const char *placeholder;

        if (proc == Ns_ObjvInt || proc == Ns_ObjvWideInt) {
            placeholder = "integer";
        } else if (proc == Ns_ObjvTime) {
            placeholder = "time";
        } else if (proc == Ns_ObjvString || proc == Ns_ObjvObj) {
            placeholder = "value";
        } else if (proc == Ns_ObjvSet) {
            placeholder = "setId";
        } else if (proc == Ns_ObjvServer) {
            placeholder = "server";
        } else if (proc == Ns_ObjvByteArray) {
            placeholder = "data";
        } else {
            /*
             * A parser of some other file: repeat the option name.
             */
            placeholder = specPtr->key + 1;
        }
        Tcl_DStringAppend(dsPtr, "/", 1);
        Tcl_DStringAppend(dsPtr, placeholder, -1);
        if ((proc == Ns_ObjvInt || proc == Ns_ObjvWideInt) && rangePtr != NULL) {
            AppendRange(dsPtr, rangePtr);
        } else if (proc == Ns_ObjvArgs) {
            Tcl_DStringAppend(dsPtr, " ...", 4);
        }
        Tcl_DStringAppend(dsPtr, "/", 1);
    }
}


/*
 *----------------------------------------------------------------------
 *
 * AppendArgument --
 *
 *      Append the placeholder of a positional argument: "/name/", or
 *      "?/name/?" when optional; integers with a range show it
 *      ("/fieldNumber[0,MAX]/") and Ns_ObjvArgs shows dots ("/value .../").
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
AppendArgument(Tcl_DString *dsPtr, const Ns_ObjvSpec *specPtr)
{
    const char *name = specPtr->key;
    bool        optional = (name[0] == '?');

    if (optional) {
        name++;
        Tcl_DStringAppend(dsPtr, "?", 1);
    }
    Tcl_DStringAppend(dsPtr, "/", 1);
    Tcl_DStringAppend(dsPtr, name, -1);
    if ((specPtr->proc == Ns_ObjvInt || specPtr->proc == Ns_ObjvWideInt)
        && specPtr->arg != NULL) {
        AppendRange(dsPtr, specPtr->arg);
    } else if (specPtr->proc == Ns_ObjvArgs) {
        Tcl_DStringAppend(dsPtr, " ...", 4);
    }
    Tcl_DStringAppend(dsPtr, "/", 1);
    if (optional) {
        Tcl_DStringAppend(dsPtr, "?", 1);
    }
}


/*
 *----------------------------------------------------------------------
 *
 * AppendRange, AppendRangeBound --
 *
 *      Append a range as "[min,max]", where the extreme values of the
 *      integer types read MIN and MAX.
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
AppendRange(Tcl_DString *dsPtr, const Ns_ObjvValueRange *rangePtr)
{
    Tcl_DStringAppend(dsPtr, "[", 1);
    AppendRangeBound(dsPtr, rangePtr->minValue, false);
    Tcl_DStringAppend(dsPtr, ",", 1);
    AppendRangeBound(dsPtr, rangePtr->maxValue, true);
    Tcl_DStringAppend(dsPtr, "]", 1);
}

static void
AppendRangeBound(Tcl_DString *dsPtr, int64_t bound, bool isMax)
{
    if (isMax && (bound == INT_MAX || bound == LONG_MAX || bound == LLONG_MAX)) {
        Tcl_DStringAppend(dsPtr, "MAX", 3);
    } else if (!isMax && (bound == INT_MIN || bound == LONG_MIN || bound == LLONG_MIN)) {
        Tcl_DStringAppend(dsPtr, "MIN", 3);
    } else {
        char buf[32];

        snprintf(buf, sizeof(buf), "%" PRId64, bound);
        Tcl_DStringAppend(dsPtr, buf, -1);
    }
}


/*
 *----------------------------------------------------------------------
 *
 * FindOption --
 *
 *      Find a word among the option keys, exactly.  A pure byte array (no
 *      string rep) is never an option: asking for its string would build a
 *      string rep of binary data for nothing.
 *
 * Results:
 *      Index into optSpec, or -1.
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

static int
FindOption(const Ns_ObjvSpec *optSpec, Tcl_Obj *wordObj)
{
    int result = -1;

    if (wordObj->bytes != NULL || wordObj->typePtr == NULL
        || strcmp(wordObj->typePtr->name, "bytearray") != 0) {
        const char *word = Tcl_GetString(wordObj);

        if (word[0] == '-') {
            const Ns_ObjvSpec *specPtr;

            for (specPtr = optSpec; specPtr->key != NULL; specPtr++) {
                if (strcmp(word, specPtr->key) == 0) {
                    result = (int)(specPtr - optSpec);
                    break;
                }
            }
        }
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * LookupExact --
 *
 *      Find the word among the keys of a table of structs whose first
 *      member is a "const char *key" and that ends with a NULL key.  Unlike
 *      Tcl_GetIndexFromObjStruct it allows no abbreviations and caches
 *      nothing in the word: tables are often on the stack, and a cached
 *      index could point into another table later.
 *
 * Results:
 *      TCL_OK with *indexPtr set, or TCL_ERROR with Tcl's message
 *      (bad option "x": must be a, b, or c) and -errorcode
 *      TCL LOOKUP INDEX what word.
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

static int
LookupExact(Tcl_Interp *interp, Tcl_Obj *wordObj, const void *table, size_t stride,
            const char *what, int *indexPtr)
{
    const char *word = Tcl_GetString(wordObj);
    const char *key;
    int         idx, result = TCL_ERROR;

#define KEY_AT(i) (*(const char *const *)(const void *)((const char *)table + (size_t)(i) * stride))

    for (idx = 0; (key = KEY_AT(idx)) != NULL; idx++) {
        if (strcmp(word, key) == 0) {
            *indexPtr = idx;
            result = TCL_OK;
            break;
        }
    }
    if (result != TCL_OK && interp != NULL) {
        Tcl_Obj *msgObj = Tcl_ObjPrintf("bad %s \"%s\": ", what, word);
        int      count, i;

        for (count = 0; KEY_AT(count) != NULL; count++) {
            /* count the keys */
        }
        if (count == 0) {
            Tcl_AppendToObj(msgObj, "no valid options", -1);
        } else {
            Tcl_AppendStringsToObj(msgObj, "must be ", KEY_AT(0), (char *)NULL);
            for (i = 1; i < count; i++) {
                Tcl_AppendStringsToObj(msgObj, (i == count - 1)
                                       ? (count > 2 ? ", or " : " or ")
                                       : ", ",
                                       KEY_AT(i), (char *)NULL);
            }
        }
        Tcl_SetObjResult(interp, msgObj);
        Tcl_SetErrorCode(interp, "TCL", "LOOKUP", "INDEX", what, word, (char *)NULL);
    }
#undef KEY_AT
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * MissingArgument --
 *
 *      Report an option given as the last word, without its value.
 *
 * Results:
 *      TCL_ERROR.
 *
 * Side effects:
 *      Sets the interp result.
 *
 *----------------------------------------------------------------------
 */

static int
MissingArgument(Tcl_Interp *interp, const Ns_ObjvSpec *specPtr)
{
    Ns_TclPrintfResult(interp, "missing argument to %s", specPtr->key);
    return TCL_ERROR;
}


/*
 *----------------------------------------------------------------------
 *
 * CheckRange --
 *
 *      Check an integer against an optional range.
 *
 * Results:
 *      TCL_OK, or TCL_ERROR with NaviServer's message
 *      (expected integer in range [0,1] for '-fin', but got 5).
 *
 * Side effects:
 *      Sets the interp result on error.
 *
 *----------------------------------------------------------------------
 */

static int
CheckRange(Tcl_Interp *interp, const char *key, const Ns_ObjvValueRange *rangePtr,
           Tcl_WideInt value)
{
    int result = TCL_OK;

    if (rangePtr != NULL && (value < rangePtr->minValue || value > rangePtr->maxValue)) {
        Tcl_DString ds;
        char        buf[48];

        Tcl_DStringInit(&ds);
        Tcl_DStringAppend(&ds, "expected integer in range ", -1);
        AppendRange(&ds, rangePtr);
        /* Optional arguments are named without their "?" marker. */
        Tcl_DStringAppend(&ds, " for '", -1);
        Tcl_DStringAppend(&ds, (key[0] == '?') ? key + 1 : key, -1);
        snprintf(buf, sizeof(buf), "', but got %" PRId64, (int64_t)value);
        Tcl_DStringAppend(&ds, buf, -1);
        Tcl_DStringResult(interp, &ds);
        /* The code Tcl itself gives a number it cannot use. */
        Tcl_SetErrorCode(interp, "TCL", "VALUE", "NUMBER", (char *)0);
        result = TCL_ERROR;
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * Ns_ObjvInt, Ns_ObjvWideInt --
 *
 *      Consume one word as an int (dest int *) or a Tcl_WideInt (dest
 *      Tcl_WideInt *).  When arg is an Ns_ObjvValueRange, the value must
 *      lie within it.
 *
 * Results:
 *      TCL_OK, or TCL_ERROR with Tcl's or the range message.
 *
 * Side effects:
 *      Stores the value in *dest; decrements *objcPtr.
 *
 *----------------------------------------------------------------------
 */

int
Ns_ObjvInt(Ns_ObjvSpec *spec, Tcl_Interp *interp, int *objcPtr, Tcl_Obj *const objv[])
{
    int result, value;

    if (*objcPtr < 1) {
        result = MissingArgument(interp, spec);
    } else if (Tcl_GetIntFromObj(interp, objv[0], &value) != TCL_OK) {
        result = TCL_ERROR;
    } else if (CheckRange(interp, spec->key, spec->arg, value) != TCL_OK) {
        result = TCL_ERROR;
    } else {
        *(int *)spec->dest = value;
        *objcPtr -= 1;
        result = TCL_OK;
    }
    return result;
}

int
Ns_ObjvWideInt(Ns_ObjvSpec *spec, Tcl_Interp *interp, int *objcPtr, Tcl_Obj *const objv[])
{
    int         result;
    Tcl_WideInt value;

    if (*objcPtr < 1) {
        result = MissingArgument(interp, spec);
    } else if (Tcl_GetWideIntFromObj(interp, objv[0], &value) != TCL_OK) {
        result = TCL_ERROR;
    } else if (CheckRange(interp, spec->key, spec->arg, value) != TCL_OK) {
        result = TCL_ERROR;
    } else {
        *(Tcl_WideInt *)spec->dest = value;
        *objcPtr -= 1;
        result = TCL_OK;
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * Ns_ObjvBool --
 *
 *      With arg == INT2PTR(value), a flag: store the value, consume no
 *      word.  With arg NULL, consume one word as a Tcl boolean.  dest is an
 *      int *.
 *
 * Results:
 *      TCL_OK or TCL_ERROR.
 *
 * Side effects:
 *      Stores into *dest; may decrement *objcPtr.
 *
 *----------------------------------------------------------------------
 */

int
Ns_ObjvBool(Ns_ObjvSpec *spec, Tcl_Interp *interp, int *objcPtr, Tcl_Obj *const objv[])
{
    int result, value;

    if (spec->arg != NULL) {
        *(int *)spec->dest = PTR2INT(spec->arg);
        result = TCL_OK;
    } else if (*objcPtr < 1) {
        result = MissingArgument(interp, spec);
    } else if (Tcl_GetBooleanFromObj(interp, objv[0], &value) != TCL_OK) {
        result = TCL_ERROR;
    } else {
        *(int *)spec->dest = value;
        *objcPtr -= 1;
        result = TCL_OK;
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * Ns_ObjvString, Ns_ObjvObj, Ns_ObjvByteArray --
 *
 *      Consume one word as its string (dest char **; arg, when not NULL,
 *      an int * for the length), as the Tcl_Obj itself (dest Tcl_Obj **),
 *      or as bytes (dest unsigned char **; arg, when not NULL, an int *
 *      for the length).  The pointers live as long as the word.
 *
 * Results:
 *      TCL_OK, or TCL_ERROR when the word is missing.
 *
 * Side effects:
 *      Stores into *dest; decrements *objcPtr.
 *
 *----------------------------------------------------------------------
 */

int
Ns_ObjvString(Ns_ObjvSpec *spec, Tcl_Interp *interp, int *objcPtr, Tcl_Obj *const objv[])
{
    int result;

    if (*objcPtr < 1) {
        result = MissingArgument(interp, spec);
    } else {
        *(char **)spec->dest = Tcl_GetStringFromObj(objv[0], (int *)spec->arg);
        *objcPtr -= 1;
        result = TCL_OK;
    }
    return result;
}

int
Ns_ObjvObj(Ns_ObjvSpec *spec, Tcl_Interp *interp, int *objcPtr, Tcl_Obj *const objv[])
{
    int result;

    if (*objcPtr < 1) {
        result = MissingArgument(interp, spec);
    } else {
        *(Tcl_Obj **)spec->dest = objv[0];
        *objcPtr -= 1;
        result = TCL_OK;
    }
    return result;
}

int
Ns_ObjvByteArray(Ns_ObjvSpec *spec, Tcl_Interp *interp, int *objcPtr, Tcl_Obj *const objv[])
{
    int result;

    if (*objcPtr < 1) {
        result = MissingArgument(interp, spec);
    } else {
        *(unsigned char **)spec->dest = Tcl_GetByteArrayFromObj(objv[0], (int *)spec->arg);
        *objcPtr -= 1;
        result = TCL_OK;
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * Ns_ObjvTime --
 *
 *      Consume one word as a time (see Ns_ParseTime: "secs", "secs:usecs",
 *      "secs.fraction" or a number with a unit such as "500ms").  dest is
 *      an Ns_Time **: it gets a pointer into the word's internal rep, valid
 *      while the word lives and is not converted to another type, so copy
 *      the value before evaluating any script.
 *
 * Results:
 *      TCL_OK, or TCL_ERROR with "expected time value but got ...".
 *
 * Side effects:
 *      The word gets the ns:time internal rep; decrements *objcPtr.
 *
 *----------------------------------------------------------------------
 */

int
Ns_ObjvTime(Ns_ObjvSpec *spec, Tcl_Interp *interp, int *objcPtr, Tcl_Obj *const objv[])
{
    int result;

    if (*objcPtr < 1) {
        result = MissingArgument(interp, spec);
    } else if (objv[0]->typePtr != &timeType
               && Tcl_ConvertToType(interp, objv[0], &timeType) != TCL_OK) {
        result = TCL_ERROR;
    } else {
        *(Ns_Time **)spec->dest = (Ns_Time *)(void *)&objv[0]->internalRep;
        *objcPtr -= 1;
        result = TCL_OK;
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * SetTimeFromAny --
 *
 *      Convert a word to the ns:time type with Ns_ParseTime.
 *
 * Results:
 *      TCL_OK, or TCL_ERROR with a message when interp is not NULL.
 *
 * Side effects:
 *      Replaces the internal rep of objPtr.
 *
 *----------------------------------------------------------------------
 */

static int
SetTimeFromAny(Tcl_Interp *interp, Tcl_Obj *objPtr)
{
    const char *string = Tcl_GetString(objPtr);
    Ns_Time     t;
    int         result;

    if (Ns_ParseTime(string, &t) != NS_OK) {
        if (interp != NULL) {
            Ns_TclPrintfResult(interp, "expected time value but got \"%s\"", string);
            Tcl_SetErrorCode(interp, "TCL", "VALUE", "TIME", (char *)0);
        }
        result = TCL_ERROR;
    } else {
        if (objPtr->typePtr != NULL && objPtr->typePtr->freeIntRepProc != NULL) {
            objPtr->typePtr->freeIntRepProc(objPtr);
        }
        memcpy(&objPtr->internalRep, &t, sizeof(t));
        objPtr->typePtr = &timeType;
        result = TCL_OK;
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * UpdateStringOfTime --
 *
 *      Regenerate the string of an ns:time word.  Words only get this type
 *      from their string, so this runs only when someone invalidated it.
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      Sets objPtr->bytes (allocated with ckalloc, as Tcl requires).
 *
 *----------------------------------------------------------------------
 */

static void
UpdateStringOfTime(Tcl_Obj *objPtr)
{
    Ns_Time     t;
    Tcl_DString ds;

    memcpy(&t, &objPtr->internalRep, sizeof(t));
    Tcl_DStringInit(&ds);
    Ns_TimeToString(&t, &ds);
    objPtr->length = Tcl_DStringLength(&ds);
    objPtr->bytes = ckalloc((unsigned int)objPtr->length + 1u);
    memcpy(objPtr->bytes, Tcl_DStringValue(&ds), (size_t)objPtr->length + 1u);
    Tcl_DStringFree(&ds);
}


/*
 *----------------------------------------------------------------------
 *
 * Ns_ObjvIndex --
 *
 *      Consume one word that must be exactly one of the keys of the
 *      Ns_ObjvTable in arg; dest (int *) gets the value of that key.
 *
 * Results:
 *      TCL_OK, or TCL_ERROR with "bad option "x": must be a, b, or c".
 *
 * Side effects:
 *      Stores into *dest; decrements *objcPtr.
 *
 *----------------------------------------------------------------------
 */

int
Ns_ObjvIndex(Ns_ObjvSpec *spec, Tcl_Interp *interp, int *objcPtr, Tcl_Obj *const objv[])
{
    const Ns_ObjvTable *tablePtr = spec->arg;
    int                 result, idx;

    if (*objcPtr < 1) {
        result = MissingArgument(interp, spec);
    } else if (LookupExact(interp, objv[0], tablePtr, sizeof(Ns_ObjvTable), "option", &idx)
               != TCL_OK) {
        result = TCL_ERROR;
    } else {
        *(int *)spec->dest = tablePtr[idx].value;
        *objcPtr -= 1;
        result = TCL_OK;
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * Ns_ObjvFlags --
 *
 *      Consume one word as a list of keys of the Ns_ObjvTable in arg; their
 *      values are ORed into dest (unsigned int *), keeping flags already
 *      set there as defaults.
 *
 * Results:
 *      TCL_OK, or TCL_ERROR for an unknown flag, an empty list or a word
 *      that is no list.
 *
 * Side effects:
 *      Updates *dest; decrements *objcPtr.
 *
 *----------------------------------------------------------------------
 */

int
Ns_ObjvFlags(Ns_ObjvSpec *spec, Tcl_Interp *interp, int *objcPtr, Tcl_Obj *const objv[])
{
    const Ns_ObjvTable *tablePtr = spec->arg;
    Tcl_Obj           **flagv;
    int                 flagc, result;

    if (*objcPtr < 1) {
        result = MissingArgument(interp, spec);
    } else if (Tcl_ListObjGetElements(interp, objv[0], &flagc, &flagv) != TCL_OK) {
        result = TCL_ERROR;
    } else if (flagc == 0) {
        Ns_TclPrintfResult(interp, "blank flag specification");
        result = TCL_ERROR;
    } else {
        unsigned int flags = 0u;
        int          i, idx;

        result = TCL_OK;
        for (i = 0; i < flagc && result == TCL_OK; i++) {
            result = LookupExact(interp, flagv[i], tablePtr, sizeof(Ns_ObjvTable), "flag",
                                 &idx);
            if (result == TCL_OK) {
                flags |= (unsigned int)tablePtr[idx].value;
            }
        }
        if (result == TCL_OK) {
            *(unsigned int *)spec->dest |= flags;
            *objcPtr -= 1;
        }
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * Ns_ObjvSet --
 *
 *      Consume one word as an ns_set handle of this interp; dest is an
 *      Ns_Set **.
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
Ns_ObjvSet(Ns_ObjvSpec *spec, Tcl_Interp *interp, int *objcPtr, Tcl_Obj *const objv[])
{
    int result;

    if (*objcPtr < 1) {
        result = MissingArgument(interp, spec);
    } else if (Ns_TclGetSet2(interp, Tcl_GetString(objv[0]), (Ns_Set **)spec->dest)
               != TCL_OK) {
        result = TCL_ERROR;
    } else {
        *objcPtr -= 1;
        result = TCL_OK;
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * Ns_ObjvServer --
 *
 *      Consume one word as a virtual server name; dest is a char **.
 *
 * Results:
 *      TCL_OK, or TCL_ERROR when the word is missing or names no server
 *      ("invalid server: 'x'", as NaviServer).
 *
 * Side effects:
 *      Stores into *dest; decrements *objcPtr.
 *
 *----------------------------------------------------------------------
 */

int
Ns_ObjvServer(Ns_ObjvSpec *spec, Tcl_Interp *interp, int *objcPtr, Tcl_Obj *const objv[])
{
    int result;

    if (*objcPtr < 1) {
        result = MissingArgument(interp, spec);
    } else if (NsGetServer(Tcl_GetString(objv[0])) == NULL) {
        Ns_TclPrintfResult(interp, "invalid server: '%s'", Tcl_GetString(objv[0]));
        Tcl_SetErrorCode(interp, "NS", "LOOKUP", "SERVER", Tcl_GetString(objv[0]), (char *)0);
        result = TCL_ERROR;
    } else {
        *(char **)spec->dest = Tcl_GetString(objv[0]);
        *objcPtr -= 1;
        result = TCL_OK;
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * Ns_ObjvArgs --
 *
 *      Consume all remaining words.  When dest is not NULL it is an int *
 *      and gets their number; the caller finds the words at the end of
 *      objv.
 *
 * Results:
 *      TCL_OK.
 *
 * Side effects:
 *      Sets *objcPtr to 0.
 *
 *----------------------------------------------------------------------
 */

int
Ns_ObjvArgs(Ns_ObjvSpec *spec, Tcl_Interp *UNUSED(interp), int *objcPtr,
            Tcl_Obj *const *UNUSED(objv))
{
    if (spec->dest != NULL) {
        *(int *)spec->dest = *objcPtr;
    }
    *objcPtr = 0;
    return TCL_OK;
}


/*
 *----------------------------------------------------------------------
 *
 * Ns_ObjvBreak --
 *
 *      The "--" option: end of the options.
 *
 * Results:
 *      TCL_BREAK.
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

int
Ns_ObjvBreak(Ns_ObjvSpec *UNUSED(spec), Tcl_Interp *UNUSED(interp), int *UNUSED(objcPtr),
             Tcl_Obj *const *UNUSED(objv))
{
    return TCL_BREAK;
}


/*
 *----------------------------------------------------------------------
 *
 * Ns_SubcmdObjv --
 *
 *      Dispatch objv[1] exactly to the matching entry of a subcommand table
 *      (in the order the caller wants them listed, normally sorted) and
 *      call its proc with clientData and the full objc/objv, so that it
 *      parses its own words with offset 2.
 *
 * Results:
 *      The subcommand's result; without a subcommand
 *      wrong # args: should be "CMD a|b|c ?/arg .../"
 *      and for an unknown one
 *      CMD: bad subcommand "x": must be a, b, or c
 *      with -errorcode TCL LOOKUP INDEX subcommand x (NaviServer 5's texts).
 *
 * Side effects:
 *      Those of the subcommand.
 *
 *----------------------------------------------------------------------
 */

int
Ns_SubcmdObjv(const Ns_SubCmdSpec *subcmdSpec, ClientData clientData, Tcl_Interp *interp,
              int objc, Tcl_Obj *const objv[])
{
    int result, idx;

    if (objc < 2) {
        const Ns_SubCmdSpec *entryPtr;
        Tcl_DString          ds;

        Tcl_DStringInit(&ds);
        for (entryPtr = subcmdSpec; entryPtr->key != NULL; entryPtr++) {
            if (entryPtr != subcmdSpec) {
                Tcl_DStringAppend(&ds, "|", 1);
            }
            Tcl_DStringAppend(&ds, entryPtr->key, -1);
        }
        Tcl_DStringAppend(&ds, SUBCMD_USAGE_SUFFIX, -1);
        Tcl_WrongNumArgs(interp, 1, objv, Tcl_DStringValue(&ds));
        Tcl_DStringFree(&ds);
        result = TCL_ERROR;

    } else if (LookupExact(interp, objv[1], subcmdSpec, sizeof(Ns_SubCmdSpec), "subcommand",
                           &idx) != TCL_OK) {
        Tcl_Obj *msgObj = Tcl_ObjPrintf("%s: %s", Tcl_GetString(objv[0]),
                                        Tcl_GetStringResult(interp));

        Tcl_SetObjResult(interp, msgObj);
        result = TCL_ERROR;

    } else {
        result = subcmdSpec[idx].proc(clientData, interp, objc, objv);
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * Ns_TclPrintfResult --
 *
 *      Set the interp result from a printf format.  It sets nothing else:
 *      an error path still sets its own -errorcode when it has one, and
 *      its own "result = TCL_ERROR".
 *
 * Results:
 *      Always TCL_OK; the value carries no information (NaviServer's
 *      version returns nothing).
 *
 * Side effects:
 *      Replaces the interp result.
 *
 *----------------------------------------------------------------------
 */

int
Ns_TclPrintfResult(Tcl_Interp *interp, const char *fmt, ...)
{
    va_list     ap;
    Tcl_DString ds;
    char        buf[256];
    int         length;

    va_start(ap, fmt);
    length = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);

    if (length < 0) {
        Tcl_SetObjResult(interp, Tcl_NewStringObj("", 0));
    } else if ((size_t)length < sizeof(buf)) {
        Tcl_SetObjResult(interp, Tcl_NewStringObj(buf, length));
    } else {
        /* Too long for the stack buffer: format again into one that fits. */
        Tcl_DStringInit(&ds);
        Tcl_DStringSetLength(&ds, length);
        va_start(ap, fmt);
        (void)vsnprintf(Tcl_DStringValue(&ds), (size_t)length + 1u, fmt, ap);
        va_end(ap);
        Tcl_DStringResult(interp, &ds);
    }
    return TCL_OK;
}
