#
# testlib.tcl --
#
#       What the test files share: starting a real nsd on 127.0.0.1 port 0
#       with a generated config, reading back the port it got, stopping it,
#       and plain socket clients (raw bytes and a small HTTP/1.1 client).
#       Every wait has a watchdog; nothing sleeps to synchronise.
#

package require tcltest 2.5
namespace import ::tcltest::*

namespace eval ::nstest {
    variable root    [file dirname [file dirname [file normalize [info script]]]]
    variable nsd     [file join $root bin nsd]
    variable outdir  [file join $root tests out]
    variable counter 0
    variable servers {}
}

#
# nstest::wait --
#
#       Enter the event loop until the variable varName (fully qualified)
#       is written, or ms milliseconds pass.  Returns 1 if written in time.
#
proc ::nstest::wait {varName ms} {
    set id [after $ms [list set $varName __timeout__]]
    vwait $varName
    after cancel $id
    return [expr {[set $varName] ne "__timeout__"}]
}

#
# nstest::start --
#
#       Start an nsd in the foreground with a fresh directory under
#       tests/out.  Options:
#           -config script   appended to the generated config (Tcl, may use
#                            $server, $home, $root)
#           -pages dict      files to create under pages/: name -> content
#           -modules dict    ns/server/$server/modules entries
#       Returns a handle (a dict) with pid, port, home, log, chan.
#
proc ::nstest::start {args} {
    variable root
    variable nsd
    variable outdir
    variable counter
    variable servers

    array set opt {-config "" -pages {} -modules {} -driverparams {}}
    array set opt $args
    set home [file join $outdir "[file rootname [file tail [info script]]]-[pid]-[incr counter]"]
    file delete -force $home
    file mkdir $home/logs $home/pages
    foreach {name content} $opt(-pages) {
        file mkdir [file dirname $home/pages/$name]
        set f [open $home/pages/$name w]
        fconfigure $f -translation binary
        puts -nonewline $f $content
        close $f
    }
    set modules ""
    foreach {name value} $opt(-modules) {
        append modules "    ns_param [list $name] [list $value]\n"
    }
    set driverParams ""
    foreach {name value} $opt(-driverparams) {
        append driverParams "    ns_param [list $name] [list $value]\n"
    }
    set config [string map [list @HOME@ $home @ROOT@ $root @MODULES@ $modules \
                                @DRIVER@ $driverParams] {
        set home   {@HOME@}
        set root   {@ROOT@}
        set server test
        ns_section ns/parameters {
            ns_param home            $home
            ns_param tcllibrary      $root/tcl
            ns_param shutdowntimeout 5s
        }
        ns_section ns/modules { ns_param http nssock }
        ns_section ns/module/http {
            ns_param address 127.0.0.1
            ns_param port    0
@DRIVER@        }
        ns_section ns/servers { ns_param $server "test server" }
        ns_section ns/server/$server {
            ns_param minthreads     2
            ns_param maxthreads     5
            ns_param enabletclpages true
        }
        ns_section ns/server/$server/fastpath { ns_param pagedir pages }
        ns_section ns/server/$server/tcl { ns_param library $root/tcl }
        ns_section ns/server/$server/modules {
@MODULES@        }
    }]
    append config \n $opt(-config) \n
    set f [open $home/nsd-config.tcl w]
    puts $f $config
    close $f

    set chan [open |[list $nsd -f -t $home/nsd-config.tcl 2>@1] r]
    fconfigure $chan -blocking 0 -buffering line
    set h [dict create pid [pid $chan] home $home chan $chan log $home/logs/nsd.log \
               port "" ports {}]
    set ::nstest::output($chan) ""
    set ::nstest::ready($chan) ""
    fileevent $chan readable [list ::nstest::Reader $chan]
    if {![wait ::nstest::ready($chan) 20000] || $::nstest::ready($chan) ne "ready"} {
        catch {exec kill -KILL [pid $chan]}
        catch {close $chan}
        error "nsd did not start: $::nstest::output($chan)"
    }
    foreach {- name port} [regexp -all -inline {(\S+): listening on \[[^\]]*\]:(\d+)} \
                               $::nstest::output($chan)] {
        dict set h ports $name $port
        if {[dict get $h port] eq ""} {
            dict set h port $port
        }
    }
    lappend servers $h
    return $h
}

#
# nstest::Reader --
#
#       Drain the server's output (so it never blocks on a full pipe), keep
#       it for inspection, and note when it is ready or gone.
#
proc ::nstest::Reader {chan} {
    set data [read $chan]
    append ::nstest::output($chan) $data
    if {[string match "*nsd: ready*" $::nstest::output($chan)] && $::nstest::ready($chan) eq ""} {
        set ::nstest::ready($chan) ready
    }
    if {[eof $chan]} {
        fileevent $chan readable {}
        set ::nstest::ready($chan) exited
        set ::nstest::exited($chan) 1
    }
}

#
# nstest::output --
#
#       What the server printed so far (its log, in foreground mode).
#
proc ::nstest::output {h} {
    return $::nstest::output([dict get $h chan])
}

