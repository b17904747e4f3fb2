#
# nsd-bench.tcl -- the nsd that "make bench" measures (bench/run.tcl starts it).
#
# Loopback only.  The endpoints are Tcl pages in bench/pages, written as an
# application writes them, with the public ws::* API:
#
#   /echo.tcl     every message comes back: an -onmessage callback calls ws::send
#   /sub.tcl      a subscriber of the subscription "bench"
#   /pub.tcl      a publisher: its callback calls ws::multicast to "bench"
#   /connect.tcl  a bare ws::handshake (the connect + upgrade + close test)
#
# and the module's own echo service, /websocket/echo.
#
# Environment: NSWS_BENCH_HOME (server home with logs/, default bench/out/nsd),
# NSWS_BENCH_PORT (default 0: the kernel picks, the log says which).
#

set bench  [file dirname [file normalize [info script]]]
set root   [file dirname $bench]
set home   [expr {[info exists ::env(NSWS_BENCH_HOME)] ? $::env(NSWS_BENCH_HOME) : "$bench/out/nsd"}]
set port   [expr {[info exists ::env(NSWS_BENCH_PORT)] ? $::env(NSWS_BENCH_PORT) : 0}]
set server bench

ns_section ns/parameters {
    ns_param home            $home
    ns_param logdir          logs
    ns_param tcllibrary      $root/tcl
    ns_param shutdowntimeout 5s
}

ns_section ns/modules {
    ns_param http nssock
}

ns_section ns/module/http {
    ns_param address  127.0.0.1
    ns_param port     $port
    ns_param backlog  4096        ;# thousands of clients connect at once
    ns_param maxsock  100000
    ns_param recvwait 30s
}

ns_section ns/servers {
    ns_param $server "nsws bench server"
}

ns_section ns/server/$server {
    ns_param minthreads     2
    ns_param maxthreads     4
    ns_param maxconnections 4096  ;# upgrade requests queued at once
    ns_param enabletclpages true
}

ns_section ns/server/$server/fastpath {
    ns_param pagedir $bench/pages
}

ns_section ns/server/$server/tcl {
    ns_param library $root/tcl
}

# The WebSocket module as a server administrator enables it: its Tcl part
# loads nswebsocket.so and, with "echo true", serves /websocket/echo, whose
# callback is a proc (::ws::echo::reply) rather than a lambda.
ns_section ns/server/$server/modules {
    ns_param websocket tcl
}

ns_section ns/server/$server/module/websocket {
    ns_param echo      true
    ns_param sendlimit 16777216   ;# no fan-out subscriber here is a slow consumer
}
