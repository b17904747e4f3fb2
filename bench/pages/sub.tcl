# sub.tcl -- a subscriber of "bench": it gets what publishers send there.
set channel [ws::handshake]
if {$channel ne ""} {
    ws::subscribe $channel bench
}