#
# nstest::waitOutput --
#
#       Wait until the server's output matches a glob pattern.
#
proc ::nstest::waitOutput {h pattern {ms 10000}} {
    set chan [dict get $h chan]
    set deadline [expr {[clock milliseconds] + $ms}]
    while {![string match $pattern $::nstest::output($chan)]} {
        set left [expr {$deadline - [clock milliseconds]}]
        if {$left <= 0 || [info exists ::nstest::exited($chan)]} {
            return 0
        }
        set ::nstest::tick ""
        set id [after [expr {min($left, 50)}] {set ::nstest::tick 1}]
        vwait ::nstest::tick
        after cancel $id
    }
    return 1
}

#
# nstest::stop --
#
#       Stop a server with a signal (TERM by default) and wait for it to
#       exit.  Returns the exit status ("timeout" when it did not exit).
#
proc ::nstest::stop {h {signal TERM} {ms 20000}} {
    variable servers
    set chan [dict get $h chan]
    set idx [lsearch -exact $servers $h]
    if {$idx >= 0} {
        set servers [lreplace $servers $idx $idx]
    }
    catch {exec kill -$signal [dict get $h pid]}
    if {![info exists ::nstest::exited($chan)]} {
        set ::nstest::ready($chan) ""
        if {![wait ::nstest::ready($chan) $ms]} {
            catch {exec kill -KILL [dict get $h pid]}
            catch {close $chan}
            return timeout
        }
    }
    fconfigure $chan -blocking 1
    set status 0
    if {[catch {close $chan} msg opts]} {
        set code [dict get $opts -errorcode]
        if {[lindex $code 0] eq "CHILDSTATUS"} {
            set status [lindex $code 2]
        } elseif {[lindex $code 0] eq "CHILDKILLED"} {
            set status [lindex $code 2]
        }
    }
    return $status
}

#
# nstest::stopAll --
#
#       Stop every server a test file started and left running.
#
proc ::nstest::stopAll {} {
    variable servers
    foreach h $servers {
        stop $h
    }
}

#
# nstest::connect --
#
#       A blocking, binary socket to the server (or port).
#
proc ::nstest::connect {port} {
    set s [socket 127.0.0.1 $port]
    fconfigure $s -translation binary -buffering none -blocking 1
    return $s
}

#
# nstest::readAll --
#
#       Read from a socket until EOF or ms pass; returns what came.
#
proc ::nstest::readAll {s {ms 10000}} {
    fconfigure $s -blocking 0
    set ::nstest::buf($s) ""
    set ::nstest::done($s) ""
    fileevent $s readable [list apply {{s} {
        if {[catch {read $s} data] || [eof $s]} {
            if {[info exists data] && ![string match "error*" $data]} {
                append ::nstest::buf($s) $data
            }
            fileevent $s readable {}
            set ::nstest::done($s) eof
        } else {
            append ::nstest::buf($s) $data
        }
    }} $s]
    wait ::nstest::done($s) $ms
    set data $::nstest::buf($s)
    unset ::nstest::buf($s) ::nstest::done($s)
    fconfigure $s -blocking 1
    return $data
}

#
# nstest::raw --
#
#       Send raw bytes on a new connection and return everything the server
#       sends back until it closes (or ms pass).
#
proc ::nstest::raw {port data {ms 10000}} {
    set s [connect $port]
    puts -nonewline $s $data
    set reply [readAll $s $ms]
    close $s
    return $reply
}

#
# nstest::readResponse --
#
#       Read one HTTP response from a blocking socket: a dict with status,
#       headers (lower-case names) and body (Content-Length, chunked, or
#       until EOF).
#
proc ::nstest::readResponse {s {method GET}} {
    fconfigure $s -translation binary -blocking 1
    set line [gets $s]
    if {![regexp {^HTTP/1\.([01]) (\d+) } $line -> minor status]} {
        error "bad status line \"$line\""
    }
    set headers {}
    while {[gets $s line] > 0} {
        set line [string trimright $line \r]
        if {$line eq ""} {
            break
        }
        regexp {^([^:]+):\s*(.*)$} $line -> name value
        dict lappend headers [string tolower $name] $value
    }
    set body ""
    if {$method eq "HEAD" || $status in {101 204 304}} {
        # no body
    } elseif {[dict exists $headers content-length]} {
        set body [read $s [lindex [dict get $headers content-length] 0]]
    } elseif {[dict exists $headers transfer-encoding]} {
        while {1} {
            set size [expr 0x[string trim [gets $s]]]
            if {$size == 0} {
                gets $s
                break
            }
            append body [read $s $size]
            gets $s
        }
    } else {
        set body [read $s]
    }
    foreach name [dict keys $headers] {
        if {[llength [dict get $headers $name]] == 1} {
            dict set headers $name [lindex [dict get $headers $name] 0]
        }
    }
    return [dict create status $status headers $headers body $body version 1.$minor]
}

