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
</body>
</html>
}]
