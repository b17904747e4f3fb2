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
# nstest::prepare --
#
#       Make a fresh server directory under tests/out and write its config,
#       without starting anything.  Options:
#           -config script      appended to the generated config (Tcl, may use
#                               $server, $home, $root)
#           -pages dict         files to create under pages/: name -> content
#           -modules dict       ns/server/$server/modules entries
#           -driverparams dict  ns/module/http parameters (override the
#                               defaults address 127.0.0.1, port 0)
#           -serverparams dict  ns/server/$server parameters (override the
#                               defaults minthreads 2, maxthreads 5,
#                               enabletclpages true)
#           -parameters dict    ns/parameters entries (override the defaults)
#           -tcl dict           files to create under modules/tcl/ (name ->
#                               content, e.g. mymod/init.tcl); when given,
#                               that directory is the server's module
#                               library (ns/server/$server/tcl library)
#       Returns a dict with home and config (the config file's path).
#
proc ::nstest::prepare {args} {
    variable root
    variable outdir
    variable counter

    array set opt {-config "" -pages {} -modules {} -driverparams {} -serverparams {}
        -parameters {} -tcl {}}
    array set opt $args
    set home [file join $outdir "[file rootname [file tail [info script]]]-[pid]-[incr counter]"]
    file delete -force $home
    file mkdir $home/logs $home/pages
    foreach {name content} $opt(-pages) {
        writeFile $home/pages/$name $content
    }
    set library $root/tcl
    if {[llength $opt(-tcl)] > 0} {
        set library $home/modules/tcl
        file mkdir $library
        foreach {name content} $opt(-tcl) {
            writeFile $library/$name $content
        }
    }
    set parameters [dict merge [dict create home $home tcllibrary $root/tcl \
                                    shutdowntimeout 5s] $opt(-parameters)]
    set driver [dict merge {address 127.0.0.1 port 0} $opt(-driverparams)]
    set serverParams [dict merge {minthreads 2 maxthreads 5 enabletclpages true} \
                          $opt(-serverparams)]
    set config [string map [list @HOME@ $home @ROOT@ $root @LIBRARY@ $library \
                                @PARAMETERS@ [Params $parameters] \
                                @MODULES@ [Params $opt(-modules)] \
                                @DRIVER@ [Params $driver] \
                                @SERVER@ [Params $serverParams]] {
        set home   {@HOME@}
        set root   {@ROOT@}
        set server test
        ns_section ns/parameters {
@PARAMETERS@        }
        ns_section ns/modules { ns_param http nssock }
        ns_section ns/module/http {
@DRIVER@        }
        ns_section ns/servers { ns_param $server "test server" }
        ns_section ns/server/$server {
@SERVER@        }
        ns_section ns/server/$server/fastpath { ns_param pagedir pages }
        ns_section ns/server/$server/tcl { ns_param library {@LIBRARY@} }
        ns_section ns/server/$server/modules {
@MODULES@        }
    }]
    append config \n $opt(-config) \n
    writeFile $home/nsd-config.tcl $config
    return [dict create home $home config $home/nsd-config.tcl]
}

#
# nstest::Params --
#
#       ns_param lines for the pairs of a dict (keys may repeat in a list).
#
proc ::nstest::Params {pairs} {
    set lines ""
    foreach {name value} $pairs {
        append lines "            ns_param [list $name] [list $value]\n"
    }
    return $lines
}

#
# nstest::writeFile --
#
#       Create a file (and its directory) with exactly these bytes.
#
proc ::nstest::writeFile {path content} {
    file mkdir [file dirname $path]
    set f [open $path w]
    fconfigure $f -translation binary
    puts -nonewline $f $content
    close $f
}