#
# nstest::http --
#
#       One HTTP request on a new connection:
#           nstest::http ?-method M? ?-headers {n v ...}? ?-body b? ?-version 1.1?
#                        port path
#       Returns the response dict of readResponse.
#
proc ::nstest::http {args} {
    set port [lindex $args end-1]
    set path [lindex $args end]
    array set opt {-method GET -headers {} -body "" -version 1.1}
    array set opt [lrange $args 0 end-2]
    set s [connect $port]
    set req "$opt(-method) $path HTTP/$opt(-version)\r\nHost: 127.0.0.1:$port\r\n"
    append req "Connection: close\r\n"
    foreach {n v} $opt(-headers) {
        append req "$n: $v\r\n"
    }
    set body [encoding convertto utf-8 $opt(-body)]
    if {$body ne "" || $opt(-method) eq "POST"} {
        append req "Content-Length: [string length $body]\r\n"
    }
    append req "\r\n" $body
    puts -nonewline $s $req
    try {
        return [readResponse $s $opt(-method)]
    } finally {
        close $s
    }
}

#
# nstest::statusOf --
#
#       The status code at the start of a raw response ("" if none).
#
proc ::nstest::statusOf {reply} {
    if {[regexp {^HTTP/1\.[01] (\d+) } $reply -> status]} {
        return $status
    }
    return ""
}

#
# nstest::readFile --
#
proc ::nstest::readFile {path} {
    set f [open $path r]
    fconfigure $f -translation binary
    try {
        return [read $f]
    } finally {
        close $f
    }
}

#
# nstest::waitFile --
#
#       Wait until a file's content matches a glob pattern.
#
proc ::nstest::waitFile {path pattern {ms 10000}} {
    set deadline [expr {[clock milliseconds] + $ms}]
    while {[clock milliseconds] < $deadline} {
        if {[file exists $path] && [string match $pattern [readFile $path]]} {
            return 1
        }
        set ::nstest::tick ""
        set id [after 20 {set ::nstest::tick 1}]
        vwait ::nstest::tick
        after cancel $id
    }
    return 0
}

#
# nstest::tlsOpen --
#
#       A TLS client connection to 127.0.0.1:port: a pipe to
#       "openssl s_client -quiet" (Tcl's tls package is not assumed), binary
#       and blocking.  What s_client reports (verification, alerts) goes to
#       a file, returned by nstest::tlsLog.  Extra args go to s_client, e.g.
#       -tls1_1.  s_client exits when the server closes the connection.
#
proc ::nstest::tlsOpen {port args} {
    variable outdir
    variable counter
    file mkdir $outdir
    set log [file join $outdir "s_client-[pid]-[incr counter].log"]
    set chan [open |[list openssl s_client -connect 127.0.0.1:$port -quiet \
                         -servername localhost {*}$args 2> $log] r+]
    fconfigure $chan -translation binary -buffering none -blocking 1
    set ::nstest::tlsLog($chan) $log
    return $chan
}

#
# nstest::tlsLog --
#
#       What s_client wrote to stderr for a connection from tlsOpen.
#
proc ::nstest::tlsLog {chan} {
    return [readFile $::nstest::tlsLog($chan)]
}

#
# nstest::tlsClose --
#
#       Close a connection from tlsOpen: s_client is killed if it has not
#       exited by itself (the server did not close), so this never hangs.
#
proc ::nstest::tlsClose {chan} {
    catch {exec kill {*}[pid $chan]}
    catch {close $chan}
    file delete $::nstest::tlsLog($chan)
    unset ::nstest::tlsLog($chan)
}

#
# nstest::tlsRaw --
#
#       Send raw bytes over a new TLS connection and return everything the
#       server sends back until it closes (or ms pass).  Extra args go to
#       s_client; the s_client log is in ::nstest::lastTlsLog.
#
proc ::nstest::tlsRaw {port data {ms 10000} args} {
    set chan [tlsOpen $port {*}$args]
    catch {puts -nonewline $chan $data; flush $chan}
    set reply [readAll $chan $ms]
    set ::nstest::lastTlsLog [tlsLog $chan]
    tlsClose $chan
    return $reply
}

#
# nstest::https --
#
#       One HTTP request over a new TLS connection, as nstest::http:
#           nstest::https ?-method M? ?-headers {n v ...}? ?-body b? port path
#       Returns the response dict of readResponse.
#
proc ::nstest::https {args} {
    set port [lindex $args end-1]
    set path [lindex $args end]
    array set opt {-method GET -headers {} -body ""}
    array set opt [lrange $args 0 end-2]
    set chan [tlsOpen $port]
    set req "$opt(-method) $path HTTP/1.1\r\nHost: localhost:$port\r\nConnection: close\r\n"
    foreach {n v} $opt(-headers) {
        append req "$n: $v\r\n"
    }
    set body [encoding convertto utf-8 $opt(-body)]
    if {$body ne "" || $opt(-method) eq "POST"} {
        append req "Content-Length: [string length $body]\r\n"
    }
    append req "\r\n" $body
    puts -nonewline $chan $req
    flush $chan
    try {
        return [readResponse $chan $opt(-method)]
    } finally {
        tlsClose $chan
    }
}
