/*
 * tclurl.c --
 *
 *      The Tcl commands for URLs: ns_urlencode, ns_urldecode and
 *      ns_parseurl, with NaviServer's syntax and results.  The percent
 *      coding itself is done by the helpers of request.c, so the server
 *      and Tcl pages agree on it; this file deals with arguments,
 *      charsets and the Tcl results.
 */

#include "nsd.h"
#include "request.h"

#include <strings.h>

/* Values of the -part option. */
enum {
    URL_PART_QUERY,
    URL_PART_PATH
};

static Ns_ObjvTable urlParts[] = {
    {"query", URL_PART_QUERY},
    {"path",  URL_PART_PATH},
    {NULL,    0}
};

/* Charsets the commands understand (NsCharset returns one of these or -1). */
enum {
    URL_CHARSET_UTF8,
    URL_CHARSET_LATIN1
};

/*
 * A piece of the URL given to ns_parseurl.  Pieces that are absent are not
 * put into the result; present pieces may be empty.
 */
typedef struct UrlPart {
    const char *start;
    size_t      length;
    bool        present;
} UrlPart;

typedef struct ParsedUrl {
    UrlPart proto;
    UrlPart userinfo;
    UrlPart host;
    UrlPart port;
    UrlPart path;
    UrlPart tail;
    UrlPart query;
    UrlPart fragment;
} ParsedUrl;

static int CharsetFromName(const char *name, int defaultCharset);
static void UnknownCharset(Tcl_Interp *interp, const char *name);
static bool BytesToString(Tcl_DString *bytesPtr, int charset, Tcl_Encoding utf8,
                          Tcl_DString *dsPtr);
static bool IsValidUtf8(const unsigned char *bytes, size_t length);
static void Latin1ToUtf(const unsigned char *bytes, size_t length, Tcl_DString *dsPtr);
static const char *ParseUrl(const char *url, size_t length, bool strict, ParsedUrl *urlPtr);
static const char *ParseAuthority(const char *p, const char *end, bool strict,
                                  ParsedUrl *urlPtr);
static void ParsePathAndRest(const char *p, const char *end, ParsedUrl *urlPtr);
static void SetPart(UrlPart *partPtr, const char *start, const char *end);
static const char *FindChar(const char *p, const char *end, const char *chars);
static bool ValidHost(const UrlPart *hostPtr, bool isLiteral, bool strict);
static bool AllCharsIn(const UrlPart *partPtr, const char *extra);
static bool IsAlpha(unsigned char c);
static bool IsDigit(unsigned char c);
static bool IsUnreservedOrSubDelim(unsigned char c);
static void PutPart(Tcl_Obj *dictObj, const char *key, const UrlPart *partPtr);


