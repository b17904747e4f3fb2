#
# evallib.tcl --
#
#       Evaluate a script inside a running test server, in a connection
#       thread, over HTTP: the server gets a page _eval.tcl (test servers
#       only; never part of a real config).  Errors come back as errors with
#       their message and -errorcode.
#

namespace eval ::nstest {}

#
# nstest::evalPage --
#
#       The page to pass to nstest::start -pages {_eval.tcl ...}.
#
proc ::nstest::evalPage {} {
    return {
        set code [catch {uplevel #0 [ns_conn content]} result opts]
        set errorcode [expr {$code == 1 ? [dict get $opts -errorcode] : ""}]
        ns_return 200 text/plain [list $code $result $errorcode]
    }
}

#
# nstest::eval --
#
#       Run script in server h; returns its result or raises its error.
#
proc ::nstest::eval {h script} {
    set r [nstest::http -method POST -body $script [dict get $h port] /_eval.tcl]
    if {[dict get $r status] != 200} {
        error "eval page answered [dict get $r status]: [dict get $r body]"
    }
    lassign [encoding convertfrom utf-8 [dict get $r body]] code result errorcode
    if {$code == 1} {
        return -code error -errorcode $errorcode $result
    }
    return $result
}
