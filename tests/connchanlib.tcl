#
# connchanlib.tcl --
#
#       What ns_connchan.test and ns_connchan_tls.test share: the test
#       server's pages, client-side helpers (reading from sockets with a
#       watchdog, polling the server with a deadline, detached channels,
#       WebSocket frames as a client sends them) and server-side helpers
#       prepended to evaluated scripts.  Expects testlib.tcl,
#       and the globals srv (the server handle) and port (its http port).
#
#       Scripts run in the server through the _eval.tcl page (nstest::eval),
#       in a connection thread; callbacks run in the event thread's interp,
#       so they are self-contained "apply" lambdas and report through nsv or
#       the log.
#

namespace eval t {
    variable module [list nswebsocket [file join $::nstest::root bin nswebsocket.so]]
    #
    # Pages of the test server.
    #   detach.tcl         detach; the channel sends its own name and a newline
    #   detach-cd.tcl      the same, with ns_conn clientdata set first
    #   detach-checks.tcl  what still works in the request after detach
    #   detach-thread.tcl  another thread writes the whole response
    #
    variable pages [list \
        _eval.tcl [nstest::evalPage] \
        hello.html "hello world" \
        echo.tcl {ns_return 200 text/plain \
                      "[ns_conn method] [ns_conn version] [ns_set iget [ns_conn headers] x-test]"} \
        detach.tcl {set ch [ns_connchan detach]; ns_connchan write $ch "$ch\n"} \
        detach-cd.tcl {
            ns_conn clientdata "my client data"
            set ch [ns_connchan detach]
            ns_connchan write $ch "$ch\n"
        } \
        detach-checks.tcl {
            set ch [ns_connchan detach]
            set out {}
            foreach cmd {{ns_write foo} {ns_return 200 text/plain ok?} {ns_returnredirect /foo}} {
                catch $cmd msg opts
                lappend out $msg [dict get $opts -errorcode]
            }
            lappend out [ns_conn url] [ns_conn method] [ns_conn peeraddr] [ns_conn driver] \
                [ns_set iget [ns_conn headers] x-test]
            ns_connchan write $ch "HTTP/1.0 200 OK\r\n\r\n$out"
            ns_connchan close $ch
        } \
        detach-thread.tcl {
            set ch [ns_connchan detach]
            ns_thread create -detached [list apply {{ch} {
                set body "written by another thread on $ch"
                ns_connchan write $ch "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n"
                ns_connchan write $ch "Content-Length: [string length $body]\r\n\r\n$body"
                ns_connchan close $ch
            }} $ch]
        } \
    ]
}

#
# t::ev --
#
#       Run a script in the test server (a connection thread).
#
proc t::ev {script} {
    return [nstest::eval $::srv $script]
}

#
# t::evAsync, t::evResult --
#
#       nstest::eval in two halves: send the script, and later read the
#       result, so that this client can act while the script runs.
#
proc t::evAsync {script} {
    set e [nstest::connect $::port]
    set body [encoding convertto utf-8 $script]
    puts -nonewline $e "POST /_eval.tcl HTTP/1.0\r\nContent-Length: [string length $body]\r\n\r\n"
    puts -nonewline $e $body
    return $e
}

proc t::evResult {e} {
    try {
        set r [nstest::readResponse $e]
    } finally {
        close $e
    }
    lassign [encoding convertfrom utf-8 [dict get $r body]] code result errorcode
    if {$code == 1} {
        return -code error -errorcode $errorcode $result
    }
    return $result
}

#
# t::Readable --
#
#       Wait until socket s is readable or ms pass; 1 when readable.
#
proc t::Readable {s ms} {
    set ::t::event ""
    fileevent $s readable {set ::t::event readable}
    set id [after [expr {max($ms, 1)}] {set ::t::event timeout}]
    vwait ::t::event
    after cancel $id
    fileevent $s readable {}
    return [expr {$::t::event eq "readable"}]
}

#
# t::recv --
#
#       Read n bytes from a client socket: returns when they came, at EOF,
#       or after ms with what came so far.
#
proc t::recv {s n {ms 5000}} {
    fconfigure $s -blocking 0
    set deadline [expr {[clock milliseconds] + $ms}]
    set data ""
    while {[string length $data] < $n} {
        append data [read $s [expr {$n - [string length $data]}]]
        if {[string length $data] >= $n || [eof $s]} {
            break
        }
        if {![Readable $s [expr {$deadline - [clock milliseconds]}]]} {
            break
        }
    }
    fconfigure $s -blocking 1
    return $data
}

#
# t::recvLine --
#
#       One line from a client socket (without the newline), or an error
#       after ms.
#
proc t::recvLine {s {ms 5000}} {
    fconfigure $s -blocking 0
    set deadline [expr {[clock milliseconds] + $ms}]
    try {
        while {[gets $s line] < 0} {
            if {[eof $s] || ![Readable $s [expr {$deadline - [clock milliseconds]}]]} {
                error "no line from the server"
            }
        }
        return $line
    } finally {
        fconfigure $s -blocking 1
    }
}

