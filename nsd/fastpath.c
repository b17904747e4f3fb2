/*
 * fastpath.c --
 *
 *      The fast path: requests no registered proc took are served from the
 *      server's page directory.  *.tcl files run as Tcl pages when
 *      enabletclpages is on; other files go out with a MIME type from their
 *      extension; directories serve index.tcl or index.html.  The URL has
 *      already been normalised (conn.c), so it cannot leave the directory;
 *      symbolic links are followed only when they stay inside it.
 */

#include "nsd.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/mman.h>
#include <unistd.h>

static const struct {
    const char *ext;
    const char *type;
} mimeTypes[] = {
    {".html", "text/html; charset=utf-8"}, {".htm", "text/html; charset=utf-8"},
    {".txt", "text/plain; charset=utf-8"}, {".css", "text/css"},
    {".js", "text/javascript"}, {".mjs", "text/javascript"}, {".json", "application/json"},
    {".xml", "text/xml"}, {".svg", "image/svg+xml"}, {".png", "image/png"},
    {".jpg", "image/jpeg"}, {".jpeg", "image/jpeg"}, {".gif", "image/gif"},
    {".ico", "image/x-icon"}, {".webp", "image/webp"}, {".pdf", "application/pdf"},
    {".wasm", "application/wasm"}, {".woff", "font/woff"}, {".woff2", "font/woff2"},
    {".csv", "text/csv"}, {".md", "text/markdown"}, {".log", "text/plain; charset=utf-8"},
    {".tcl", "text/plain; charset=utf-8"}
};

/*
 *----------------------------------------------------------------------
 * NsMimeType --
 *
 * Results:
 *      The MIME type for a file name, from its extension (any case);
 *      application/octet-stream when unknown.
 *----------------------------------------------------------------------
 */
const char *
NsMimeType(const char *path)
{
    const char *dot = strrchr(path, '.');

    if (dot != NULL && strchr(dot, '/') == NULL) {
        for (size_t i = 0; i < sizeof(mimeTypes) / sizeof(mimeTypes[0]); i++) {
            if (strcasecmp(dot, mimeTypes[i].ext) == 0) {
                return mimeTypes[i].type;
            }
        }
    }
    return "application/octet-stream";
}

/*
 *----------------------------------------------------------------------
 * NsConnReturnFile --
 *
 *      Send a file as the response body, mapped rather than copied.
 *
 * Results:
 *      NS_OK, or NS_ERROR when the file cannot be read (a 404 or 500 has
 *      then been sent).
 *----------------------------------------------------------------------
 */
Ns_ReturnCode
NsConnReturnFile(Conn *connPtr, int status, const char *mimeType, const char *path)
{
    struct stat   st;
    int           fd = open(path, O_RDONLY | O_CLOEXEC);
    Ns_ReturnCode result;

    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0) {
            close(fd);
        }
        return NsConnReturnNotice(connPtr, 404, "Not Found",
                                  "The requested URL was not found on this server.");
    }
    if (mimeType == NULL) {
        mimeType = NsMimeType(path);
    }
    if (st.st_size == 0) {
        result = Ns_ConnReturnData(connPtr, status, "", 0, mimeType);
    } else {
        void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);

        if (map == MAP_FAILED) {
            Ns_Log(Error, "fastpath: mmap %s: %s", path, strerror(errno));
            result = NsConnReturnNotice(connPtr, 500, "Server Error", NULL);
        } else {
            result = Ns_ConnReturnData(connPtr, status, map, (ssize_t)st.st_size, mimeType);
            munmap(map, (size_t)st.st_size);
        }
    }
    close(fd);
    return result;
}

/*
 *----------------------------------------------------------------------
 * RealPathInside --
 *
 *      Is the real path of a file inside the real page directory?  Both
 *      are resolved now, so a page directory that was moved or re-pointed
 *      since start-up is judged as it is.
 *----------------------------------------------------------------------
 */
static bool
RealPathInside(const char *pagedir, const char *path)
{
    char  *realDir = realpath(pagedir, NULL);
    char  *realFile = realpath(path, NULL);
    bool   inside = false;

    if (realDir != NULL && realFile != NULL) {
        size_t len = strlen(realDir);

        inside = (strncmp(realFile, realDir, len) == 0
                  && (realFile[len] == '/' || realFile[len] == '\0'));
    }
    free(realDir);
    free(realFile);
    return inside;
}

/*
 *----------------------------------------------------------------------
 * InsidePageDir --
 *
 *      Does a file below the page directory stay inside it?  path is
 *      pagedir followed by a clean URL, which has no "." or ".." segment,
 *      so only a symbolic link in the tree could lead out.  lastIsPlain
 *      says the caller's lstat found the file itself to be no link.
 *
 * Results:
 *      true when the file is inside.
 *
 * Side effects:
 *      One lstat per component below the page directory (but the file
 *      itself when lastIsPlain).  Only when one of them is a link (or not
 *      what a clean URL gives) are both real paths resolved, so links that
 *      stay inside are still followed, and the readlink calls of realpath
 *      are not paid on every request.
 *----------------------------------------------------------------------
 */
