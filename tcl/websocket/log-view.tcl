#
# log-view.tcl -- the sample log viewer: "tail -f" of the server's logs in
# a browser.
#
# Every URL in the "urls" parameter of
# ns/server/$server/module/websocket/log-view is a viewer of its own: the
# page (log-view.html) at URL, its WebSocket at URL/connect, and the
# severity switches at URL/set.  Without the section, or with empty urls,
# there is no viewer.
#
#   URL?log=access   the access log (the default)     (also: access.log)
#   URL?log=error    the server log                   (also: error.log)
#
# Only these two files can be shown: the names map to the paths the server
# itself logs to (ns_accesslog file, ns_info log); nothing from the request
# ever becomes a path.  The viewer shows internals, so every request to it
# is first checked against the "allow" list of client addresses (403), and
# then, when "user" and "password" are set, against HTTP Basic credentials
# (401).  A request with an Origin header from another site is refused, so
# that no other page a browser has open can read the logs or flip switches.
#
# One watcher thread, started with the first viewer, follows every file
# that has viewers: each file is open once, however many viewers there are.
# Every "refresh" ms it reads what was appended, and multicasts the complete
# lines to the subscription "log-view:URL:KIND" of every viewer URL.  It
# notices rotation (the path names another file: the old one is read to its
# end first) and truncation (the file got shorter: read from its start).
# A new viewer is served by the watcher too: the last lines of the file up
# to the point the others have seen, then the same multicasts; nothing is
# lost or shown twice in between.
#

namespace eval ::ws::logview {
    variable section  ns/server/[ns_info server]/module/websocket/log-view
    variable urls     [::ws::app::urls $section]
    variable refresh  [::ws::app::intParam $section refresh 1000 50]
    variable user     [ns_config $section user ""]
    variable password [ns_config $section password ""]
    variable template [::ws::app::template log-view.html]
    variable tailLines 100      ;# lines a new viewer gets from before it came
    variable maxChunk 262144    ;# bytes of new lines sent per file and refresh, at most
    variable nsv ws:logview:[ns_info server]   ;# watcher state: started running wake joiners

    #
    # page --
    #
    #       The viewer page at url.
    #
    proc page {url} {
        variable template
        variable refresh
        if {![Authorized] || [set kind [Kind]] eq ""} {
            return
        }
        ::ws::app::returnPage [::ws::app::render $template [dict create \
            URL $url LOG $kind FILE [Path $kind] REFRESH $refresh SEVERITIES [Severities]]]
    }

    #
    # connect --
    #
    #       URL/connect?log=KIND: a new viewer.  The watcher sends it the
    #       tail of the file and subscribes it.
    #
    proc connect {url} {
        variable nsv
        if {![Authorized] || [set kind [Kind]] eq ""} {
            return
        }
        if {![SameOrigin]} {
            ns_returnforbidden
            return
        }
        set channel [ws::handshake -maxmessage 1024]
        if {$channel ne ""} {
            nsv_lappend $nsv joiners [list $url $kind $channel]
            StartWatcher
        }
    }

    #
    # severities --
    #
    #       URL/set: the severities of the server log and whether each is
    #       logged, as a JSON object.  A POST with fields SEVERITY=BOOLEAN
    #       (in the query or the urlencoded body) switches them first, as
    #       "ns_logctl severity" does.
    #
    proc severities {url} {
        if {![Authorized]} {
            return
        }
        if {[ns_conn method] eq "POST"} {
            if {![SameOrigin]} {
                ns_returnforbidden
                return
            }
            set form [ns_getform]
            set known [ns_logctl severities]
            set changes {}
            for {set i 0} {$form ne "" && $i < [ns_set size $form]} {incr i} {
                lassign [list [ns_set key $form $i] [ns_set value $form $i]] name value
                if {$name ni $known} {
                    ns_returnbadrequest "unknown severity \"$name\""
                    return
                }
                if {![string is boolean -strict $value]} {
                    ns_returnbadrequest "\"$value\" is no boolean (severity \"$name\")"
                    return
                }
                lappend changes $name $value
            }
            foreach {name value} $changes {
                ns_logctl severity $name $value
            }
            if {[llength $changes] > 0} {
                ns_log notice "log-view: [ns_conn peeraddr] switched severities: $changes"
            }
        }
        ns_set update [ns_conn outputheaders] Cache-Control no-store
        ns_return 200 application/json [Severities]
    }

