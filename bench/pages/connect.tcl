# connect.tcl -- a bare upgrade: the connect test opens, upgrades and closes.
ws::handshake