static bool
InsidePageDir(const char *pagedir, const char *path, bool lastIsPlain)
{
    size_t      dirLen = strlen(pagedir);
    bool        linkFree = true;
    Tcl_DString ds;
    char       *p;

    Tcl_DStringInit(&ds);
    Tcl_DStringAppend(&ds, path, -1);
    p = Tcl_DStringValue(&ds) + dirLen;
    while (linkFree && *p != '\0') {
        const char *segment;
        size_t      segmentLen;
        char        saved;
        struct stat st;

        while (*p == '/') {
            p++;
        }
        if (*p == '\0') {
            break;
        }
        segment = p;
        while (*p != '\0' && *p != '/') {
            p++;
        }
        segmentLen = (size_t)(p - segment);
        if ((segmentLen == 1 && segment[0] == '.')
            || (segmentLen == 2 && segment[0] == '.' && segment[1] == '.')) {
            /* conn.c never lets these through; do not rely on it here. */
            linkFree = false;
        } else if (*p == '\0' && lastIsPlain) {
            /* The caller looked at the file already. */
        } else {
            /* Look at the path up to this component only. */
            saved = *p;
            *p = '\0';
            linkFree = (lstat(Tcl_DStringValue(&ds), &st) == 0 && !S_ISLNK(st.st_mode));
            *p = saved;
        }
    }
    Tcl_DStringFree(&ds);
    return linkFree || RealPathInside(pagedir, path);
}

/*
 *----------------------------------------------------------------------
 * RunTclPage --
 *
 *      Run a .tcl page, which stPtr describes, in the connection's interp
 *      (compiled once per interp, tclpage.c).  An error is logged with its
 *      stack and answered with 500 when nothing was sent yet.
 *----------------------------------------------------------------------
 */
static Ns_ReturnCode
RunTclPage(Conn *connPtr, const char *path, const struct stat *stPtr)
{
    Ns_ReturnCode result = NS_OK;

    if (NsTclRunPage(connPtr->interp, path, stPtr) != TCL_OK) {
        Ns_TclLogErrorInfo(connPtr->interp, connPtr->url);
        result = NS_ERROR;
    }
    return result;
}

/*
 *----------------------------------------------------------------------
 * NsFastpathServe --
 *
 *      Serve the connection's URL from the page directory.
 *
 * Results:
 *      NS_OK when a response was sent (including 404), NS_ERROR when a
 *      page failed before sending anything (the caller answers 500).
 *----------------------------------------------------------------------
 */
Ns_ReturnCode
NsFastpathServe(Conn *connPtr)
{
    const NsServer *servPtr = connPtr->servPtr;
    const char     *method = connPtr->method;
    bool            isGet = (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0);
    Tcl_DString     path;
    struct stat     st;
    bool            found, lastIsPlain;
    Ns_ReturnCode   result;

    if (servPtr->pagedir == NULL || strcmp(connPtr->url, "*") == 0) {
        return NsConnReturnNotice(connPtr, 404, "Not Found",
                                  "The requested URL was not found on this server.");
    }
    Tcl_DStringInit(&path);
    Tcl_DStringAppend(&path, servPtr->pagedir, -1);
    Tcl_DStringAppend(&path, connPtr->url, -1);

    /*
     * lstat first: a file that is no link, as most are, need not be looked
     * at again by InsidePageDir.
     */
    found = (lstat(Tcl_DStringValue(&path), &st) == 0);
    lastIsPlain = (found && !S_ISLNK(st.st_mode));
    if (found && !lastIsPlain) {
        found = (stat(Tcl_DStringValue(&path), &st) == 0);
    }
    if (found && S_ISDIR(st.st_mode)) {
        size_t urlLen = strlen(connPtr->url);

        if (connPtr->url[urlLen - 1] != '/') {
            /* Relative links in the index need the trailing slash. */
            Tcl_DString url;

            Tcl_DStringInit(&url);
            Tcl_DStringAppend(&url, connPtr->url, -1);
            Tcl_DStringAppend(&url, "/", 1);
            result = NsConnReturnRedirect(connPtr, Tcl_DStringValue(&url));
            Tcl_DStringFree(&url);
            Tcl_DStringFree(&path);
            return result;
        }
        if (servPtr->enabletclpages) {
            Tcl_DStringAppend(&path, "index.tcl", -1);
            if (access(Tcl_DStringValue(&path), R_OK) != 0) {
                Tcl_DStringSetLength(&path, Tcl_DStringLength(&path) - 9);
            }
        }
        if (Tcl_DStringValue(&path)[Tcl_DStringLength(&path) - 1] == '/') {
            Tcl_DStringAppend(&path, "index.html", -1);
        }
        found = (stat(Tcl_DStringValue(&path), &st) == 0);
        lastIsPlain = false;
    }

    if (!found || !S_ISREG(st.st_mode)
        || !InsidePageDir(servPtr->pagedir, Tcl_DStringValue(&path), lastIsPlain)) {
        result = NsConnReturnNotice(connPtr, 404, "Not Found",
                                    "The requested URL was not found on this server.");
    } else {
        const char *file = Tcl_DStringValue(&path);
        size_t      len = (size_t)Tcl_DStringLength(&path);
        bool        isPage = (len > 4 && strcmp(file + len - 4, ".tcl") == 0);

        if (isPage && servPtr->enabletclpages) {
            result = RunTclPage(connPtr, file, &st);
        } else if (isPage) {
            /* Never show the source of a page by accident. */
            result = NsConnReturnNotice(connPtr, 404, "Not Found",
                                        "The requested URL was not found on this server.");
        } else if (!isGet) {
            Ns_SetUpdate(connPtr->outputheaders, "Allow", "GET, HEAD");
            result = NsConnReturnNotice(connPtr, 405, "Method Not Allowed", NULL);
        } else {
            result = NsConnReturnFile(connPtr, 200, NULL, file);
        }
    }
    Tcl_DStringFree(&path);
    return result;
}