/*
 *----------------------------------------------------------------------
 *
 * NsTclUrlEncodeObjCmd --
 *
 *      Implements "ns_urlencode ?-charset /value/? ?-part query|path?
 *      ?--? /component .../".  Encodes the UTF-8 bytes of each component
 *      and joins them with "&" (query, the default) or "/" (path), as
 *      NaviServer does.
 *
 * Results:
 *      A standard Tcl result.
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

int
NsTclUrlEncodeObjCmd(ClientData clientData, Tcl_Interp *interp, int objc,
                     Tcl_Obj *const objv[])
{
    int          result = TCL_OK, part = URL_PART_QUERY, nargs = -1;
    char        *charset = NULL;
    Ns_ObjvSpec  opts[] = {
        {"-charset", Ns_ObjvString, &charset, NULL},
        {"-part",    Ns_ObjvIndex,  &part,    urlParts},
        {"--",       Ns_ObjvBreak,  NULL,     NULL},
        {NULL, NULL, NULL, NULL}
    };
    Ns_ObjvSpec  args[] = {
        {"component", Ns_ObjvArgs, &nargs, NULL},
        {NULL, NULL, NULL, NULL}
    };

    (void)clientData;

    if (Ns_ParseObjv(opts, args, interp, 1, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else if (nargs < 1) {
        Ns_WrongNumArgs(interp, opts, args, 1, objv);
        result = TCL_ERROR;
    } else if (CharsetFromName(charset, URL_CHARSET_UTF8) != URL_CHARSET_UTF8) {
        /*
         * Only UTF-8: encoding into a narrower charset would need a policy
         * for characters it cannot represent, and no caller needs one.
         */
        UnknownCharset(interp, charset);
        result = TCL_ERROR;
    } else {
        Tcl_Encoding utf8 = Tcl_GetEncoding(NULL, "utf-8");
        Tcl_DString  ds, bytesDs;
        int          i;

        Tcl_DStringInit(&ds);
        for (i = objc - nargs; i < objc; i++) {
            int         length;
            const char *string = Tcl_GetStringFromObj(objv[i], &length);

            if (i > objc - nargs) {
                Tcl_DStringAppend(&ds, part == URL_PART_QUERY ? "&" : "/", 1);
            }
            Tcl_UtfToExternalDString(utf8, string, length, &bytesDs);
            NsUrlEncode(Tcl_DStringValue(&bytesDs), (size_t)Tcl_DStringLength(&bytesDs),
                        part == URL_PART_QUERY, &ds);
            Tcl_DStringFree(&bytesDs);
        }
        Tcl_FreeEncoding(utf8);
        Tcl_DStringResult(interp, &ds);
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * NsTclUrlDecodeObjCmd --
 *
 *      Implements "ns_urldecode ?-charset /value/? ?-fallbackcharset
 *      /value/? ?-part query|path? ?--? /string/".  The decoded bytes
 *      are read in -charset (default utf-8); when they are not valid in
 *      it, in -fallbackcharset (default iso8859-1, which always fits).
 *
 * Results:
 *      A standard Tcl result: the decoded string, or an error with
 *      -errorcode {NS INVALID URL} for a malformed escape or bytes that
 *      fit neither charset.
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

int
NsTclUrlDecodeObjCmd(ClientData clientData, Tcl_Interp *interp, int objc,
                     Tcl_Obj *const objv[])
{
    int          result = TCL_OK, part = URL_PART_QUERY, charset, fallback;
    char        *charsetName = NULL, *fallbackName = NULL;
    Tcl_Obj     *stringObj = NULL;
    Ns_ObjvSpec  opts[] = {
        {"-charset",         Ns_ObjvString, &charsetName,  NULL},
        {"-fallbackcharset", Ns_ObjvString, &fallbackName, NULL},
        {"-part",            Ns_ObjvIndex,  &part,         urlParts},
        {"--",               Ns_ObjvBreak,  NULL,          NULL},
        {NULL, NULL, NULL, NULL}
    };
    Ns_ObjvSpec  args[] = {
        {"string", Ns_ObjvObj, &stringObj, NULL},
        {NULL, NULL, NULL, NULL}
    };

    (void)clientData;

    if (Ns_ParseObjv(opts, args, interp, 1, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else if ((charset = CharsetFromName(charsetName, URL_CHARSET_UTF8)) < 0) {
        UnknownCharset(interp, charsetName);
        result = TCL_ERROR;
    } else if ((fallback = CharsetFromName(fallbackName, URL_CHARSET_LATIN1)) < 0) {
        UnknownCharset(interp, fallbackName);
        result = TCL_ERROR;
    } else {
        Tcl_Encoding utf8 = Tcl_GetEncoding(NULL, "utf-8");
        Tcl_DString  inDs, bytesDs, ds;
        int          length;
        const char  *string = Tcl_GetStringFromObj(stringObj, &length);

        Tcl_DStringInit(&bytesDs);
        Tcl_DStringInit(&ds);
        Tcl_UtfToExternalDString(utf8, string, length, &inDs);
        if (NsUrlDecode(Tcl_DStringValue(&inDs), (size_t)Tcl_DStringLength(&inDs),
                        part == URL_PART_QUERY, &bytesDs)
            && (BytesToString(&bytesDs, charset, utf8, &ds)
                || BytesToString(&bytesDs, fallback, utf8, &ds))) {
            Tcl_DStringResult(interp, &ds);
        } else {
            Tcl_SetObjResult(interp, Tcl_ObjPrintf("cannot decode \"%s\"", string));
            Tcl_SetErrorCode(interp, "NS", "INVALID", "URL", (char *)NULL);
            result = TCL_ERROR;
        }
        Tcl_DStringFree(&ds);
        Tcl_DStringFree(&bytesDs);
        Tcl_DStringFree(&inDs);
        Tcl_FreeEncoding(utf8);
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * NsTclParseUrlObjCmd --
 *
 *      Implements "ns_parseurl ?-strict? /url/": split an absolute URL,
 *      a protocol-relative one ("//host/...") or a relative one into the
 *      parts NaviServer names proto, userinfo, host, port, path, tail,
 *      query and fragment.  With -strict the characters of each part are
 *      checked against RFC 3986 too.
 *
 * Results:
 *      A standard Tcl result: a dict of the parts present, or an error
 *      'cannot parse URL "..."' with -errorcode {NS INVALID URL reason}.
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

int
NsTclParseUrlObjCmd(ClientData clientData, Tcl_Interp *interp, int objc,
                    Tcl_Obj *const objv[])
{
    int          result = TCL_OK, strict = 0;
    Tcl_Obj     *urlObj = NULL;
    Ns_ObjvSpec  opts[] = {
        {"-strict", Ns_ObjvBool, &strict, INT2PTR(1)},
        {NULL, NULL, NULL, NULL}
    };
    Ns_ObjvSpec  args[] = {
        {"url", Ns_ObjvObj, &urlObj, NULL},
        {NULL, NULL, NULL, NULL}
    };

    (void)clientData;

    if (Ns_ParseObjv(opts, args, interp, 1, objc, objv) != NS_OK) {
        result = TCL_ERROR;
    } else {
        ParsedUrl   url;
        int         length;
        const char *string = Tcl_GetStringFromObj(urlObj, &length);
        const char *errorMsg = ParseUrl(string, (size_t)length, strict != 0, &url);

        if (errorMsg != NULL) {
            Tcl_SetObjResult(interp, Tcl_ObjPrintf("cannot parse URL \"%s\"", string));
            Tcl_SetErrorCode(interp, "NS", "INVALID", "URL", errorMsg, (char *)NULL);
            result = TCL_ERROR;
        } else {
            Tcl_Obj *dictObj = Tcl_NewDictObj();

            PutPart(dictObj, "proto", &url.proto);
            PutPart(dictObj, "userinfo", &url.userinfo);
            PutPart(dictObj, "host", &url.host);
            PutPart(dictObj, "port", &url.port);
            PutPart(dictObj, "path", &url.path);
            PutPart(dictObj, "tail", &url.tail);
            PutPart(dictObj, "query", &url.query);
            PutPart(dictObj, "fragment", &url.fragment);
            Tcl_SetObjResult(interp, dictObj);
        }
    }
    return result;
}


/*
 *----------------------------------------------------------------------
 *
 * CharsetFromName, UnknownCharset --
 *
 *      Map the value of a charset option (case-insensitive, with the
 *      usual aliases; NULL when the option was not given) to a charset we
 *      handle; report one we do not.
 *
 * Results:
 *      URL_CHARSET_UTF8, URL_CHARSET_LATIN1, defaultCharset for NULL, or
 *      -1.
 *
 * Side effects:
 *      UnknownCharset sets the interp result and -errorcode
 *      {NS INVALID CHARSET name}.
 *
 *----------------------------------------------------------------------
 */

static int
CharsetFromName(const char *name, int defaultCharset)
{
    static const struct {
        const char *name;
        int         charset;
    } names[] = {
        {"utf-8",      URL_CHARSET_UTF8},
        {"utf8",       URL_CHARSET_UTF8},
        {"iso8859-1",  URL_CHARSET_LATIN1},
        {"iso-8859-1", URL_CHARSET_LATIN1},
        {"latin1",     URL_CHARSET_LATIN1}
    };
    size_t i;

    if (name == NULL) {
        return defaultCharset;
    }
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcasecmp(name, names[i].name) == 0) {
            return names[i].charset;
        }
    }
    return -1;
}

static void
UnknownCharset(Tcl_Interp *interp, const char *name)
{
    Tcl_SetObjResult(interp, Tcl_ObjPrintf("unsupported charset \"%s\"", name));
    Tcl_SetErrorCode(interp, "NS", "INVALID", "CHARSET", name, (char *)NULL);
}


/*
 *----------------------------------------------------------------------
 *
 * BytesToString --
 *
 *      Read decoded bytes as text in the given charset.
 *
 * Results:
 *      False when the bytes are not valid in the charset (only possible
 *      for UTF-8).
 *
 * Side effects:
 *      On success, puts the Tcl string into dsPtr, which must be
 *      initialized and empty (Tcl_ExternalToUtfDString starts it over).
 *
 *----------------------------------------------------------------------
 */

static bool
BytesToString(Tcl_DString *bytesPtr, int charset, Tcl_Encoding utf8, Tcl_DString *dsPtr)
{
    const unsigned char *bytes = (const unsigned char *)Tcl_DStringValue(bytesPtr);
    size_t               length = (size_t)Tcl_DStringLength(bytesPtr);
    bool                 ok = true;

    if (charset == URL_CHARSET_LATIN1) {
        Latin1ToUtf(bytes, length, dsPtr);
    } else if (IsValidUtf8(bytes, length)) {
        Tcl_ExternalToUtfDString(utf8, (const char *)bytes, (int)length, dsPtr);
    } else {
        ok = false;
    }
    return ok;
}


/*
 *----------------------------------------------------------------------
 *
 * IsValidUtf8 --
 *
 *      Check bytes against RFC 3629: no overlong forms, no surrogates,
 *      nothing above U+10FFFF, no truncated sequence.  Tcl's own decoder
 *      is lenient and would turn such bytes into something else quietly.
 *
 * Results:
 *      True when the bytes are well-formed UTF-8.
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

static bool
IsValidUtf8(const unsigned char *bytes, size_t length)
{
    size_t i = 0;

    while (i < length) {
        unsigned char c = bytes[i];
        unsigned char lo = 0x80, hi = 0xbf;  /* range of the second byte */
        size_t        n, k;

        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            if (c == 0xe0) {
                lo = 0xa0;      /* overlong */
            } else if (c == 0xed) {
                hi = 0x9f;      /* surrogates */
            }
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            if (c == 0xf0) {
                lo = 0x90;      /* overlong */
            } else if (c == 0xf4) {
                hi = 0x8f;      /* above U+10FFFF */
            }
        } else {
            return false;
        }
        if (length - i <= n) {
            return false;
        }
        if (bytes[i + 1] < lo || bytes[i + 1] > hi) {
            return false;
        }
        for (k = 2; k <= n; k++) {
            if (bytes[i + k] < 0x80 || bytes[i + k] > 0xbf) {
                return false;
            }
        }
        i += n + 1;
    }
    return true;
}


