#
# wslib.tcl --
#
#       A WebSocket client for the tests, in plain Tcl: what websocket.test,
#       ws_conformance.test and ws_multicast.test share.  It speaks RFC 6455
#       over a raw binary socket, or over TLS through an "openssl s_client"
#       pipe (nstest::tlsOpen), and builds every frame itself, so that tests
#       can send what a real client never would (unmasked frames, reserved
#       bits, bad lengths, frames split at any byte).  Frames are built
#       independently of the server's code; the masking follows t::wsFrame
#       of connchanlib.tcl, a word at a time so that large payloads stay
#       cheap.
#
#       Channels are non-blocking: writes never block (Tcl flushes them in
#       the background while we wait for input), and every read waits in
#       the event loop with a deadline, so a server that stops answering
#       fails a test instead of hanging it.  Errors carry an -errorcode:
#       {WST EOF}, {WST RESET}, {WST TIMEOUT}, {WST HANDSHAKE}.
#
#       Expects testlib.tcl.
#

namespace eval ::wst {
    # The key and accept value of RFC 6455 section 1.3, and a second pair.
    variable key     dGhlIHNhbXBsZSBub25jZQ==
    variable accept  s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
    variable key2    AQIDBAUGBwgJCgsMDQ4PEA==
    variable accept2 C/0nmHhBztSRGR1CwL6Tf4ZjwpY=
    # Payloads above this size are masked with the all-zero key (legal, and
    # masking them a word at a time in Tcl would dominate the test's time).
    variable maskLimit 131072
}

#
# wst::open --
#
#       A transport to 127.0.0.1:port: a socket, or with tls an s_client
#       pipe.  Binary, non-blocking, unbuffered.
#
proc ::wst::open {port {tls 0}} {
    if {$tls} {
        # Without the system's CA store s_client starts in a few ms, not 40.
        set s [nstest::tlsOpen $port -no-CAfile -no-CApath -no-CAstore]
    } else {
        set s [socket 127.0.0.1 $port]
    }
    fconfigure $s -translation binary -blocking 0 -buffering none -buffersize 1048576
    set ::wst::in($s) ""
    set ::wst::pos($s) 0
    set ::wst::tls($s) $tls
    return $s
}

#
# wst::close --
#
#       Close a transport from wst::open, whatever state it is in.
#
proc ::wst::close {s} {
    if {![info exists ::wst::tls($s)]} {
        return
    }
    if {$::wst::tls($s)} {
        if {![catch {eof $s} eof] && $eof} {
            # s_client is gone already (the server closed): no kill needed.
            catch {::close $s}
            file delete $::nstest::tlsLog($s)
            unset ::nstest::tlsLog($s)
        } else {
            nstest::tlsClose $s
        }
    } else {
        catch {::close $s}
    }
    unset -nocomplain ::wst::in($s) ::wst::pos($s) ::wst::tls($s)
}

#
# wst::write --
#
#       Send bytes; 0 when the peer is gone (the write failed).
#
proc ::wst::write {s data} {
    return [expr {![catch {puts -nonewline $s $data; flush $s}]}]
}

#
# wst::writeChops --
#
#       Send bytes in pieces of size bytes, each flushed on its own.
#
proc ::wst::writeChops {s data size} {
    set n [string length $data]
    for {set i 0} {$i < $n} {incr i $size} {
        if {![write $s [string range $data $i [expr {$i + $size - 1}]]]} {
            return 0
        }
    }
    return 1
}

#
# wst::drained --
#
#       Wait until everything written has left Tcl's buffer (the kernel
#       took it), or ms pass.
#
proc ::wst::drained {s {ms 10000}} {
    set deadline [expr {[clock milliseconds] + $ms}]
    while {[catch {chan pending output $s} n] == 0 && $n > 0} {
        if {[clock milliseconds] > $deadline} {
            return 0
        }
        set ::wst::tick ""
        set id [after 5 {set ::wst::tick 1}]
        vwait ::wst::tick
        after cancel $id
    }
    return 1
}

#
# wst::Readable --
#
#       Wait until s is readable; an error {WST TIMEOUT} after the deadline.
#
proc ::wst::Readable {s deadline} {
    set left [expr {$deadline - [clock milliseconds]}]
    if {$left <= 0} {
        return -code error -errorcode {WST TIMEOUT} "timeout waiting for the server"
    }
    set ::wst::event ""
    fileevent $s readable {set ::wst::event readable}
    set id [after $left {set ::wst::event timeout}]
    vwait ::wst::event
    after cancel $id
    catch {fileevent $s readable {}}
    if {$::wst::event eq "timeout"} {
        return -code error -errorcode {WST TIMEOUT} "timeout waiting for the server"
    }
}

