# echo.tcl -- every message goes back to its sender, text or binary as it came.
ws::handshake -onmessage {apply {{channel message type} {ws::send -$type $channel $message}}}