/*
 *----------------------------------------------------------------------
 *
 * Latin1ToUtf --
 *
 *      Convert ISO 8859-1 bytes to a Tcl string: every byte is the code
 *      point of the same value.  Done here rather than with a Tcl
 *      encoding, which may need encoding files at run time.
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
Latin1ToUtf(const unsigned char *bytes, size_t length, Tcl_DString *dsPtr)
{
    size_t i;

    for (i = 0; i < length; i++) {
        char buf[TCL_UTF_MAX];
        int  n = Tcl_UniCharToUtf(bytes[i], buf);

        Tcl_DStringAppend(dsPtr, buf, n);
    }
}


/*
 *----------------------------------------------------------------------
 *
 * ParseUrl --
 *
 *      Split url[0..length) into its parts.  A scheme is letters, digits,
 *      '+', '-' and '.' starting with a letter and ending at ':'.  Without
 *      one, a ':' before the first '/' means a malformed scheme ("ht tp:",
 *      ":foo") rather than a relative URL, as in NaviServer.  Then comes
 *      an optional authority after "//", then the path (split at its last
 *      '/' into path and tail, NaviServer's legacy), query and fragment.
 *
 * Results:
 *      NULL on success, else a short reason.
 *
 * Side effects:
 *      Fills in *urlPtr with pointers into url.
 *
 *----------------------------------------------------------------------
 */

