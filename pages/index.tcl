# index.tcl -- the start page of the sample server: a Tcl page, run by the
# connection thread that serves the request.

set rows ""
foreach {label value} [list \
        "Server"        "[ns_info name] [ns_info version]" \
        "Your address"  [ns_conn peeraddr] \
        "Request"       [ns_conn request] \
        "Served by"     "server [ns_conn server], driver [ns_conn driver]" \
        "Up for"        "[ns_info uptime] s"] {
    append rows "<tr><th>$label</th><td>[ns_quotehtml $value]</td></tr>\n"
}

# The sample apps of the WebSocket module, where the config turns them on.
set apps ""
foreach {app label} [expr {[info commands ::ws::handshake] eq "" ? {}
                           : {chat "Chat" log-view "Log view"}}] {
    foreach url [ns_config ns/server/[ns_conn server]/module/websocket/$app urls ""] {
        set url [ns_quotehtml /[string trim $url /]]
        append apps "<li><a href=\"$url\">$label</a> <code>$url</code></li>\n"
    }
}
if {$apps ne ""} {
    set apps "<h2>Sample apps</h2>\n<ul>\n$apps</ul>\n"
}

ns_return 200 text/html [subst {<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>nsws</title>
<style>
  body { font-family: sans-serif; margin: 2em; max-width: 40em; }
  th { text-align: left; padding-right: 1em; }
</style></head>
<body>
<h1>nsws is running</h1>
<p>This page is <code>pages/index.tcl</code>, a Tcl page.</p>
<table>
$rows</table>
$apps</body>
</html>
}]