#
# nstest::start --
#
#       Start an nsd in the foreground with a fresh directory under
#       tests/out (the options are those of nstest::prepare, and):
#           -prefix list     a command that runs nsd: it gets nsd's path
#                            and arguments as its last words, and must
#                            become that process (exec it, as sh -c and
#                            valgrind do), so that the pid is nsd's;
#                            @HOME@ in its words is the server's directory
#                            (e.g. valgrind --log-file=@HOME@/valgrind.log)
#           -readywait ms    how long to wait for "nsd: ready" (20000)
#       Waits, with a watchdog, until it logs "nsd: ready".
#       Returns a handle (a dict) with pid, port, ports (driver -> port),
#       home, log, chan.
#
proc ::nstest::start {args} {
    variable nsd
    variable servers

    set prefix {}
    set readyWait 20000
    if {[dict exists $args -prefix]} {
        set prefix [dict get $args -prefix]
        dict unset args -prefix
    }
    if {[dict exists $args -readywait]} {
        set readyWait [dict get $args -readywait]
        dict unset args -readywait
    }
    set home [dict get [prepare {*}$args] home]
    set prefix [lmap word $prefix {string map [list @HOME@ $home] $word}]
    set chan [open |[list {*}$prefix $nsd -f -t $home/nsd-config.tcl 2>@1] r]
    fconfigure $chan -blocking 0 -buffering line
    set h [dict create pid [pid $chan] home $home chan $chan log $home/logs/nsd.log \
               port "" ports {}]
    set ::nstest::output($chan) ""
    # Tcl reuses the names of closed pipes: forget an earlier server's exit.
    unset -nocomplain ::nstest::exited($chan)
    set ::nstest::ready($chan) ""
    fileevent $chan readable [list ::nstest::Reader $chan]
    if {![wait ::nstest::ready($chan) $readyWait] || $::nstest::ready($chan) ne "ready"} {
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
# nstest::run --
#
#       Run nsd with the given arguments to its end, with a watchdog:
#           nstest::run ?-timeout ms? ?-input data? ?--? nsd-arg ...
#       (-timeout defaults to 20000; the process is killed when it passes;
#       -input is its stdin, empty by default).
#       Returns a dict: status (exit status, or "timeout") and output
#       (stdout and stderr together).
#
proc ::nstest::run {args} {
    variable nsd
    set ms 20000
    set input ""
    while {[llength $args] > 0} {
        switch -- [lindex $args 0] {
            -timeout { set ms [lindex $args 1]; set args [lrange $args 2 end] }
            -input   { set input [lindex $args 1]; set args [lrange $args 2 end] }
            --       { set args [lrange $args 1 end]; break }
            default  { break }
        }
    }
    set chan [open |[list $nsd {*}$args << $input 2>@1] r]
    fconfigure $chan -blocking 0
    set ::nstest::runOut($chan) ""
    set ::nstest::runDone($chan) ""
    fileevent $chan readable [list apply {{chan} {
        append ::nstest::runOut($chan) [read $chan]
        if {[eof $chan]} {
            fileevent $chan readable {}
            set ::nstest::runDone($chan) eof
        }
    }} $chan]
    set status 0
    if {![wait ::nstest::runDone($chan) $ms]} {
        catch {exec kill -KILL {*}[pid $chan]}
        set status timeout
    }
    fconfigure $chan -blocking 1
    if {[catch {close $chan} msg opts] && $status ne "timeout"} {
        set code [dict get $opts -errorcode]
        if {[lindex $code 0] in {CHILDSTATUS CHILDKILLED}} {
            set status [lindex $code 2]
        }
    }
    set output $::nstest::runOut($chan)
    unset ::nstest::runOut($chan) ::nstest::runDone($chan)
    ReportSanitizer $output "nsd $args"
    return [dict create status $status output $output]
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
# nstest::logLines --
#
#       What matches a regular expression in a server's log file, one
#       match per line.
#
proc ::nstest::logLines {h re} {
    return [regexp -all -inline -line $re [readFile [dict get $h log]]]
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
    catch {exec kill -$signal [dict get $h pid]}
    return [waitExit $h $ms]
}

#
# nstest::waitExit --
#
#       Wait, without signalling it, until a server started by nstest::start
#       exits (its output reaches EOF), for at most ms milliseconds; it is
#       killed when it does not.  Returns the exit status, the signal name
#       when a signal killed it, or "timeout".
#
proc ::nstest::waitExit {h {ms 20000}} {
    variable servers
    set chan [dict get $h chan]
    set idx [lsearch -exact $servers $h]
    if {$idx >= 0} {
        set servers [lreplace $servers $idx $idx]
    }
    if {![info exists ::nstest::exited($chan)]} {
        set deadline [expr {[clock milliseconds] + $ms}]
        while {![info exists ::nstest::exited($chan)]} {
            set left [expr {$deadline - [clock milliseconds]}]
            if {$left <= 0} {
                catch {exec kill -KILL [dict get $h pid]}
                catch {close $chan}
                return timeout
            }
            set ::nstest::ready($chan) ""
            wait ::nstest::ready($chan) $left
        }
    }
    fconfigure $chan -blocking 1
    set status 0
    if {[catch {close $chan} msg opts]} {
        set code [dict get $opts -errorcode]
        if {[lindex $code 0] in {CHILDSTATUS CHILDKILLED}} {
            set status [lindex $code 2]
        }
    }
    ReportSanitizer $::nstest::output($chan) [dict get $h home]
    return $status
}

#
# nstest::ReportSanitizer --
#
#       Show what AddressSanitizer, LeakSanitizer or UBSan wrote into a
#       server's output (the tests only read its log lines), so that a run
#       of the suite under --enable-sanitizers shows every finding.
#
proc ::nstest::ReportSanitizer {output what} {
    set found [regexp -all -inline -line {^.*(?:ERROR: \w+Sanitizer|runtime error:|WARNING: \w+Sanitizer).*$} $output]
    if {[llength $found] > 0} {
        puts "==== sanitizer report from nsd ($what):"
        puts $output
        flush stdout
    }
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
# nstest::StartReading, nstest::StopReading --
#
#       Collect what a socket sends, in the event loop, into
#       ::nstest::buf($s) until EOF (or an error), which sets
#       ::nstest::done($s) to eof and ::nstest::anyEnded to the socket.
#       StopReading returns what came and puts the socket back as it was:
#       a handler left behind would eat later data.
#
proc ::nstest::StartReading {s} {
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
            set ::nstest::anyEnded $s
        } else {
            append ::nstest::buf($s) $data
        }
    }} $s]
}

