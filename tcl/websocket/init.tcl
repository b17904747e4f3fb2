#
# init.tcl -- the Tcl part of the WebSocket module.
#
# "ns_param websocket tcl" in ns/server/$server/modules sources this
# directory at start-up.  It loads the C part (nswebsocket.so, next to the
# nsd binary) unless the config loaded it already, and registers the echo
# service when ns/server/$server/module/websocket has "echo true".  The
# sample apps (chat.tcl, log-view.tcl) register themselves from their own
# files in this directory when their sections are configured; the helpers
# they share (::ws::app) are defined here, since this file is sourced first.
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

#
# Helpers the sample apps (chat.tcl, log-view.tcl) share: their
# configuration, their page templates, JSON text, and the headers their
# pages go out with.
#
namespace eval ::ws::app {
    # This directory: the apps' templates live next to their Tcl files.
    variable dir [file dirname [file normalize [info script]]]

    #
    # urls --
    #
    #       The URLs an app is configured for: the "urls" parameter of its
    #       section (a Tcl list), each with one leading and no trailing
    #       slash.  Empty when the section or the parameter is missing.
    #
    proc urls {section} {
        set result {}
        foreach url [ns_config $section urls ""] {
            set url /[string trim $url /]
            if {$url ni $result} {
                lappend result $url
            }
        }
        return $result
    }

    #
    # announce --
    #
    #       Note that an app serves a URL, to be logged with the server's
    #       full location once the drivers listen (so "make run" shows URLs
    #       to click).
    #
    variable announced {}
    proc announce {app url} {
        variable announced
        lappend announced $app $url
    }

    #
    # Announce --
    #
    #       At start-up (ns_atstartup): log the full URL of every app, for
    #       every driver of the server.  A wildcard address is shown as the
    #       loopback address of its family.
    #
    proc Announce {} {
        variable announced
        set locations {}
        foreach driver [ns_driver info] {
            if {[dict get $driver server] eq [ns_info server]} {
                set host [dict get $driver address]
                if {$host in {0.0.0.0 ::}} {
                    set host [expr {$host eq "::" ? "::1" : "127.0.0.1"}]
                }
                if {[string match *:* $host]} {
                    set host \[$host\]
                }
                lappend locations [dict get $driver protocol]://$host:[dict get $driver port]
            }
        }
        foreach {app url} $announced {
            foreach location $locations {
                ns_log notice "websocket: $app at $location$url"
            }
        }
    }
    ns_atstartup ::ws::app::Announce

    #
    # intParam --
    #
    #       An integer parameter of a section, at least min; a value that is
    #       no integer is logged and replaced by the default.
    #
    proc intParam {section name default min} {
        set value [ns_config $section $name $default]
        if {![string is entier -strict $value]} {
            ns_log warning "websocket: $section: $name \"$value\" is no integer,\
                using $default"
            set value $default
        }
        return [expr {max($value, $min)}]
    }

    #
    # template --
    #
    #       The content of a template file of this directory.
    #
    proc template {name} {
        variable dir
        set f [open [file join $dir $name] r]
        fconfigure $f -encoding utf-8
        try {
            return [read $f]
        } finally {
            close $f
        }
    }

    #
    # render --
    #
    #       Fill a template: every @NAME@ in it becomes the HTML-escaped value
    #       of NAME in the dict values.  Values reach the page's script only
    #       through data-* attributes, never as script text.
    #
    proc render {template values} {
        set map {}
        dict for {name value} $values {
            lappend map @$name@ [ns_quotehtml $value]
        }
        return [string map $map $template]
    }

    #
    # returnPage --
    #
    #       Send an app's page, with headers that keep it self-contained: no
    #       scripts, styles or connections from elsewhere, no framing.
    #
    proc returnPage {html} {
        set headers [ns_conn outputheaders]
        ns_set update $headers Content-Security-Policy [join {
            "default-src 'none'" "script-src 'unsafe-inline'" "style-src 'unsafe-inline'"
            "connect-src 'self'" "img-src 'self' data:" "base-uri 'none'"
            "form-action 'self'" "frame-ancestors 'none'"
        } "; "]
        ns_set update $headers X-Content-Type-Options nosniff
        ns_set update $headers Referrer-Policy no-referrer
        ns_set update $headers Cache-Control no-store
        ns_return 200 "text/html; charset=utf-8" $html
    }

    #
    # json --
    #
    #       A string as a JSON string literal.
    #
    variable jsonMap {\\ \\\\ \" \\\" \n \\n \r \\r \t \\t}
    for {set i 0} {$i < 0x20} {incr i} {
        if {[format %c $i] ni {\n \r \t}} {
            lappend jsonMap [format %c $i] [format \\u%04x $i]
        }
    }
    lappend jsonMap \u2028 \\u2028 \u2029 \\u2029
    unset i

    proc json {string} {
        variable jsonMap
        return "\"[string map $jsonMap $string]\""
    }

    #
    # jsonObject --
    #
    #       A JSON object from a list of names and values: the values of the
    #       names in numbers are numbers, the others strings.
    #
    proc jsonObject {pairs {numbers {}}} {
        set members {}
        foreach {name value} $pairs {
            if {$name in $numbers} {
                lappend members "[json $name]:[expr {int($value)}]"
            } else {
                lappend members "[json $name]:[json $value]"
            }
        }
        return "{[join $members ,]}"
    }
}
