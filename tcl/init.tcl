#
# init.tcl -- the server's Tcl library, sourced once at start-up; what it
# defines is copied into every interp of the server (see nsd/tclinit.c).
#

#
# ns_quotehtml --
#
#       Escape the characters HTML gives meaning to, so a value can be put
#       into a page as text.
#
proc ns_quotehtml {html} {
    string map {& &amp; < &lt; > &gt; \" &quot; ' &#39;} $html
}

#
# ns_returnbadrequest --
#
#       Answer 400 with a reason, as NaviServer's command of that name.
#
proc ns_returnbadrequest {reason} {
    ns_return 400 text/html "<!DOCTYPE html>\n<html><head><title>Bad Request</title></head>\
        <body><h2>Bad Request</h2>\n<p>[ns_quotehtml $reason]</p></body></html>\n"
}
