#
# nsd-config.tcl -- sample configuration of an nsws server.
#
# The file is a Tcl script read once at start-up, as NaviServer reads its
# config: ns_section names a section, ns_param adds a parameter to it.
# Parameters that nsws does not know are kept and ignored, so a NaviServer
# config with extras still starts.
#
# Start it from the build tree with "make run", or in an installed tree with
#     bin/nsd -f -t conf/nsd-config.tcl
#

# The server tree: the directory above bin/nsd.
set home [file dirname [file dirname [file normalize [info nameofexecutable]]]]
set address 127.0.0.1          ;# loopback only; "::" or "0.0.0.0" for every address
set port    8080
set server  default

ns_section ns/parameters {
    ns_param home            $home
    ns_param logdir          logs             ;# relative to home
    ns_param serverlog       nsd.log
    ns_param pidfile         nsd.pid
    ns_param tcllibrary      tcl              ;# the server's Tcl library
    ns_param shutdowntimeout 20s              ;# running requests get this long to finish
    ns_param logdebug        false
}

# Global drivers: "http" is a listening socket served by the nssock driver.
ns_section ns/modules {
    ns_param http nssock
}

ns_section ns/module/http {
    ns_param address    $address
    ns_param port       $port
    ns_param hostname   localhost
    ns_param backlog    256
    ns_param maxinput   1048576   ;# bytes of a request body
    ns_param maxline    8192      ;# bytes of the request line and of each header line
    ns_param maxheaders 128       ;# header fields per request
    ns_param recvwait   30s       ;# a request must arrive completely within this
    ns_param sendwait   30s       ;# a blocked response gives up after this
    ns_param keepwait   5s        ;# idle keep-alive connections close after this
}

ns_section ns/servers {
    ns_param $server "nsws sample server"
}

ns_section ns/server/$server {
    ns_param minthreads     2
    ns_param maxthreads     10
    ns_param maxconnections 100   ;# requests queued before new ones get 503
    ns_param enabletclpages true  ;# run *.tcl files under pagedir as pages
}

ns_section ns/server/$server/fastpath {
    ns_param pagedir pages        ;# relative to home
}

# Tcl modules of the server are found in this directory (modules/tcl in an
# installed tree; the build tree keeps them in tcl/).
ns_section ns/server/$server/tcl {
    ns_param library [expr {[file isdirectory $home/modules/tcl] ? "modules/tcl" : "tcl"}]
}

ns_section ns/server/$server/modules {
    ns_param websocket tcl        ;# the WebSocket module: ns_connchan, ws::*, the apps
}

# The sample apps of the WebSocket module (tcl/websocket/).  Each URL in
# "urls" is an app of its own; without a section, or with empty urls, an
# app is off.  See the README, "The sample apps".
ns_section ns/server/$server/module/websocket/chat {
    ns_param urls       /websocket/chat
    ns_param maxmessage 4096      ;# bytes; a longer message closes its WebSocket
}

ns_section ns/server/$server/module/websocket/log-view {
    ns_param urls    /admin/websocket/log-view
    ns_param refresh 1000         ;# ms: new log lines reach the viewers this fast
    ns_param allow   {127.0.0.0/8 ::1} ;# client addresses, CIDR blocks or glob patterns
    # ns_param user     admin     ;# with both set, HTTP Basic credentials are required
    # ns_param password secret
}

# The access log, in NCSA combined format.
ns_section ns/server/$server/module/nslog {
    ns_param file access.log      ;# relative to logdir
}