#
# t::recvAll --
#
#       Read from a client socket until EOF: returns {data how}, how being
#       eof, reset (the server reset the connection) or timeout.
#
proc t::recvAll {s {ms 5000}} {
    fconfigure $s -blocking 0
    set deadline [expr {[clock milliseconds] + $ms}]
    set data ""
    set how timeout
    while {1} {
        if {[catch {read $s} chunk]} {
            set how reset
            break
        }
        append data $chunk
        if {[eof $s]} {
            set how eof
            break
        }
        if {![Readable $s [expr {$deadline - [clock milliseconds]}]]} {
            break
        }
    }
    fconfigure $s -blocking 1
    return [list $data $how]
}

#
# t::channel --
#
#       A fresh channel: a client socket whose request (to page, by default
#       detach.tcl) was detached.  Returns {socket channelName}.
#
proc t::channel {{page detach.tcl}} {
    set s [nstest::connect $::port]
    puts -nonewline $s "GET /$page HTTP/1.0\r\nX-Test: abc\r\n\r\n"
    return [list $s [recvLine $s]]
}

#
# t::closeChannel --
#
#       Cleanup: close the client socket and the channel, whatever state
#       either is in.
#
proc t::closeChannel {s ch} {
    catch {close $s}
    catch {ev [list ns_connchan close $ch]}
}

#
# t::entry --
#
#       The ns_connchan list entry of a channel ("" when not listed).
#
proc t::entry {ch} {
    return [ev "lsearch -inline -index 0 \[ns_connchan list\] $ch"]
}

#
# t::exists --
#
proc t::exists {ch} {
    return [ev [list ns_connchan exists $ch]]
}

#
# t::wsFrame --
#
#       A WebSocket frame as a client sends it (masked with a fixed key),
#       built here independently of wsencode.
#
proc t::wsFrame {opcode payload {fin 1} {key {0x37 0xfa 0x21 0x3d}}} {
    set len [string length $payload]
    set frame [binary format c [expr {($fin ? 0x80 : 0) | $opcode}]]
    if {$len < 126} {
        append frame [binary format c [expr {0x80 | $len}]]
    } elseif {$len < 65536} {
        append frame [binary format cS [expr {0x80 | 126}] $len]
    } else {
        append frame [binary format cW [expr {0x80 | 127}] $len]
    }
    append frame [binary format c4 $key]
    binary scan $payload cu* bytes
    set i 0
    set masked {}
    foreach b $bytes {
        lappend masked [expr {$b ^ ([lindex $key [expr {$i % 4}]] & 0xff)}]
        incr i
    }
    append frame [binary format c* $masked]
    return $frame
}

#
# t::readFrame --
#
#       ns_connchan read -websocket in the server, repeated (each a round
#       trip, no sleeping) until the frame is complete or at least minBytes
#       are buffered: bytes the client just wrote may still be on their way.
#
proc t::readFrame {ch {minBytes Inf} {ms 5000}} {
    set deadline [expr {[clock milliseconds] + $ms}]
    while {1} {
        set r [ev [list ns_connchan read -websocket $ch]]
        if {$r eq "" || [dict get $r frame] eq "complete"
            || ($minBytes ne "Inf" && [dict get $r unprocessed] >= $minBytes)
            || [clock milliseconds] > $deadline} {
            return $r
        }
    }
}

#
# t::lines --
#
#       n lines "0000000\n", "0000001\n", ...: data whose order can be checked.
#
proc t::lines {n} {
    set data ""
    for {set i 0} {$i < $n} {incr i} {
        append data [format %07d\n $i]
    }
    return $data
}

#
# Server-side helpers, prepended to the scripts that need them.
#
set t::lib {
    # Give a channel a receive timeout (only ns_connchan callback sets it),
    # with a callback that fires only at shutdown and does nothing.
    proc withTimeout {ch {timeout 5s}} {
        ns_connchan callback -receivetimeout $timeout $ch {apply {{why} {return 0}}} x
    }
    # Read until EOF; the channel has a receive timeout.
    proc readToEof {ch} {
        set data ""
        while {[set chunk [ns_connchan read $ch]] ne ""} {
            append data $chunk
        }
        return $data
    }
}

proc t::evLib {script} {
    return [ev "$::t::lib\n$script"]
}

#
# t::echo --
#
#       A callback: echo what comes with the reason in front; at EOF note it
#       in nsv (t echo-CHANNEL) and close.  Append the channel name.
#
set t::echo {apply {{ch why} {
    set data [ns_connchan read $ch]
    if {$data eq ""} {
        nsv_set t echo-$ch eof-$why
        return 0
    }
    ns_connchan write $ch "$why:$data"
    return 1
}}}

#
# t::splitFrame --
#
#       Write a frame one byte at a time and read after each byte: returns
#       the dicts of the reads before the last byte that were not
#       "incomplete with all bytes so far", and the last dict.
#
proc t::splitFrame {s ch frame} {
    set bad {}
    set len [string length $frame]
    for {set i 0} {$i < $len - 1} {incr i} {
        puts -nonewline $s [string index $frame $i]
        set r [readFrame $ch [expr {$i + 1}]]
        if {[dict get $r frame] ne "incomplete" || [dict get $r unprocessed] != $i + 1
            || [dict get $r havedata] != 0 || [dict exists $r payload]} {
            lappend bad $i $r
        }
    }
    puts -nonewline $s [string index $frame end]
    return [list $bad [readFrame $ch]]
}
