/*
 * config.c --
 *
 *      The configuration: reading the config file (a Tcl script of
 *      ns_section/ns_param calls, as NaviServer reads it) into sections of
 *      key/value pairs, and answering Ns_Config* and ns_config questions.
 *      Unknown sections and parameters are kept and simply never asked for.
 *
 *      Sections are written only while the config file is read, before any
 *      other thread exists; afterwards they are read-only and need no lock.
 */

#include "nsd.h"

#include <ctype.h>

static Tcl_HashTable sections;       /* lower-cased name -> Ns_Set * */
static bool          sectionsInit = false;
static Ns_Set       *currentSection; /* target of ns_param while reading */

static Tcl_ObjCmdProc SectionObjCmd, ParamObjCmd;

/*
 *----------------------------------------------------------------------
 * NormalizeSection --
 *
 *      Section names compare without regard to case and with "\" as "/",
 *      as in NaviServer.
 *
 * Results:
 *      The normalised name in dsPtr.
 *----------------------------------------------------------------------
 */
static const char *
NormalizeSection(const char *name, Tcl_DString *dsPtr)
{
    Tcl_DStringInit(dsPtr);
    for (const char *p = name; *p != '\0'; p++) {
        char c = (*p == '\\') ? '/' : (char)tolower((unsigned char)*p);
        Tcl_DStringAppend(dsPtr, &c, 1);
    }
    return Tcl_DStringValue(dsPtr);
}

/*
 *----------------------------------------------------------------------
 * GetSection --
 *
 *      Find a section, creating it when asked to.
 *
 * Results:
 *      The section's set, or NULL when absent and create is false.
 *----------------------------------------------------------------------
 */
static Ns_Set *
GetSection(const char *name, bool create)
{
    Tcl_DString    ds;
    Tcl_HashEntry *hPtr;
    Ns_Set        *set = NULL;
    int            isNew;

    if (!sectionsInit) {
        Tcl_InitHashTable(&sections, TCL_STRING_KEYS);
        sectionsInit = true;
    }
    NormalizeSection(name, &ds);
    if (create) {
        hPtr = Tcl_CreateHashEntry(&sections, Tcl_DStringValue(&ds), &isNew);
        if (isNew) {
            Tcl_SetHashValue(hPtr, Ns_SetCreate(Tcl_DStringValue(&ds)));
        }
    } else {
        hPtr = Tcl_FindHashEntry(&sections, Tcl_DStringValue(&ds));
    }
    if (hPtr != NULL) {
        set = Tcl_GetHashValue(hPtr);
    }
    Tcl_DStringFree(&ds);
    return set;
}

/*
 *----------------------------------------------------------------------
 * NsConfigRead --
 *
 *      Evaluate the config file in a throw-away interp that knows
 *      ns_section, ns_param and the read-only config commands.
 *
 * Results:
 *      NS_OK, or NS_ERROR after printing the reason to stderr.
 *----------------------------------------------------------------------
 */
Ns_ReturnCode
NsConfigRead(const char *file)
{
    Tcl_Interp   *interp = Tcl_CreateInterp();
    Ns_ReturnCode status = NS_OK;

    Tcl_CreateObjCommand(interp, "ns_section", SectionObjCmd, NULL, NULL);
    Tcl_CreateObjCommand(interp, "ns_param", ParamObjCmd, NULL, NULL);
    Tcl_CreateObjCommand(interp, "ns_config", NsTclConfigObjCmd, NULL, NULL);
    Tcl_CreateObjCommand(interp, "ns_configsection", NsTclConfigSectionObjCmd, NULL, NULL);
    Tcl_CreateObjCommand(interp, "ns_configsections", NsTclConfigSectionsObjCmd, NULL, NULL);
    Tcl_CreateObjCommand(interp, "ns_info", NsTclInfoObjCmd, NULL, NULL);
    Tcl_CreateObjCommand(interp, "ns_log", NsTclLogObjCmd, NULL, NULL);
    (void)GetSection("ns/parameters", true);
    currentSection = NULL;
    if (Tcl_Init(interp) != TCL_OK || Tcl_EvalFile(interp, file) != TCL_OK) {
        const char *info = Tcl_GetVar(interp, "errorInfo", TCL_GLOBAL_ONLY);

        fprintf(stderr, "nsd: config file \"%s\": %s\n", file,
                info != NULL ? info : Tcl_GetStringResult(interp));
        status = NS_ERROR;
    }
    currentSection = NULL;
    Tcl_DeleteInterp(interp);
    return status;
}