#
# wst::Fill --
#
#       Make sure the input buffer holds n bytes from the current position.
#
proc ::wst::Fill {s n deadline} {
    upvar #0 ::wst::in($s) in ::wst::pos($s) pos
    while {[string length $in] - $pos < $n} {
        if {[catch {read $s} data]} {
            return -code error -errorcode {WST RESET} "connection reset: $data"
        }
        if {[string length $data] > 0} {
            append in $data
            continue
        }
        if {[eof $s]} {
            return -code error -errorcode {WST EOF} "connection closed by the server"
        }
        Readable $s $deadline
    }
}

#
# wst::Take --
#
#       Take n bytes (already there) from the input buffer.
#
proc ::wst::Take {s n} {
    upvar #0 ::wst::in($s) in ::wst::pos($s) pos
    set data [string range $in $pos [expr {$pos + $n - 1}]]
    incr pos $n
    if {$pos >= 1048576 || $pos == [string length $in]} {
        set in [string range $in $pos end]
        set pos 0
    }
    return $data
}

#
# wst::mask --
#
#       XOR a payload with a 4-byte key (masking and unmasking).
#
proc ::wst::mask {key payload} {
    if {$key eq "\0\0\0\0"} {
        return $payload
    }
    set n [string length $payload]
    binary scan $key Iu k
    binary scan $payload[string repeat \0 [expr {(4 - $n % 4) % 4}]] Iu* words
    return [string range [binary format I* [lmap w $words {expr {$w ^ $k}}]] 0 $n-1]
}

#
# wst::frame --
#
#       A frame as a client sends it:
#           wst::frame opcode payload ?-fin 0|1? ?-rsv 0..7? ?-mask key|none?
#                      ?-length n?
#       payload is bytes (see wst::utf8).  -mask none sends it unmasked;
#       the default key is random (all zero for large payloads).  -length
#       announces another length than the payload's.
#
proc ::wst::frame {opcode payload args} {
    variable maskLimit
    array set o {-fin 1 -rsv 0 -mask default -length ""}
    array set o $args
    set len [string length $payload]
    set announced [expr {$o(-length) eq "" ? $len : $o(-length)}]
    if {$o(-mask) eq "default"} {
        if {$len > $maskLimit} {
            set o(-mask) "\0\0\0\0"
        } else {
            set o(-mask) [binary format c4 [lmap i {1 2 3 4} {expr {int(rand() * 256)}}]]
        }
    }
    set m [expr {$o(-mask) eq "none" ? 0 : 0x80}]
    set frame [binary format c [expr {($o(-fin) ? 0x80 : 0) | ($o(-rsv) << 4) | $opcode}]]
    if {$announced < 126} {
        append frame [binary format c [expr {$m | $announced}]]
    } elseif {$announced < 65536} {
        append frame [binary format cS [expr {$m | 126}] $announced]
    } else {
        append frame [binary format cW [expr {$m | 127}] $announced]
    }
    if {$m} {
        append frame $o(-mask) [mask $o(-mask) $payload]
    } else {
        append frame $payload
    }
    return $frame
}

#
# wst::frames --
#
#       Several frames, each given as the arguments of wst::frame:
#           wst::frames {1 fragment1 -fin 0} {0 fragment2}
#
proc ::wst::frames {args} {
    set out ""
    foreach spec $args {
        append out [frame {*}$spec]
    }
    return $out
}

#
# wst::request --
#
#       The bytes of an upgrade request for path, with the headers of a
#       valid one (those in headers, a dict, replace or add to them).
#
proc ::wst::request {path {headers {}}} {
    variable key
    set all [dict merge [list Host 127.0.0.1 Upgrade websocket Connection Upgrade \
                             Sec-WebSocket-Key $key Sec-WebSocket-Version 13] $headers]
    set req "GET $path HTTP/1.1\r\n"
    dict for {n v} $all {
        append req "$n: $v\r\n"
    }
    return "$req\r\n"
}

#
# wst::utf8, wst::hex --
#
#       Text as UTF-8 bytes; bytes from hex.
#
proc ::wst::utf8 {text} {
    return [encoding convertto utf-8 $text]
}

proc ::wst::hex {hex} {
    return [binary format H* [string map {" " ""} $hex]]
}

#
# wst::closePayload --
#
#       The payload of a close frame: a code and a reason (text).
#
proc ::wst::closePayload {code {reason ""}} {
    return [binary format S $code][utf8 $reason]
}

#
# wst::send --
#
#       Build a frame (wst::frame arguments) and send it.
#
proc ::wst::send {s opcode payload args} {
    return [write $s [frame $opcode $payload {*}$args]]
}

