#
# chat.tcl -- the sample chat.
#
# Every URL in the "urls" parameter of ns/server/$server/module/websocket/chat
# is a chat room of its own: the page (chat.html) at URL, its WebSocket at
# URL/connect, and the subscription "chat:URL" that every member of the room
# is in.  Without the section, or with empty urls, there is no chat.
#
# The protocol is small.  A client sends text messages; "/nick NAME" picks a
# nickname, anything else is said to the room.  The server sends JSON
# objects, each with a "type":
#
#     hello    to a new member: its name, the room size, the size limit
#     join     a member came          leave    a member went
#     message  "from" said "text"     nick     "from" is now called "name"
#     renamed  to the member itself: its new name is "name"
#     error    "text" says what was wrong with the last message
#
# A message goes to every member but its sender (ws::multicast -exclude),
# with the sender's name: the nickname, or else the IP address.  The page
# shows everything as text, never as HTML.
#
# Callbacks run in the event thread's interp; what they share (the name of
# each channel) is in the nsv array ws:chat:SERVER, so nothing depends on which
# thread runs them.
#

namespace eval ::ws::chat {
    variable section    ns/server/[ns_info server]/module/websocket/chat
    variable maxmessage [::ws::app::intParam $section maxmessage 4096 16]
    variable template   [::ws::app::template chat.html]
    variable names      ws:chat:[ns_info server]   ;# nsv array: channel -> name

    #
    # page --
    #
    #       The chat page of the room at url.
    #
    proc page {url} {
        variable template
        variable maxmessage
        ::ws::app::returnPage [::ws::app::render $template [dict create \
            URL $url MAXMESSAGE $maxmessage]]
    }

    #
    # connect --
    #
    #       URL/connect?nick=NAME: make the request a WebSocket of the room
    #       at url.  Messages longer than maxmessage bytes close it (1009).
    #
    proc connect {url} {
        variable maxmessage
        set name [Nickname [ns_queryget nick ""]]
        if {$name eq ""} {
            set name [ns_conn peeraddr]
        }
        ws::handshake -maxmessage $maxmessage \
            -onopen    [list ::ws::chat::Opened $url $name] \
            -onmessage [list ::ws::chat::Received $url] \
            -onclose   [list ::ws::chat::Closed $url]
    }

    #
    # Nickname --
    #
    #       A nickname as chosen, made safe to show: control characters and
    #       runs of white space become one space, at most 32 characters.  A
    #       name without any letter (one that could pass for an address) is
    #       refused: "" is returned.
    #
    proc Nickname {nick} {
        set nick [string trim [regsub -all {[[:space:][:cntrl:]]+} $nick " "]]
        set nick [string trim [string range $nick 0 31]]
        if {![regexp {[[:alpha:]]} $nick]} {
            return ""
        }
        return $nick
    }

    #
    # Opened --
    #
    #       A new member: into the room, greeted, and announced to the others.
    #
    proc Opened {url name channel} {
        variable names
        nsv_set $names $channel $name
        set users [ws::subscribe $channel chat:$url]
        ws::send -text $channel [::ws::app::jsonObject [list \
            type hello name $name users $users maxmessage $::ws::chat::maxmessage] \
            {users maxmessage}]
        Announce $url $channel [list type join name $name users $users]
    }

    #
    # Received --
    #
    #       A message from a member: a nickname change, or words for the room.
    #
    proc Received {url channel message type} {
        variable names
        if {$type ne "text" || [string trim $message] eq ""} {
            return
        }
        if {[catch {nsv_get $names $channel} name]} {
            return                      ;# not greeted yet, or already gone
        }
        if {[regexp {^/nick(?:\s+(.*))?$} $message -> nick]} {
            set nick [Nickname $nick]
            if {$nick eq ""} {
                ws::send -text $channel [::ws::app::jsonObject {type error text
                    "a nickname needs a letter (and at most 32 characters)"}]
            } elseif {$nick ne $name} {
                nsv_set $names $channel $nick
                ws::send -text $channel [::ws::app::jsonObject [list type renamed name $nick]]
                Announce $url $channel [list type nick from $name name $nick]
            }
            return
        }
        Announce $url $channel [list type message from $name text $message]
    }

    #
    # Closed --
    #
    #       A member went (the channel already left the room).
    #
    proc Closed {url channel code reason} {
        variable names
        if {![catch {nsv_get $names $channel} name]} {
            nsv_unset $names $channel
            Announce $url $channel [list type leave name $name \
                users [llength [ws::subscribers chat:$url]]]
        }
    }

    #
    # Announce --
    #
    #       Send a JSON object to every member of the room but channel.
    #
    proc Announce {url channel pairs} {
        ws::multicast -exclude [list $channel] -text chat:$url \
            [::ws::app::jsonObject $pairs {users}]
    }

}

foreach url [::ws::app::urls $::ws::chat::section] {
    ns_register_proc -noinherit GET $url ::ws::chat::page $url
    ns_register_proc -noinherit GET $url/connect ::ws::chat::connect $url
    ::ws::app::announce chat $url
}
unset -nocomplain url
