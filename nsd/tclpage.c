/*
 * tclpage.c --
 *
 *      Running Tcl pages.  A page runs as [source] would run it: at the
 *      level of the caller, with [info script] naming the file, a [return]
 *      at its top ending it, and an error trace that ends with the file and
 *      line.  But the file is not read and parsed on every request: each
 *      interp keeps the text of the pages it ran as a Tcl_Obj, keyed by
 *      path, so the bytecode Tcl compiles into that object the first time
 *      is run again the next times.  A page is read again when its file
 *      changed: another device, inode, size, mtime or ctime than when it was
 *      read, which the caller's stat of the request tells.
 *
 *      The cache is assoc data of the interp, so it belongs to one thread
 *      (Tcl_Objs never cross threads) and goes with the interp.  It holds
 *      only pages that ran, that is files inside the page directory.
 */

#include "nsd.h"

#include <sys/stat.h>

/*
 * One page an interp ran.
 */
typedef struct Page {
    Tcl_Obj        *scriptObj;  /* the file's text, and its bytecode once run; NULL
                                 * when the last read failed */
    Tcl_Obj        *pathObj;    /* the path, for [info script] and the error trace */
    dev_t           dev;        /* the file as it was when read: */
    ino_t           ino;
    off_t           size;
    struct timespec mtime;
    struct timespec ctime;
} Page;

/*
 * The pages of one interp.
 */
typedef struct PageCache {
    Tcl_HashTable pages;          /* path -> Page */
    Tcl_Obj      *infoScriptObj;  /* "::tcl::info::script", its command looked up once */
} PageCache;

static const char pageCacheKey[] = "nsd:pages";

/*
 *----------------------------------------------------------------------
 * FreePageCache --
 *
 *      Assoc data destructor: release the pages of a deleted interp.
 *----------------------------------------------------------------------
 */
static void
FreePageCache(ClientData clientData, Tcl_Interp *UNUSED(interp))
{
    PageCache      *cachePtr = clientData;
    Tcl_HashSearch  search;

    for (Tcl_HashEntry *hPtr = Tcl_FirstHashEntry(&cachePtr->pages, &search); hPtr != NULL;
         hPtr = Tcl_NextHashEntry(&search)) {
        Page *pagePtr = Tcl_GetHashValue(hPtr);

        if (pagePtr->scriptObj != NULL) {
            Tcl_DecrRefCount(pagePtr->scriptObj);
        }
        Tcl_DecrRefCount(pagePtr->pathObj);
        ckfree(pagePtr);
    }
    Tcl_DeleteHashTable(&cachePtr->pages);
    Tcl_DecrRefCount(cachePtr->infoScriptObj);
    ckfree(cachePtr);
}

/*
 *----------------------------------------------------------------------
 * GetPageCache --
 *
 * Results:
 *      The interp's page cache, created on first use.
 *----------------------------------------------------------------------
 */
static PageCache *
GetPageCache(Tcl_Interp *interp)
{
    PageCache *cachePtr = Tcl_GetAssocData(interp, pageCacheKey, NULL);

    if (cachePtr == NULL) {
        cachePtr = ckalloc(sizeof(PageCache));
        Tcl_InitHashTable(&cachePtr->pages, TCL_STRING_KEYS);
        cachePtr->infoScriptObj = Tcl_NewStringObj("::tcl::info::script", -1);
        Tcl_IncrRefCount(cachePtr->infoScriptObj);
        Tcl_SetAssocData(interp, pageCacheKey, FreePageCache, cachePtr);
    }
    return cachePtr;
}

/*
 *----------------------------------------------------------------------
 * SameTime --
 *
 * Results:
 *      Are two file times equal, to the nanosecond?
 *----------------------------------------------------------------------
 */
