/*
 * tclencoding.c --
 *
 *      UTF-8 between Tcl values and the wire.  Tcl keeps strings in a
 *      modified UTF-8 (NUL as C0 80), so bytes for the network go through
 *      its UTF-8 encoding in both directions; these two calls say so once.
 */

#include "nsd.h"

/*
 *----------------------------------------------------------------------
 * Ns_Utf8FromObj --
 *
 *      The UTF-8 bytes of a Tcl string, in dsPtr (initialised here).
 *
 * Results:
 *      The bytes (Tcl_DStringValue), *lenPtr their length.
 *----------------------------------------------------------------------
 */
const char *
Ns_Utf8FromObj(Tcl_Obj *objPtr, Tcl_DString *dsPtr, int *lenPtr)
{
    Tcl_Encoding utf8 = Tcl_GetEncoding(NULL, "utf-8");
    int          len;
    const char  *string = Tcl_GetStringFromObj(objPtr, &len);

    Tcl_UtfToExternalDString(utf8, string, len, dsPtr);
    Tcl_FreeEncoding(utf8);
    *lenPtr = Tcl_DStringLength(dsPtr);
    return Tcl_DStringValue(dsPtr);
}

/*
 *----------------------------------------------------------------------
 * Ns_Utf8ToObj --
 *
 *      A new Tcl string from UTF-8 bytes (invalid sequences are taken as
 *      Tcl's UTF-8 decoder takes them).
 *----------------------------------------------------------------------
 */
Tcl_Obj *
Ns_Utf8ToObj(const char *bytes, size_t len)
{
    Tcl_Encoding utf8 = Tcl_GetEncoding(NULL, "utf-8");
    Tcl_DString  ds;
    Tcl_Obj     *objPtr;

    Tcl_ExternalToUtfDString(utf8, bytes, (int)len, &ds);
    Tcl_FreeEncoding(utf8);
    objPtr = Tcl_NewStringObj(Tcl_DStringValue(&ds), Tcl_DStringLength(&ds));
    Tcl_DStringFree(&ds);
    return objPtr;
}