static const char *
ParseUrl(const char *url, size_t length, bool strict, ParsedUrl *urlPtr)
{
    const char *p = url, *end = url + length, *q;

    memset(urlPtr, 0, sizeof(*urlPtr));

    q = p;
    if (q < end && IsAlpha((unsigned char)*q)) {
        while (q < end && (IsAlpha((unsigned char)*q) || IsDigit((unsigned char)*q)
                           || *q == '+' || *q == '-' || *q == '.')) {
            q++;
        }
    }
    if (q > p && q < end && *q == ':') {
        SetPart(&urlPtr->proto, p, q);
        p = q + 1;
    } else if (q < end && *q != '/' && *q != '?' && *q != '#') {
        const char *slash = FindChar(q, end, "/");

        if (FindChar(q, slash, ":") != slash) {
            return "invalid scheme";
        }
    }

    if (end - p >= 2 && p[0] == '/' && p[1] == '/') {
        p = ParseAuthority(p + 2, end, strict, urlPtr);
        if (p == NULL) {
            return "invalid authority";
        }
        /*
         * With an authority, path and tail are always there, maybe empty:
         * "http://host" is "http://host/".
         */
        SetPart(&urlPtr->path, p, p);
        SetPart(&urlPtr->tail, p, p);
    }
    ParsePathAndRest(p, end, urlPtr);

    if (strict) {
        static const char pathExtra[] = "%:@/";
        static const char queryExtra[] = "%:@/?";

        if (!AllCharsIn(&urlPtr->path, pathExtra) || !AllCharsIn(&urlPtr->tail, pathExtra)) {
            return "path contains invalid character";
        }
        if (!AllCharsIn(&urlPtr->query, queryExtra)) {
            return "query contains invalid character";
        }
        if (!AllCharsIn(&urlPtr->fragment, queryExtra)) {
            return "fragment contains invalid character";
        }
    }
    return NULL;
}


