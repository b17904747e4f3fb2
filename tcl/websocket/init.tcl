#
# init.tcl -- the Tcl part of the WebSocket module.
#
# "ns_param websocket tcl" in ns/server/$server/modules sources this
# directory at start-up.  It loads the C part (nswebsocket.so, next to the
# nsd binary) unless the config loaded it already, and registers the echo
# service when ns/server/$server/module/websocket has "echo true".  The
# sample apps (chat, log-view) register themselves from their own files in
# this directory when their sections are configured.
#

if {[info commands ::ws::handshake] eq ""} {
    ns_moduleload nswebsocket [file join [file dirname [ns_info nsd]] nswebsocket.so]
}

namespace eval ::ws::echo {
    #
    # connect --
    #
    #       Upgrade the request and echo every message back with its type:
    #       the service conformance tests and benchmarks talk to.
    #
    proc connect {} {
        ws::handshake -onmessage ::ws::echo::reply
    }

    proc reply {channel message type} {
        ws::send -$type $channel $message
    }
}

if {[ns_config -bool ns/server/[ns_info server]/module/websocket echo false]} {
    ns_register_proc GET /websocket/echo ::ws::echo::connect
    ns_log notice "websocket: echo service at /websocket/echo"
}