    #
    # Severities --
    #
    #       The severities of the server log as a JSON object: name -> true
    #       when it is logged.
    #
    proc Severities {} {
        set members {}
        foreach name [lsort -dictionary [ns_logctl severities]] {
            lappend members "[::ws::app::json $name]:[expr {[ns_logctl severity $name]
                                                            ? "true" : "false"}]"
        }
        return "{[join $members ,]}"
    }

    #
    # Kind --
    #
    #       Which log the request asks for: "access" or "error".  Anything
    #       else is answered with 400, and "" returned.
    #
    proc Kind {} {
        set log [ns_queryget log access]
        switch -- $log {
            access - access.log { return access }
            error - error.log   { return error }
        }
        ns_returnbadrequest "unknown log \"$log\": the log-view shows \"access\" or \"error\""
        return ""
    }

    #
    # Path --
    #
    #       The file the server logs to, for a kind.
    #
    proc Path {kind} {
        return [expr {$kind eq "access" ? [ns_accesslog file] : [ns_info log]}]
    }

    #
    # Authorized --
    #
    #       Is the client allowed in?  If not, the answer (403, or 401 with a
    #       Basic challenge) is sent and 0 returned.
    #
    proc Authorized {} {
        variable user
        variable password
        if {![::ws::access::allowed log-view [ns_conn peeraddr]]} {
            ns_returnforbidden
            return 0
        }
        if {($user ne "" || $password ne "")
            && !([SameString [ns_conn authuser] $user]
                 & [SameString [ns_conn authpassword] $password])} {
            ns_set update [ns_conn outputheaders] WWW-Authenticate \
                {Basic realm="nsws log-view", charset="UTF-8"}
            ns_returnunauthorized
            return 0
        }
        return 1
    }

    #
    # SameString --
    #
    #       String equality in a time that does not depend on where the
    #       strings differ (for credentials).
    #
    proc SameString {a b} {
        set differ [expr {[string length $a] != [string length $b]}]
        foreach x [split $a ""] y [split $b ""] {
            set differ [expr {$differ | ($x ne $y)}]
        }
        return [expr {!$differ}]
    }

    #
    # SameOrigin --
    #
    #       Does the request come from a page of this server?  Browsers send
    #       Origin with WebSocket handshakes and POSTs; a request without it
    #       does not come from another site's page.
    #
    proc SameOrigin {} {
        set headers [ns_conn headers]
        set origin [ns_set iget $headers origin]
        if {$origin eq ""} {
            return 1
        }
        set host [string tolower [ns_set iget $headers host]]
        return [expr {[string tolower $origin] in [list http://$host https://$host]}]
    }

    #
    # StartWatcher --
    #
    #       Wake the watcher thread at once, and start it with the first
    #       viewer of the server's life.
    #
    proc StartWatcher {} {
        variable nsv
        nsv_set $nsv wake 1
        if {[nsv_incr $nsv started] == 1} {
            nsv_set $nsv running 1
            ns_thread create -detached -name log-view ::ws::logview::Watch
        }
    }

    #
    # StopWatcher --
    #
    #       At shutdown (ns_atshutdown): give the watcher a moment to close
    #       its files and end before the server exits.
    #
    proc StopWatcher {} {
        variable nsv
        set until [expr {[clock milliseconds] + 2000}]
        while {![catch {nsv_get $nsv running} running] && $running
               && [clock milliseconds] < $until} {
            ns_sleep 10ms
        }
    }

    #
    # Watch --
    #
    #       The watcher thread: a tick every refresh ms, or at once when a
    #       viewer comes, until the server shuts down.  Errors of a tick are
    #       logged once (the next tick tries again).
    #
    proc Watch {} {
        variable nsv
        variable refresh
        variable files
        array set files {}
        set lastError ""
        ns_log notice "log-view: watcher started, refresh $refresh ms"
        while {![ns_info shutdownpending]} {
            nsv_set $nsv wake 0
            if {[catch {Tick} message]} {
                if {$message ne $lastError} {
                    ns_log error "log-view: watcher: $::errorInfo"
                }
                set lastError $message
            } else {
                set lastError ""
            }
            set until [expr {[clock milliseconds] + $refresh}]
            while {[clock milliseconds] < $until && ![nsv_get $nsv wake]
                   && ![ns_info shutdownpending]} {
                ns_sleep [expr {min(50, max(1, $until - [clock milliseconds]))}]ms
            }
        }
        foreach kind [array names files] {
            Forget $kind
        }
        nsv_set $nsv running 0
    }

    #
    # Tick --
    #
    #       One round over the files: new lines to their viewers, the tail
    #       to new viewers.  A file without viewers is closed.
    #
    proc Tick {} {
        variable nsv
        variable urls
        variable files
        set joiners [nsv_set -reset $nsv joiners {}]
        foreach kind {access error} {
            set subscriptions {}
            set viewers 0
            foreach url $urls {
                set n [llength [ws::subscribers log-view:$url:$kind]]
                if {$n > 0} {
                    lappend subscriptions log-view:$url:$kind
                    incr viewers $n
                }
            }
            set new [lsearch -all -inline -index 1 -exact $joiners $kind]
            if {$viewers == 0 && [llength $new] == 0} {
                Forget $kind
                continue
            }
            set lines [Follow $kind]
            if {$lines ne ""} {
                foreach subscription $subscriptions {
                    ws::multicast -text $subscription $lines
                }
            }
            foreach joiner $new {
                lassign $joiner url - channel
                set tail [Tail $kind]
                if {$tail eq "" || [ws::send -text $channel $tail]} {
                    catch {ws::subscribe $channel log-view:$url:$kind}  ;# it may be gone
                }
            }
        }
    }

    #
    # Follow --
    #
    #       The complete lines appended to a kind's file since the last
    #       call, as a string (utf-8 decoded), or "".  The first call opens
    #       the file at its end; but a file that was missing then (moved
    #       away for a roll) is new when it comes, and read from its start.
    #
    proc Follow {kind} {
        variable files
        variable missing
        variable maxChunk
        set path [Path $kind]
        set notice ""
        if {[info exists files($kind)] && [dict get $files($kind) path] ne $path} {
            Forget $kind                ;# the server logs somewhere else now
        }
        if {![info exists files($kind)]} {
            set where [expr {[info exists missing($kind)] ? "start" : "end"}]
            if {$path eq "" || ![Open $kind $path $where]} {
                set missing($kind) 1
                return ""
            }
            unset -nocomplain missing($kind)
        }
        set chan [dict get $files($kind) chan]
        set data ""
        if {[catch {file stat $path stat}]} {
            # Moved away, and the new file not there yet: read the old one.
            append data [read $chan]
        } elseif {$stat(ino) != [dict get $files($kind) ino]
                  || $stat(dev) != [dict get $files($kind) dev]} {
            # Rotated: the rest of the old file, then the new one.
            append data [read $chan]
            set carry [dict get $files($kind) carry]
            Forget $kind
            if {![Open $kind $path start]} {
                set missing($kind) 1
                return ""
            }
            dict set files($kind) carry $carry
            set chan [dict get $files($kind) chan]
            append data [read $chan]
        } elseif {$stat(size) < [tell $chan]} {
            # Truncated: start again from its beginning.
            seek $chan 0 start
            dict set files($kind) carry ""
            set notice "--- [file tail $path] was truncated ---\n"
            append data [read $chan]
        } else {
            seek $chan 0 current        ;# forget a previous EOF
            append data [read $chan]
        }
        set data [dict get $files($kind) carry]$data
        set end [string last \n $data]
        dict set files($kind) carry [string range $data [expr {$end + 1}] end]
        set data [string range $data 0 $end]
        if {[string length $data] > $maxChunk} {
            # A burst: show its end, and say what was left out.
            set skip [expr {[string length $data] - $maxChunk}]
            set skip [expr {[string first \n $data $skip] + 1}]
            append notice "--- $skip bytes left out ---\n"
            set data [string range $data $skip end]
        }
        return $notice[encoding convertfrom utf-8 $data]
    }

    #
    # Tail --
    #
    #       The last tailLines complete lines of a kind's file, up to where
    #       its viewers are (the watcher's position).
    #
    proc Tail {kind} {
        variable files
        variable tailLines
        if {![info exists files($kind)]} {
            return ""
        }
        set chan [dict get $files($kind) chan]
        set end [expr {[tell $chan] - [string length [dict get $files($kind) carry]]}]
        set start [expr {max(0, $end - 65536)}]
        seek $chan $start start
        set data [read $chan [expr {$end - $start}]]
        seek $chan [expr {$end + [string length [dict get $files($kind) carry]]}] start
        set lines [split [string trimright $data \n] \n]
        if {$start > 0} {
            set lines [lrange $lines 1 end]         ;# the first one is cut
        }
        set lines [lrange $lines end-[expr {$tailLines - 1}] end]
        if {[llength $lines] == 0} {
            return ""
        }
        return [encoding convertfrom utf-8 [join $lines \n]\n]
    }

    #
    # Open --
    #
    #       Start following a file, at its start or end.  Returns 0 when it
    #       cannot be opened (logged once per path).
    #
    proc Open {kind path where} {
        variable files
        variable openErrors
        if {[catch {
            set chan [open $path r]
            fconfigure $chan -translation binary
            file stat $path stat
            seek $chan 0 $where
        } message]} {
            if {![info exists openErrors($path)]} {
                set openErrors($path) 1
                ns_log warning "log-view: cannot follow $path: $message"
            }
            catch {close $chan}
            return 0
        }
        unset -nocomplain openErrors($path)
        set files($kind) [dict create path $path chan $chan ino $stat(ino) dev $stat(dev) \
                              carry ""]
        return 1
    }

    #
    # Forget --
    #
    #       Stop following a kind's file.
    #
    proc Forget {kind} {
        variable files
        variable missing
        if {[info exists files($kind)]} {
            catch {close [dict get $files($kind) chan]}
            unset files($kind)
        }
        unset -nocomplain missing($kind)
    }
}

#
# ::ws::access --
#
#       Client address allow-lists (the log-view's "allow" parameter): a
#       Tcl list of entries, each an address (127.0.0.1, ::1), a CIDR block
#       (10.0.0.0/8, fd00::/8) or a glob pattern matched against the address
#       as text (192.168.1.*).  IPv4 clients that reach an IPv6 socket
#       (::ffff:10.1.2.3) are matched as the IPv4 address.  An entry that is
#       none of these is logged and ignored; an empty list lets nobody in.
#
namespace eval ::ws::access {
    variable lists      ;# name -> list of {glob pattern} | {net family bits prefix}

    #
    # configure --
    #
    #       Parse an allow-list and keep it under a name.
    #
    proc configure {name entries} {
        variable lists
        set rules {}
        foreach entry $entries {
            if {[regexp {[*?\[]} $entry]} {
                lappend rules [list glob [string tolower $entry]]
            } elseif {[regexp {^([^/]+)(?:/(\d+))?$} $entry -> address prefix]
                      && [set parsed [Parse $address]] ne ""} {
                lassign $parsed family bits
                set width [expr {$family == 4 ? 32 : 128}]
                if {$prefix eq ""} {
                    set prefix $width
                }
                if {$prefix > $width} {
                    ns_log warning "websocket: $name: allow entry \"$entry\" ignored:\
                        prefix longer than $width bits"
                    continue
                }
                lappend rules [list net $family [Mask $bits $prefix $width] $prefix]
            } else {
                ns_log warning "websocket: $name: allow entry \"$entry\" ignored:\
                    no address, CIDR block or glob pattern"
            }
        }
        set lists($name) $rules
        return $rules
    }

    #
    # allowed --
    #
    #       Does an address pass the allow-list of that name?
    #
    proc allowed {name address} {
        variable lists
        set parsed [Parse $address]
        set text [string tolower $address]
        if {[regexp -nocase {^::ffff:(\d+\.\d+\.\d+\.\d+)$} $address -> v4]} {
            set text $v4
        }
        foreach rule $lists($name) {
            if {[lindex $rule 0] eq "glob"} {
                if {[string match [lindex $rule 1] $text]} {
                    return 1
                }
            } elseif {$parsed ne ""} {
                lassign $rule - family net prefix
                lassign $parsed peerFamily bits
                set width [expr {$family == 4 ? 32 : 128}]
                if {$family == $peerFamily && [Mask $bits $prefix $width] == $net} {
                    return 1
                }
            }
        }
        return 0
    }

    #
    # Parse --
    #
    #       An IP address as {family integer}, or "" when it is none.
    #       IPv4-mapped IPv6 addresses come back as IPv4.
    #
    proc Parse {address} {
        if {[regexp {^(\d+)\.(\d+)\.(\d+)\.(\d+)$} $address -> a b c d]} {
            set bits 0
            foreach octet [list $a $b $c $d] {
                scan $octet %d octet
                if {$octet > 255} {
                    return ""
                }
                set bits [expr {($bits << 8) | $octet}]
            }
            return [list 4 $bits]
        }
        set address [lindex [split $address %] 0]      ;# no zone index
        if {![string match *:* $address]} {
            return ""
        }
        if {[regexp {^(.*:)(\d+\.\d+\.\d+\.\d+)$} $address -> head v4]} {
            set tail [Parse $v4]
            if {$tail eq ""} {
                return ""
            }
            set n [lindex $tail 1]
            set address $head[format %x:%x [expr {$n >> 16}] [expr {$n & 0xffff}]]
        }
        set double [string first :: $address]
        if {$double >= 0} {
            set left [string range $address 0 [expr {$double - 1}]]
            set right [string range $address [expr {$double + 2}] end]
            if {[string first :: $right] >= 0} {
                return ""
            }
            set left [expr {$left eq "" ? {} : [split $left :]}]
            set right [expr {$right eq "" ? {} : [split $right :]}]
            set missing [expr {8 - [llength $left] - [llength $right]}]
            if {$missing < 1} {
                return ""
            }
            set groups [concat $left [lrepeat $missing 0] $right]
        } else {
            set groups [split $address :]
        }
        if {[llength $groups] != 8} {
            return ""
        }
        set bits 0
        foreach group $groups {
            if {![regexp {^[0-9a-fA-F]{1,4}$} $group]} {
                return ""
            }
            set bits [expr {($bits << 16) | [scan $group %x]}]
        }
        if {($bits >> 32) == 0xffff} {
            return [list 4 [expr {$bits & 0xffffffff}]]
        }
        return [list 6 $bits]
    }

    #
    # Mask --
    #
    #       The first prefix bits of an address of width bits.
    #
    proc Mask {bits prefix width} {
        return [expr {$bits >> ($width - $prefix) << ($width - $prefix)}]
    }
}

::ws::access::configure log-view [ns_config $::ws::logview::section allow {127.0.0.0/8 ::1}]

foreach url $::ws::logview::urls {
    ns_register_proc -noinherit GET $url ::ws::logview::page $url
    ns_register_proc -noinherit GET $url/connect ::ws::logview::connect $url
    ns_register_proc -noinherit GET $url/set ::ws::logview::severities $url
    ns_register_proc -noinherit POST $url/set ::ws::logview::severities $url
    ::ws::app::announce log-view $url
}
if {[llength $::ws::logview::urls] > 0} {
    ns_atshutdown ::ws::logview::StopWatcher
}
unset -nocomplain url