proc ::nstest::StopReading {s} {
    fileevent $s readable {}
    set data $::nstest::buf($s)
    unset ::nstest::buf($s) ::nstest::done($s)
    fconfigure $s -blocking 1
    return $data
}

#
# nstest::readAll --
#
#       Read from a socket until EOF or ms pass; returns what came (check
#       [eof $s] to tell the two apart).
#
proc ::nstest::readAll {s {ms 10000}} {
    StartReading $s
    wait ::nstest::done($s) $ms
    return [StopReading $s]
}

#
# nstest::firstEnded --
#
#       Read several sockets at once until n of them have reached EOF, or
#       ms pass; returns a dict of those that ended: socket -> what came.
#       For "which of these was refused" without a guess at how long a
#       refusal may take.
#
proc ::nstest::firstEnded {socks n {ms 10000}} {
    set deadline [expr {[clock milliseconds] + $ms}]
    foreach s $socks {
        StartReading $s
    }
    while 1 {
        set ended [dict create]
        foreach s $socks {
            if {$::nstest::done($s) eq "eof"} {
                dict set ended $s $::nstest::buf($s)
            }
        }
        set left [expr {$deadline - [clock milliseconds]}]
        if {[dict size $ended] >= $n || $left <= 0 || ![wait ::nstest::anyEnded $left]} {
            break
        }
    }
    foreach s $socks {
        StopReading $s
    }
    return $ended
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
#       Read one HTTP response from a socket: a dict with status, headers
#       (lower-case names), body (Content-Length, chunked, or until EOF)
#       and version.  Reads wait in the event loop, so a server that never
#       answers is an error after ms milliseconds, not a hung test.  The
#       socket is left blocking; bytes after the response (a pipelined
#       answer) stay in its buffer.
#
proc ::nstest::readResponse {s {method GET} {ms 10000}} {
    fconfigure $s -translation binary -blocking 0
    set deadline [expr {[clock milliseconds] + $ms}]
    try {
        set line [string trimright [Gets $s $deadline] \r]
        if {![regexp {^HTTP/1\.([01]) (\d+) } $line -> minor status]} {
            error "bad status line \"$line\""
        }
        set headers {}
        while {1} {
            set line [string trimright [Gets $s $deadline] \r]
            if {$line eq ""} {
                break
            }
            regexp {^([^:]+):\s*(.*)$} $line -> name value
            dict lappend headers [string tolower $name] $value
        }
        set body ""
        if {$method eq "HEAD" || $status in {101 204 304} || $status < 200} {
            # no body
        } elseif {[dict exists $headers content-length]} {
            set body [Read $s [lindex [dict get $headers content-length] 0] $deadline]
        } elseif {[dict exists $headers transfer-encoding]} {
            while {1} {
                set size [expr 0x[string trim [Gets $s $deadline]]]
                if {$size == 0} {
                    Gets $s $deadline
                    break
                }
                append body [Read $s $size $deadline]
                Gets $s $deadline
            }
        } else {
            set body [Read $s -1 $deadline]
        }
    } finally {
        fconfigure $s -blocking 1
    }
    foreach name [dict keys $headers] {
        if {[llength [dict get $headers $name]] == 1} {
            dict set headers $name [lindex [dict get $headers $name] 0]
        }
    }
    return [dict create status $status headers $headers body $body version 1.$minor]
}

#
# nstest::Gets, nstest::Read --
#
#       A line (without its LF), or size bytes (-1: up to EOF), from a
#       non-blocking socket, waiting in the event loop until the deadline
#       (clock milliseconds).  An early EOF or the deadline is an error.
#
proc ::nstest::Gets {s deadline} {
    while {[gets $s line] < 0} {
        if {[eof $s]} {
            error "connection closed by the server"
        }
        WaitReadable $s $deadline
    }
    return $line
}

proc ::nstest::Read {s size deadline} {
    set data ""
    while {$size < 0 || [string length $data] < $size} {
        if {$size < 0} {
            append data [read $s]
        } else {
            append data [read $s [expr {$size - [string length $data]}]]
        }
        if {$size >= 0 && [string length $data] >= $size} {
            break
        }
        if {[eof $s]} {
            if {$size < 0} {
                break
            }
            error "connection closed by the server after [string length $data] of $size bytes"
        }
        WaitReadable $s $deadline
    }
    return $data
}

proc ::nstest::WaitReadable {s deadline} {
    set left [expr {$deadline - [clock milliseconds]}]
    if {$left <= 0} {
        error "timeout waiting for the server"
    }
    set ::nstest::readable($s) ""
    fileevent $s readable [list set ::nstest::readable($s) 1]
    set id [after $left [list set ::nstest::readable($s) timeout]]
    vwait ::nstest::readable($s)
    after cancel $id
    fileevent $s readable {}
    set what $::nstest::readable($s)
    unset ::nstest::readable($s)
    if {$what eq "timeout"} {
        error "timeout waiting for the server"
    }
}

#
# nstest::http --
#
#       One HTTP request on a new connection:
#           nstest::http ?-method M? ?-headers {n v ...}? ?-body b? ?-version 1.1?
#                        port path
#       A Host header in -headers replaces the default one.
#       Returns the response dict of readResponse.
#
proc ::nstest::http {args} {
    set port [lindex $args end-1]
    set path [lindex $args end]
    array set opt {-method GET -headers {} -body "" -version 1.1}
    array set opt [lrange $args 0 end-2]
    set s [connect $port]
    set req "$opt(-method) $path HTTP/$opt(-version)\r\n"
    if {[lsearch -nocase [dict keys $opt(-headers)] host] < 0} {
        append req "Host: 127.0.0.1:$port\r\n"
    }
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

#
# nstest::waitFor --
#
#       Wait, in the event loop, until the expression (evaluated in the
#       caller's scope) is true, polling every 20 ms for at most ms
#       milliseconds: a watchdog around an event the test cannot get a
#       callback for.  Returns 1 when it became true.
#
proc ::nstest::waitFor {expression {ms 10000}} {
    set deadline [expr {[clock milliseconds] + $ms}]
    while {![uplevel 1 [list expr $expression]]} {
        if {[clock milliseconds] >= $deadline} {
            return 0
        }
        set ::nstest::tick ""
        set id [after 20 {set ::nstest::tick 1}]
        vwait ::nstest::tick
        after cancel $id
    }
    return 1
}

#
# nstest::evalPage --
#
#       A Tcl page that evaluates the request body in a connection interp
#       of a test server (never part of a real config), and answers
#       {code result errorcode}.  Tests put it into -pages as _eval.tcl and
#       call nstest::eval, or under another name and call nstest::evalCode.
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
#       Run script in server h (through its _eval.tcl page); returns its
#       result or raises its error, with its message and -errorcode.
#
proc ::nstest::eval {h script} {
    set r [http -method POST -body $script [dict get $h port] /_eval.tcl]
    if {[dict get $r status] != 200} {
        error "eval page answered [dict get $r status]: [dict get $r body]"
    }
    lassign [encoding convertfrom utf-8 [dict get $r body]] code result errorcode
    if {$code == 1} {
        return -code error -errorcode $errorcode $result
    }
    return $result
}

#
# nstest::evalCode --
#
#       Like nstest::eval, to the eval page at path of the server listening
#       on port, but never raises: returns {code result errorcode}.
#
proc ::nstest::evalCode {port script {path /eval.tcl}} {
    set r [http -method POST -body $script $port $path]
    if {[dict get $r status] != 200} {
        error "eval page answered [dict get $r status]: [dict get $r body]"
    }
    return [encoding convertfrom utf-8 [dict get $r body]]
}

#
# nstest::headerLines --
#
#       The head of a raw response with the Date header left out, as a
#       list of lines (for comparing whole responses).
#
proc ::nstest::headerLines {reply} {
    set head [lindex [split [string map {\r\n\r\n \x00} $reply] \x00] 0]
    set lines {}
    foreach line [split [string map {\r\n \n} $head] \n] {
        if {![string match -nocase "date:*" $line]} {
            lappend lines $line
        }
    }
    return $lines
}

#
# nstest::bodyOf --
#
#       What follows the head of a raw response.
#
proc ::nstest::bodyOf {reply} {
    set i [string first \r\n\r\n $reply]
    return [expr {$i < 0 ? "" : [string range $reply [expr {$i + 4}] end]}]
}