static bool
SameTime(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

/*
 *----------------------------------------------------------------------
 * PageIsCurrent --
 *
 * Results:
 *      Is the kept text of a page still that of the file stPtr describes?
 *      ctime is compared too: a file rewritten with its old size and mtime
 *      put back still gets a new ctime.
 *----------------------------------------------------------------------
 */
static bool
PageIsCurrent(const Page *pagePtr, const struct stat *stPtr)
{
    return pagePtr->scriptObj != NULL
        && pagePtr->dev == stPtr->st_dev
        && pagePtr->ino == stPtr->st_ino
        && pagePtr->size == stPtr->st_size
        && SameTime(&pagePtr->mtime, &stPtr->st_mtim)
        && SameTime(&pagePtr->ctime, &stPtr->st_ctim);
}

/*
 *----------------------------------------------------------------------
 * ReadPage --
 *
 *      Read a page's file as [source] reads it: in the system encoding,
 *      up to a ^Z, without a leading byte order mark.
 *
 * Results:
 *      The text, with a reference for the caller, or NULL with a message
 *      in interp.
 *----------------------------------------------------------------------
 */
static Tcl_Obj *
ReadPage(Tcl_Interp *interp, Tcl_Obj *pathObj)
{
    Tcl_Channel chan = Tcl_FSOpenFileChannel(interp, pathObj, "r", 0644);
    Tcl_Obj    *textObj = NULL;

    if (chan == NULL) {
        Tcl_SetObjResult(interp, Tcl_ObjPrintf("couldn't read file \"%s\": %s",
                                               Tcl_GetString(pathObj), Tcl_PosixError(interp)));
        return NULL;
    }
    /* \x1a ends a script, as it does for [source]. */
    (void)Tcl_SetChannelOption(NULL, chan, "-eofchar", "\x1a {}");
    textObj = Tcl_NewObj();
    Tcl_IncrRefCount(textObj);
    if (Tcl_ReadChars(chan, textObj, -1, 0) < 0) {
        Tcl_SetObjResult(interp, Tcl_ObjPrintf("couldn't read file \"%s\": %s",
                                               Tcl_GetString(pathObj), Tcl_PosixError(interp)));
        Tcl_DecrRefCount(textObj);
        textObj = NULL;
    }
    if (Tcl_Close(interp, chan) != TCL_OK && textObj != NULL) {
        Tcl_DecrRefCount(textObj);
        textObj = NULL;
    }
    if (textObj != NULL) {
        int         length;
        const char *text = Tcl_GetStringFromObj(textObj, &length);

        if (length >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
            /* U+FEFF, a byte order mark decoded: an editor's, not the script's. */
            Tcl_Obj *strippedObj = Tcl_NewStringObj(text + 3, length - 3);

            Tcl_DecrRefCount(textObj);
            textObj = strippedObj;
            Tcl_IncrRefCount(textObj);
        }
    }
    return textObj;
}

/*
 *----------------------------------------------------------------------
 * SwapInfoScript --
 *
 *      Make [info script] return pathObj, through the command itself since
 *      the C API has no call for it.
 *
 * Results:
 *      What [info script] returned before, with a reference for the caller.
 *
 * Side effects:
 *      Resets the interp result.
 *----------------------------------------------------------------------
 */
static Tcl_Obj *
SwapInfoScript(Tcl_Interp *interp, const PageCache *cachePtr, Tcl_Obj *pathObj)
{
    Tcl_Obj *objv[2];
    Tcl_Obj *oldObj;

    objv[0] = cachePtr->infoScriptObj;
    objv[1] = pathObj;
    (void)Tcl_EvalObjv(interp, 1, objv, 0);
    oldObj = Tcl_GetObjResult(interp);
    Tcl_IncrRefCount(oldObj);
    (void)Tcl_EvalObjv(interp, 2, objv, 0);
    Tcl_ResetResult(interp);
    return oldObj;
}

/*
 *----------------------------------------------------------------------
 * EndReturn --
 *
 *      A [return] reached the top of the page: take one level off it, as
 *      the end of a sourced file does, so that a plain [return] ends the
 *      page normally and "return -code error" makes it fail.
 *
 * Results:
 *      The code the page ends with.
 *----------------------------------------------------------------------
 */
static int
EndReturn(Tcl_Interp *interp)
{
    Tcl_Obj *optionsObj = Tcl_GetReturnOptions(interp, TCL_RETURN);
    Tcl_Obj *levelKeyObj = Tcl_NewStringObj("-level", -1);
    Tcl_Obj *levelObj = NULL;
    int      level = 1;

    Tcl_IncrRefCount(optionsObj);
    Tcl_IncrRefCount(levelKeyObj);
    if (Tcl_DictObjGet(NULL, optionsObj, levelKeyObj, &levelObj) == TCL_OK
        && levelObj != NULL) {
        (void)Tcl_GetIntFromObj(NULL, levelObj, &level);
    }
    (void)Tcl_DictObjPut(NULL, optionsObj, levelKeyObj, Tcl_NewIntObj(level - 1));
    Tcl_DecrRefCount(levelKeyObj);
    level = Tcl_SetReturnOptions(interp, optionsObj);
    Tcl_DecrRefCount(optionsObj);
    return level;
}

/*
 *----------------------------------------------------------------------
 * EvalPage --
 *
 *      Run a page's kept script in the current frame of interp.
 *
 * Results:
 *      A Tcl result code; on TCL_ERROR the error trace ends with the file
 *      and line, as with [source].
 *----------------------------------------------------------------------
 */
static int
EvalPage(Tcl_Interp *interp, const PageCache *cachePtr, const Page *pagePtr)
{
    Tcl_Obj        *scriptObj = pagePtr->scriptObj;
    Tcl_Obj        *pathObj = pagePtr->pathObj;
    Tcl_Obj        *oldScriptObj;
    Tcl_InterpState state;
    int             result;

    /* Held: nothing the page does may free what is running. */
    Tcl_IncrRefCount(scriptObj);
    Tcl_IncrRefCount(pathObj);
    oldScriptObj = SwapInfoScript(interp, cachePtr, pathObj);

    result = Tcl_EvalObjEx(interp, scriptObj, 0);
    if (result == TCL_RETURN) {
        result = EndReturn(interp);
    } else if (result == TCL_ERROR) {
        int         length;
        const char *path = Tcl_GetStringFromObj(pathObj, &length);

        /* The words and the 150-byte cut of [source], which logs are searched for. */
        Tcl_AppendObjToErrorInfo(interp, Tcl_ObjPrintf("\n    (file \"%.*s%s\" line %d)",
                                                       length > 150 ? 150 : length, path,
                                                       length > 150 ? "..." : "",
                                                       Tcl_GetErrorLine(interp)));
    }

    /* Put [info script] back without losing the page's result. */
    state = Tcl_SaveInterpState(interp, result);
    Tcl_DecrRefCount(SwapInfoScript(interp, cachePtr, oldScriptObj));
    result = Tcl_RestoreInterpState(interp, state);

    Tcl_DecrRefCount(oldScriptObj);
    Tcl_DecrRefCount(pathObj);
    Tcl_DecrRefCount(scriptObj);
    return result;
}

/*
 *----------------------------------------------------------------------
 * NsTclRunPage --
 *
 *      Run the Tcl page at path, which stPtr describes (stat, following
 *      links), in the current frame of interp: from the interp's cache
 *      when the file has not changed since it was read, else read again.
 *
 * Results:
 *      A Tcl result code; the error, with its trace, is in interp.
 *
 * Side effects:
 *      Whatever the page does.  The page's text stays in the interp's
 *      cache until the file changes or the interp is deleted.
 *----------------------------------------------------------------------
 */
int
NsTclRunPage(Tcl_Interp *interp, const char *path, const struct stat *stPtr)
{
    PageCache     *cachePtr = GetPageCache(interp);
    Tcl_HashEntry *hPtr;
    Page          *pagePtr;
    int            isNew;
    int            result = TCL_OK;

    hPtr = Tcl_CreateHashEntry(&cachePtr->pages, path, &isNew);
    if (isNew) {
        pagePtr = ckalloc(sizeof(Page));
        memset(pagePtr, 0, sizeof(Page));
        pagePtr->pathObj = Tcl_NewStringObj(path, -1);
        Tcl_IncrRefCount(pagePtr->pathObj);
        Tcl_SetHashValue(hPtr, pagePtr);
    } else {
        pagePtr = Tcl_GetHashValue(hPtr);
    }

    if (!PageIsCurrent(pagePtr, stPtr)) {
        Tcl_Obj *scriptObj;

        if (pagePtr->scriptObj != NULL) {
            Tcl_DecrRefCount(pagePtr->scriptObj);
            pagePtr->scriptObj = NULL;
        }
        scriptObj = ReadPage(interp, pagePtr->pathObj);
        if (scriptObj == NULL) {
            result = TCL_ERROR;
        } else {
            pagePtr->scriptObj = scriptObj;
            pagePtr->dev = stPtr->st_dev;
            pagePtr->ino = stPtr->st_ino;
            pagePtr->size = stPtr->st_size;
            pagePtr->mtime = stPtr->st_mtim;
            pagePtr->ctime = stPtr->st_ctim;
        }
    }
    if (result == TCL_OK) {
        result = EvalPage(interp, cachePtr, pagePtr);
    }
    return result;
}