/*
 *----------------------------------------------------------------------
 *
 * ParseAuthority --
 *
 *      Parse "[userinfo@]host[:port]" from p up to the first '/', '?' or
 *      '#'.  The host may be an IP literal in brackets ("[::1]"), given
 *      back without them.  Without -strict only the structure is checked.
 *
 * Results:
 *      Where the authority ends, or NULL when it is malformed.
 *
 * Side effects:
 *      Sets userinfo, host and port of *urlPtr.
 *
 *----------------------------------------------------------------------
 */

static const char *
ParseAuthority(const char *p, const char *end, bool strict, ParsedUrl *urlPtr)
{
    const char *authEnd = FindChar(p, end, "/?#"), *at, *hostEnd;
    bool        isLiteral = false;

    /*
     * The '@' that ends userinfo is the last one: userinfo may not contain
     * one, a host may not either, so more than one is an error in -strict.
     */
    at = NULL;
    for (hostEnd = p; hostEnd < authEnd; hostEnd++) {
        if (*hostEnd == '@') {
            at = hostEnd;
        }
    }
    if (at != NULL) {
        SetPart(&urlPtr->userinfo, p, at);
        if (strict && !AllCharsIn(&urlPtr->userinfo, "%:")) {
            return NULL;
        }
        p = at + 1;
    }

    if (p < authEnd && *p == '[') {
        hostEnd = FindChar(p, authEnd, "]");
        if (hostEnd == authEnd) {
            return NULL;
        }
        SetPart(&urlPtr->host, p + 1, hostEnd);
        isLiteral = true;
        p = hostEnd + 1;
        if (p < authEnd && *p != ':') {
            return NULL;
        }
    } else {
        hostEnd = FindChar(p, authEnd, ":");
        SetPart(&urlPtr->host, p, hostEnd);
        p = hostEnd;
    }
    if (p + 1 < authEnd) {
        /*
         * p is at the ':' before the port.  An empty port is the same as
         * none (RFC 3986 section 6.2.3), so it is not reported.
         */
        SetPart(&urlPtr->port, p + 1, authEnd);
    }

    if (!ValidHost(&urlPtr->host, isLiteral, strict)) {
        return NULL;
    }
    if (strict) {
        size_t i;

        for (i = 0; urlPtr->port.present && i < urlPtr->port.length; i++) {
            if (!IsDigit((unsigned char)urlPtr->port.start[i])) {
                return NULL;
            }
        }
    }
    return authEnd;
}


/*
 *----------------------------------------------------------------------
 *
 * ParsePathAndRest --
 *
 *      Split what follows the authority (or the whole relative URL):
 *      the fragment starts at the first '#', the query at the first '?'
 *      before it.  A path starting with '/' is split at its last '/' into
 *      path (without the slashes around it) and tail; a relative path
 *      without a leading '/' is all tail (NaviServer's legacy).
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      Sets path, tail, query and fragment of *urlPtr.
 *
 *----------------------------------------------------------------------
 */

static void
ParsePathAndRest(const char *p, const char *end, ParsedUrl *urlPtr)
{
    const char *hash = FindChar(p, end, "#");
    const char *question = FindChar(p, hash, "?");

    if (hash < end) {
        SetPart(&urlPtr->fragment, hash + 1, end);
    }
    if (question < hash) {
        SetPart(&urlPtr->query, question + 1, hash);
    }
    if (p < question && *p == '/') {
        const char *slash = question - 1;

        while (*slash != '/') {     /* stops at p at the latest */
            slash--;
        }
        SetPart(&urlPtr->path, p + 1, slash > p ? slash : p + 1);
        SetPart(&urlPtr->tail, slash + 1, question);
    } else if (p < question) {
        SetPart(&urlPtr->tail, p, question);
    }
}