#
# wst::handshake --
#
#       Send an upgrade request for path and read the response head:
#           wst::handshake s path ?-key k? ?-headers {name value ...}?
#                          ?-host h? ?-ms ms?
#       Returns a dict: status, headers (lower-case names, values as lists
#       when repeated), head (the raw head), chunks (the number of reads
#       the head took).  Bytes after the head stay for the frame reader.
#
proc ::wst::handshake {s path args} {
    variable key
    array set o [list -key $key -headers {} -host 127.0.0.1 -ms 5000]
    array set o $args
    set req "GET $path HTTP/1.1\r\nHost: $o(-host)\r\nUpgrade: websocket\r\n"
    append req "Connection: Upgrade\r\nSec-WebSocket-Key: $o(-key)\r\n"
    append req "Sec-WebSocket-Version: 13\r\n"
    foreach {n v} $o(-headers) {
        append req "$n: $v\r\n"
    }
    append req "\r\n"
    write $s $req
    return [ReadHead $s $o(-ms)]
}

proc ::wst::ReadHead {s ms} {
    upvar #0 ::wst::in($s) in ::wst::pos($s) pos
    set deadline [expr {[clock milliseconds] + $ms}]
    set chunks 0
    while {[set end [string first "\r\n\r\n" $in $pos]] < 0} {
        set have [expr {[string length $in] - $pos}]
        Fill $s [expr {$have + 1}] $deadline
        incr chunks
    }
    set head [Take $s [expr {$end + 4 - $pos}]]
    set lines [split [string trimright $head \r\n] \n]
    set status [lindex [regexp -inline {^HTTP/1\.[01] (\d+)} [lindex $lines 0]] 1]
    set headers {}
    foreach line [lrange $lines 1 end] {
        if {[regexp {^([^:]+):\s*(.*?)\r?$} $line -> n v]} {
            dict lappend headers [string tolower $n] $v
        }
    }
    dict for {n v} $headers {
        if {[llength $v] == 1} {
            dict set headers $n [lindex $v 0]
        }
    }
    return [dict create status $status headers $headers head $head chunks $chunks]
}

#
# wst::connect --
#
#       A WebSocket to the server: open, upgrade, check the 101 and its
#       Sec-WebSocket-Accept.
#           wst::connect port ?-tls 0|1? ?-path p? ?handshake options?
#       Returns the channel; the handshake response is in ::wst::response.
#
proc ::wst::connect {port args} {
    variable accept
    variable key
    array set o [list -tls 0 -path /websocket/echo -key $key]
    array set o $args
    set s [open $port $o(-tls)]
    set opts [array get o]
    dict unset opts -tls
    dict unset opts -path
    try {
        set r [handshake $s $o(-path) {*}$opts]
    } on error {msg opts} {
        close $s
        return -options $opts $msg
    }
    set ::wst::response $r
    set want [expr {$o(-key) eq $key ? $accept : $::wst::accept2}]
    if {[dict get $r status] != 101
        || ![dict exists $r headers sec-websocket-accept]
        || [dict get $r headers sec-websocket-accept] ne $want} {
        close $s
        return -code error -errorcode {WST HANDSHAKE} \
            "handshake failed: [string trim [dict get $r head]]"
    }
    return $s
}

#
# wst::recvFrame --
#
#       The next frame from the server, as a dict: fin rsv opcode masked
#       payload (unmasked).  Errors {WST EOF}, {WST RESET}, {WST TIMEOUT}.
#
proc ::wst::recvFrame {s {ms 5000}} {
    upvar #0 ::wst::in($s) in ::wst::pos($s) pos
    set deadline [expr {[clock milliseconds] + $ms}]
    Fill $s 2 $deadline
    binary scan $in @${pos}cucu b0 b1
    set len [expr {$b1 & 0x7f}]
    set hlen 2
    if {$len == 126} {
        Fill $s 4 $deadline
        binary scan $in @[expr {$pos + 2}]Su len
        set hlen 4
    } elseif {$len == 127} {
        Fill $s 10 $deadline
        binary scan $in @[expr {$pos + 2}]Wu len
        set hlen 10
    }
    set masked [expr {($b1 & 0x80) != 0}]
    Fill $s [expr {$hlen + ($masked ? 4 : 0) + $len}] $deadline
    Take $s $hlen
    set key [expr {$masked ? [Take $s 4] : ""}]
    set payload [Take $s $len]
    if {$masked} {
        set payload [mask $key $payload]
    }
    return [dict create fin [expr {($b0 & 0x80) != 0}] rsv [expr {($b0 >> 4) & 7}] \
                opcode [expr {$b0 & 0x0f}] masked $masked payload $payload]
}

