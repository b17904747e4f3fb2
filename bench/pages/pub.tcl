# pub.tcl -- a publisher: every message it sends goes to all subscribers of "bench".
ws::handshake -onmessage {apply {{channel message type} {ws::multicast -$type bench $message}}}