/*
 *----------------------------------------------------------------------
 *
 * SetPart, FindChar --
 *
 *      Small helpers of ParseUrl: mark a part as present with the bytes
 *      [start, end); find the first of a set of characters in [p, end).
 *
 * Results:
 *      FindChar: the position found, or end.
 *
 * Side effects:
 *      SetPart fills in *partPtr.
 *
 *----------------------------------------------------------------------
 */

static void
SetPart(UrlPart *partPtr, const char *start, const char *end)
{
    partPtr->start = start;
    partPtr->length = (size_t)(end - start);
    partPtr->present = true;
}

static const char *
FindChar(const char *p, const char *end, const char *chars)
{
    while (p < end && (*p == '\0' || strchr(chars, *p) == NULL)) {
        p++;
    }
    return p;
}


/*
 *----------------------------------------------------------------------
 *
 * ValidHost --
 *
 *      Check a host.  A name must not have an empty label (".a.b",
 *      "a..b"), which no resolver accepts.  With -strict, an IP literal
 *      must hold only hex digits, ':' and '.', and a name only RFC 3986
 *      reg-name characters.  An empty host is allowed ("file:///x").
 *
 * Results:
 *      True when the host is acceptable.
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

static bool
ValidHost(const UrlPart *hostPtr, bool isLiteral, bool strict)
{
    size_t i;

    if (isLiteral) {
        if (!strict) {
            return true;
        }
        if (hostPtr->length == 0) {
            return false;
        }
        for (i = 0; i < hostPtr->length; i++) {
            unsigned char c = (unsigned char)hostPtr->start[i];

            if (!IsDigit(c) && !(c >= 'a' && c <= 'f') && !(c >= 'A' && c <= 'F')
                && c != ':' && c != '.') {
                return false;
            }
        }
        return true;
    }
    for (i = 0; i < hostPtr->length; i++) {
        if (hostPtr->start[i] == '.' && (i == 0 || hostPtr->start[i - 1] == '.')) {
            return false;
        }
    }
    return !strict || AllCharsIn(hostPtr, "%");
}


/*
 *----------------------------------------------------------------------
 *
 * AllCharsIn --
 *
 *      The -strict check of a part: every byte is RFC 3986 unreserved,
 *      a sub-delim, or one of extra.  Escapes are checked only as far as
 *      their '%' goes, as NaviServer does.
 *
 * Results:
 *      True when all bytes pass, or the part is absent.
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

static bool
AllCharsIn(const UrlPart *partPtr, const char *extra)
{
    size_t i;

    for (i = 0; partPtr->present && i < partPtr->length; i++) {
        unsigned char c = (unsigned char)partPtr->start[i];

        if (!IsUnreservedOrSubDelim(c) && (c == '\0' || strchr(extra, c) == NULL)) {
            return false;
        }
    }
    return true;
}


/*
 *----------------------------------------------------------------------
 *
 * IsAlpha, IsDigit, IsUnreservedOrSubDelim --
 *
 *      RFC 3986 character classes, independent of the locale.
 *
 * Results:
 *      True when c is in the class.
 *
 * Side effects:
 *      None.
 *
 *----------------------------------------------------------------------
 */

static bool
IsAlpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
IsDigit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static bool
IsUnreservedOrSubDelim(unsigned char c)
{
    return IsAlpha(c) || IsDigit(c) || (c != '\0' && strchr("-._~!$&'()*+,;=", c) != NULL);
}


/*
 *----------------------------------------------------------------------
 *
 * PutPart --
 *
 *      Add a part of a parsed URL to the result dict, if it is present.
 *
 * Results:
 *      None.
 *
 * Side effects:
 *      Modifies dictObj (which must be unshared).
 *
 *----------------------------------------------------------------------
 */

static void
PutPart(Tcl_Obj *dictObj, const char *key, const UrlPart *partPtr)
{
    if (partPtr->present) {
        Tcl_DictObjPut(NULL, dictObj, Tcl_NewStringObj(key, -1),
                       Tcl_NewStringObj(partPtr->start, (int)partPtr->length));
    }
}