/*
 *----------------------------------------------------------------------
 * SectionObjCmd --
 *
 *      ns_section name ?script?  -- make "name" the section that
 *      following ns_param calls fill; with a script (the block form),
 *      only for the script's duration.
 *----------------------------------------------------------------------
 */
static int
SectionObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
              Tcl_Obj *const objv[])
{
    char        *name = NULL;
    Tcl_Obj     *scriptObj = NULL;
    Ns_ObjvSpec  args[] = {
        {"section", Ns_ObjvString, &name, NULL},
        {"?script", Ns_ObjvObj, &scriptObj, NULL},
        {NULL, NULL, NULL, NULL}
    };
    int result = TCL_OK;

    if (Ns_ParseObjv(NULL, args, interp, 1, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else if (scriptObj == NULL) {
        currentSection = GetSection(name, true);
    } else {
        Ns_Set *savedSection = currentSection;

        currentSection = GetSection(name, true);
        result = Tcl_EvalObjEx(interp, scriptObj, 0);
        currentSection = savedSection;
    }
    return result;
}

/*
 *----------------------------------------------------------------------
 * ParamObjCmd --
 *
 *      ns_param key value  -- add a parameter to the current section.
 *      Keys may repeat (ns/modules, the urls of an app): all are kept.
 *----------------------------------------------------------------------
 */
static int
ParamObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
            Tcl_Obj *const objv[])
{
    char        *key = NULL, *value = NULL;
    Ns_ObjvSpec  args[] = {
        {"key",   Ns_ObjvString, &key,   NULL},
        {"value", Ns_ObjvString, &value, NULL},
        {NULL, NULL, NULL, NULL}
    };
    int result = TCL_OK;

    if (Ns_ParseObjv(NULL, args, interp, 1, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else if (currentSection == NULL) {
        Tcl_SetObjResult(interp, Tcl_NewStringObj("parameter outside of a section", -1));
        Tcl_SetErrorCode(interp, "NS", "CONFIG", "NOSECTION", (char *)0);
        result = TCL_ERROR;
    } else {
        Ns_SetPut(currentSection, key, value);
    }
    return result;
}

/*
 *----------------------------------------------------------------------
 * NsConfigSetDefault --
 *
 *      Record the value the server actually uses for a parameter that the
 *      config file left out, so ns_config and ns_configsection show it.
 *----------------------------------------------------------------------
 */
void
NsConfigSetDefault(const char *section, const char *key, const char *value)
{
    Ns_Set *set = GetSection(section, true);

    if (Ns_SetIFind(set, key) < 0) {
        Ns_SetPut(set, key, value);
    }
}

/*
 * The public read-only API.
 */

Ns_Set *
Ns_ConfigGetSection(const char *section)
{
    return (section != NULL) ? GetSection(section, false) : NULL;
}

const char *
Ns_ConfigGetValue(const char *section, const char *key)
{
    const Ns_Set *set = Ns_ConfigGetSection(section);

    return (set != NULL) ? Ns_SetIGet(set, key) : NULL;
}

const char *
Ns_ConfigString(const char *section, const char *key, const char *def)
{
    const char *value = Ns_ConfigGetValue(section, key);

    return (value != NULL) ? value : def;
}

/*
 *----------------------------------------------------------------------
 * Ns_ConfigWideInt, Ns_ConfigInt, Ns_ConfigIntRange --
 *
 *      Integer parameters.  A value that is not an integer, or outside
 *      the range, is logged and the default used instead: a typo in the
 *      config should not take the server down, nor be silently obeyed.
 *----------------------------------------------------------------------
 */
int64_t
Ns_ConfigWideInt(const char *section, const char *key, int64_t def)
{
    const char *value = Ns_ConfigGetValue(section, key);
    int64_t     result = def;

    if (value != NULL) {
        char     *end;
        long long v;

        errno = 0;
        v = strtoll(value, &end, 0);
        if (errno != 0 || end == value || *end != '\0') {
            Ns_Log(Warning, "config: %s/%s: \"%s\" is not an integer, using %" PRId64,
                   section, key, value, def);
        } else {
            result = v;
        }
    }
    return result;
}

int
Ns_ConfigIntRange(const char *section, const char *key, int def, int min, int max)
{
    int64_t value = Ns_ConfigWideInt(section, key, def);
    int     result = (int)value;

    if (value < min || value > max) {
        Ns_Log(Warning, "config: %s/%s: %" PRId64 " is out of range [%d,%d], using %d",
               section, key, value, min, max, def);
        result = def;
    }
    return result;
}

int
Ns_ConfigInt(const char *section, const char *key, int def)
{
    return Ns_ConfigIntRange(section, key, def, INT_MIN, INT_MAX);
}

/*
 *----------------------------------------------------------------------
 * Ns_ConfigBool --
 *
 *      Boolean parameters, in any form Tcl accepts (1, true, on, yes...).
 *----------------------------------------------------------------------
 */
bool
Ns_ConfigBool(const char *section, const char *key, bool def)
{
    const char *value = Ns_ConfigGetValue(section, key);
    bool        result = def;
    int         b;

    if (value != NULL) {
        if (Tcl_GetBoolean(NULL, value, &b) == TCL_OK) {
            result = (b != 0);
        } else {
            Ns_Log(Warning, "config: %s/%s: \"%s\" is not a boolean, using %d",
                   section, key, value, def);
        }
    }
    return result;
}

/*
 *----------------------------------------------------------------------
 * Ns_ConfigTime --
 *
 *      Time parameters ("30", "500ms", "2m"...).  Plain integers are
 *      seconds, as in NaviServer.
 *----------------------------------------------------------------------
 */
void
Ns_ConfigTime(const char *section, const char *key, const char *def, Ns_Time *timePtr)
{
    const char *value = Ns_ConfigGetValue(section, key);

    if (value == NULL || Ns_ParseTime(value, timePtr) != NS_OK) {
        if (value != NULL) {
            Ns_Log(Warning, "config: %s/%s: \"%s\" is not a time, using %s",
                   section, key, value, def);
        }
        if (Ns_ParseTime(def, timePtr) != NS_OK) {
            Ns_Fatal("config: bad default time \"%s\" for %s/%s", def, section, key);
        }
    }
}

/*
 *----------------------------------------------------------------------
 * Ns_ConfigGetPath --
 *
 *      Build a section path: ns/server/SERVER/module/MODULE/a/b...,
 *      leaving out the parts that are NULL.  The result lives in the
 *      config's own storage (created empty when absent), so it may be
 *      kept.
 *----------------------------------------------------------------------
 */
const char *
Ns_ConfigGetPath(const char *server, const char *module, ...)
{
    Tcl_DString ds;
    va_list     ap;
    const char *part;
    Ns_Set     *set;

    Tcl_DStringInit(&ds);
    Tcl_DStringAppend(&ds, "ns", 2);
    if (server != NULL) {
        Tcl_DStringAppend(&ds, "/server/", -1);
        Tcl_DStringAppend(&ds, server, -1);
    }
    if (module != NULL) {
        Tcl_DStringAppend(&ds, "/module/", -1);
        Tcl_DStringAppend(&ds, module, -1);
    }
    va_start(ap, module);
    while ((part = va_arg(ap, const char *)) != NULL) {
        Tcl_DStringAppend(&ds, "/", 1);
        Tcl_DStringAppend(&ds, part, -1);
    }
    va_end(ap);
    set = GetSection(Tcl_DStringValue(&ds), true);
    Tcl_DStringFree(&ds);
    return Ns_SetName(set);
}

/*
 *----------------------------------------------------------------------
 * ConfigBoolResult, ConfigIntResult --
 *
 *      ns_config -bool and -int: convert a configured value, or the
 *      default when value is NULL, as NaviServer does.  A value that is
 *      not a boolean falls back to a valid default.
 *
 * Results:
 *      TCL_OK with the normalised value as result, or TCL_ERROR.
 *----------------------------------------------------------------------
 */
static int
ConfigBoolResult(Tcl_Interp *interp, const char *value, Tcl_Obj *defObj)
{
    int b = 0, result = TCL_ERROR;

    if (value != NULL && Tcl_GetBoolean(interp, value, &b) == TCL_OK) {
        result = TCL_OK;
    } else if (defObj != NULL) {
        result = Tcl_GetBooleanFromObj(interp, defObj, &b);
    }
    if (result == TCL_OK) {
        Tcl_SetObjResult(interp, Tcl_NewBooleanObj(b));
    }
    return result;
}

static int
ConfigIntResult(Tcl_Interp *interp, const char *value, Tcl_Obj *defObj, Tcl_WideInt minValue,
                Tcl_WideInt maxValue)
{
    Tcl_Obj    *valueObj = (value != NULL) ? Tcl_NewStringObj(value, -1) : defObj;
    Tcl_WideInt w;
    int         result;

    Tcl_IncrRefCount(valueObj);
    result = Tcl_GetWideIntFromObj(interp, valueObj, &w);
    if (result == TCL_OK && (w < minValue || w > maxValue)) {
        Ns_TclPrintfResult(interp, "value '%s' out of range", Tcl_GetString(valueObj));
        result = TCL_ERROR;
    } else if (result == TCL_OK) {
        Tcl_SetObjResult(interp, Tcl_NewWideIntObj(w));
    }
    Tcl_DecrRefCount(valueObj);
    return result;
}

/*
 *----------------------------------------------------------------------
 * NsTclConfigObjCmd --
 *
 *      ns_config ?-all? ?-bool? ?-int? ?-min /integer/? ?-max /integer/?
 *                ?-exact? ?-set? ?--? /section/ /key/ ?/default/?
 *
 *      With NaviServer 5's semantics: keys match without regard to case
 *      unless -exact; -all returns every value of a repeated key as a
 *      list; -min/-max imply -int; -bool and -int refuse a repeated key.
 *      A missing parameter gives the default as it was given, or "" (also
 *      with -bool and -int).  -set records the default for later queries,
 *      but only while the server starts (the config file, the module
 *      libraries): afterwards the sections are read without a lock.
 *
 * Results:
 *      The value, the default, or "".
 *----------------------------------------------------------------------
 */
int
NsTclConfigObjCmd(ClientData clientData, Tcl_Interp *interp, int objc, Tcl_Obj *const objv[])
{
    const NsInterp *itPtr = clientData;
    int             all = 0, isBool = 0, isInt = 0, exact = 0, doSet = 0;
    Tcl_WideInt     minValue = INT64_MIN, maxValue = INT64_MAX;
    char           *section = NULL, *key = NULL;
    Tcl_Obj        *defObj = NULL;
    Ns_ObjvSpec     opts[] = {
        {"-all",   Ns_ObjvBool,    &all,      INT2PTR(1)},
        {"-bool",  Ns_ObjvBool,    &isBool,   INT2PTR(1)},
        {"-int",   Ns_ObjvBool,    &isInt,    INT2PTR(1)},
        {"-min",   Ns_ObjvWideInt, &minValue, NULL},
        {"-max",   Ns_ObjvWideInt, &maxValue, NULL},
        {"-exact", Ns_ObjvBool,    &exact,    INT2PTR(1)},
        {"-set",   Ns_ObjvBool,    &doSet,    INT2PTR(1)},
        {"--",     Ns_ObjvBreak,   NULL,      NULL},
        {NULL, NULL, NULL, NULL}
    };
    Ns_ObjvSpec     args[] = {
        {"section",  Ns_ObjvString, &section, NULL},
        {"key",      Ns_ObjvString, &key,     NULL},
        {"?default", Ns_ObjvObj,    &defObj,  NULL},
        {NULL, NULL, NULL, NULL}
    };
    int result = TCL_OK;

    if (Ns_ParseObjv(opts, args, interp, 1, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        const Ns_Set *set = Ns_ConfigGetSection(section);
        Tcl_Obj      *valuesObj = Tcl_NewListObj(0, NULL);
        const char   *first = NULL;
        int           count = 0;

        Tcl_IncrRefCount(valuesObj);
        if (minValue != INT64_MIN || maxValue != INT64_MAX) {
            isInt = 1;
        }
        for (size_t i = 0; set != NULL && i < Ns_SetSize(set); i++) {
            const char *name = Ns_SetKey(set, i);

            if ((exact ? strcmp(name, key) : strcasecmp(name, key)) == 0) {
                if (first == NULL) {
                    first = Ns_SetValue(set, i);
                }
                Tcl_ListObjAppendElement(NULL, valuesObj,
                                         Tcl_NewStringObj(Ns_SetValue(set, i), -1));
                count++;
            }
        }
        if (count > 1 && (isBool || isInt)) {
            Ns_TclPrintfResult(interp, "ns_config: %s flag implies a single value, but got %d"
                               " values", isBool ? "-bool" : "-int", count);
            result = TCL_ERROR;
        } else if (count > 0 && isBool) {
            result = ConfigBoolResult(interp, first, defObj);
        } else if (count > 0 && isInt) {
            result = ConfigIntResult(interp, first, defObj, minValue, maxValue);
        } else if (count > 0) {
            Tcl_SetObjResult(interp, all ? valuesObj : Tcl_NewStringObj(first, -1));
        } else if (defObj != NULL) {
            if (isBool) {
                result = ConfigBoolResult(interp, NULL, defObj);
            } else if (isInt) {
                result = ConfigIntResult(interp, NULL, defObj, minValue, maxValue);
            }
            if (result == TCL_OK) {
                if (doSet && (itPtr == NULL || itPtr->initInterp)) {
                    NsConfigSetDefault(section, key, Tcl_GetString(defObj));
                }
                Tcl_SetObjResult(interp, defObj);
            }
        }
        Tcl_DecrRefCount(valuesObj);
    }
    return result;
}

/*
 *----------------------------------------------------------------------
 * NsTclConfigSectionObjCmd --
 *
 *      ns_configsection ?-filter unread|defaults|defaulted? /section/
 *
 * Results:
 *      A new dynamic ns_set holding a copy of the section, or the empty
 *      string when there is no such section (as NaviServer).
 *----------------------------------------------------------------------
 */
int
NsTclConfigSectionObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                         Tcl_Obj *const objv[])
{
    char        *section = NULL;
    Ns_ObjvSpec  args[] = {
        {"section", Ns_ObjvString, &section, NULL},
        {NULL, NULL, NULL, NULL}
    };
    int result = TCL_OK;

    if (Ns_ParseObjv(NULL, args, interp, 1, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        const Ns_Set *set = Ns_ConfigGetSection(section);

        if (set != NULL) {
            result = Ns_TclEnterSet(interp, Ns_SetCopy(set), NS_TCL_SET_DYNAMIC);
        }
    }
    return result;
}

/*
 *----------------------------------------------------------------------
 * NsTclConfigSectionsObjCmd --
 *
 *      ns_configsections: a list of new dynamic ns_sets, one per section.
 *----------------------------------------------------------------------
 */
int
NsTclConfigSectionsObjCmd(ClientData UNUSED(clientData), Tcl_Interp *interp, int objc,
                          Tcl_Obj *const objv[])
{
    int result = TCL_OK;

    if (Ns_ParseObjv(NULL, NULL, interp, 1, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        Tcl_Obj       *listObj = Tcl_NewListObj(0, NULL);
        Tcl_HashSearch search;

        for (Tcl_HashEntry *hPtr = Tcl_FirstHashEntry(&sections, &search); hPtr != NULL;
             hPtr = Tcl_NextHashEntry(&search)) {
            const Ns_Set *set = Tcl_GetHashValue(hPtr);

            if (Ns_TclEnterSet(interp, Ns_SetCopy(set), NS_TCL_SET_DYNAMIC) != TCL_OK) {
                result = TCL_ERROR;
                break;
            }
            Tcl_ListObjAppendElement(interp, listObj, Tcl_GetObjResult(interp));
        }
        if (result == TCL_OK) {
            Tcl_SetObjResult(interp, listObj);
        } else {
            Tcl_DecrRefCount(listObj);
        }
    }
    return result;
}