#
# wst::next --
#
#       The next event from the server: a whole data message {text bytes}
#       or {binary bytes} (fragments put together), a control frame
#       {ping bytes}, {pong bytes}, {close code reason} (code "" when the
#       payload was empty), a frame with another opcode {opcode N}, a
#       masked frame {masked}, or the end: {eof}, {reset}, {timeout}.
#
proc ::wst::next {s {ms 5000}} {
    set deadline [expr {[clock milliseconds] + $ms}]
    set type ""
    set data ""
    while {1} {
        set left [expr {max(1, $deadline - [clock milliseconds])}]
        try {
            set f [recvFrame $s $left]
        } trap {WST EOF} {} {
            return eof
        } trap {WST RESET} {} {
            return reset
        } trap {WST TIMEOUT} {} {
            return timeout
        }
        if {[dict get $f masked]} {
            return masked
        }
        set payload [dict get $f payload]
        switch -- [dict get $f opcode] {
            0 {
                append data $payload
                if {[dict get $f fin]} {
                    return [list $type $data]
                }
            }
            1 - 2 {
                set type [expr {[dict get $f opcode] == 1 ? "text" : "binary"}]
                set data $payload
                if {[dict get $f fin]} {
                    return [list $type $data]
                }
            }
            8 {
                set code ""
                set reason ""
                if {[string length $payload] >= 2} {
                    binary scan $payload Su code
                    set reason [encoding convertfrom utf-8 [string range $payload 2 end]]
                }
                return [list close $code $reason]
            }
            9 {
                return [list ping $payload]
            }
            10 {
                return [list pong $payload]
            }
            default {
                return [list opcode [dict get $f opcode]]
            }
        }
    }
}

#
# wst::collect --
#
#       Events (wst::next) until the connection ends or ms pass:
#           wst::collect s ?-ms ms? ?-reply 0|1? ?-short 0|1?
#       With -reply, a close from the server is answered with a close
#       frame echoing its code.  With -short (the default), a close
#       reason is left out and a message longer than 64 bytes is shown as
#       {text|binary length N}.  The list ends with eof, reset or timeout.
#
proc ::wst::collect {s args} {
    array set o {-ms 5000 -reply 0 -short 1}
    array set o $args
    set deadline [expr {[clock milliseconds] + $o(-ms)}]
    set events {}
    while {1} {
        set e [next $s [expr {$deadline - [clock milliseconds]}]]
        set kind [lindex $e 0]
        if {$kind eq "close" && $o(-reply)} {
            set code [lindex $e 1]
            send $s 8 [expr {$code eq "" ? "" : [binary format S $code]}]
        }
        if {$o(-short)} {
            if {$kind eq "close"} {
                set e [lrange $e 0 1]
            } elseif {$kind in {text binary} && [string length [lindex $e 1]] > 64} {
                set e [list $kind length [string length [lindex $e 1]]]
            }
        }
        lappend events $e
        if {$kind in {eof reset timeout}} {
            return $events
        }
    }
}

#
# wst::closeNormally --
#
#       The client's side of a normal close: send close 1000 and collect
#       what follows (normally {close 1000} eof).
#
proc ::wst::closeNormally {s {ms 5000}} {
    send $s 8 [closePayload 1000]
    return [collect $s -ms $ms]
}

#
# wst::urlencode --
#
#       Percent-encode a query value (UTF-8).
#
proc ::wst::urlencode {value} {
    set out ""
    foreach byte [split [encoding convertto utf-8 $value] ""] {
        if {[string match {[A-Za-z0-9_.~-]} $byte]} {
            append out $byte
        } else {
            binary scan $byte H2 h
            append out %[string toupper $h]
        }
    }
    return $out
}

#
# wst::makeCert --
#
#       A self-signed certificate for localhost and 127.0.0.1 in dir
#       (cert.pem, key.pem); an EC key keeps TLS handshakes cheap.
#       Returns dir.
#
proc ::wst::makeCert {dir} {
    file delete -force $dir
    file mkdir $dir
    exec openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
        -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
        -keyout $dir/key.pem -out $dir/cert.pem 2>@1
    return $dir
}

#
# wst::tlsConfig --
#
#       The config lines of an https driver (nsssl) on 127.0.0.1 port 0
#       with the certificate of wst::makeCert.
#
proc ::wst::tlsConfig {dir} {
    return [subst {
        ns_section ns/modules { ns_param https nsssl }
        ns_section ns/module/https {
            ns_param address     127.0.0.1
            ns_param port        0
            ns_param certificate [list $dir/cert.pem]
            ns_param key         [list $dir/key.pem]
        }
    }]
}

#
# wst::stillServes --
#
#       A new client still gets its echo from a server's page (the
#       module's echo service by default): the server is not held up.
#       Returns the client's event, {text {still here}} when served.
#
proc ::wst::stillServes {port {path /websocket/echo}} {
    set s [connect $port -path $path]
    try {
        send $s 1 [utf8 "still here"]
        return [next $s 10000]
    } finally {
        close $s
    }
}
