/*
 * tclsetint.h --
 *
 *      What the two files of the ns_set command share, and nothing else
 *      in the host uses: tclsethandle.c (sets and their handles in an
 *      interp, and the subcommands that make, free, list and measure sets)
 *      and tclset.c (the dispatch, and the subcommands on a set's fields).
 */

#ifndef NSD_TCLSETINT_H
#define NSD_TCLSETINT_H

#include "nsd.h"

/*
 * What a handle stands for.
 */
typedef struct SetHandle {
    Ns_Set *set;      /* the set; freed with the handle when dynamic */
    bool    nocase;   /* created with -nocase (or "ns_set new"): compare keys
                       * case-insensitively in every subcommand */
} SetHandle;

/*
 * Ns_ObjvProc for a set handle argument ("/setId/"); dest is a
 * SetHandle **.  An unknown handle is "no such set: 'x'" with -errorcode
 * {NS LOOKUP SET x}.
 */
Ns_ObjvProc NsTclObjvSetHandle;

/*
 * Parse the arguments of a subcommand that takes only "/setId/".
 */
int NsTclParseSetId(Tcl_Interp *interp, int objc, Tcl_Obj *const objv[],
                    SetHandle **handlePtrPtr);

/*
 * The subcommands of tclsethandle.c.
 */
Tcl_ObjCmdProc NsTclSetCleanupObjCmd, NsTclSetCopyObjCmd, NsTclSetCreateObjCmd,
    NsTclSetFreeObjCmd, NsTclSetListObjCmd, NsTclSetSplitObjCmd, NsTclSetStatsObjCmd;

#endif /* NSD_TCLSETINT_H */
