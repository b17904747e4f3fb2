#
# run.tcl -- "make bench": nsd against the C baseline, side by side.
#
# Starts nsd with bench/nsd-bench.tcl and the baseline server
# (build/bench/baseline, plus a second one with --per-record as a reference),
# runs every scenario with build/bench/wsload against each in turn, ROUNDS
# times (the order alternates from round to round, so that drift on a noisy
# machine hits both alike), and prints a table of medians: the ratio
# nsd/baseline, latencies, and server CPU per message (utime + stime of the
# server process over the measured interval, from /proc/PID/stat).
#
# Usage: tclsh bench/run.tcl ?-rounds 3? ?-duration 5? ?-only name,name?
#                            ?-maxconns 50000?
# Writes bench/out/results.jsonl (every run) and bench/out/results.md (the
# table and the machine).  Loopback only; every wait is bounded.
#

package require Tcl 8.6

set bench [file dirname [file normalize [info script]]]
set root  [file dirname $bench]
set out   [file join $bench out]
array set opt {-rounds 3 -duration 5 -only "" -maxconns 50000}
array set opt $argv

set tools(wsload)   [file join $root build bench wsload]
set tools(baseline) [file join $root build bench baseline]
set tools(nsd)      [file join $root bin nsd]
foreach name {wsload baseline nsd} {
    if {![file executable $tools($name)]} {
        puts stderr "run.tcl: $tools($name) is missing: run \"make bench\""
        exit 2
    }
}
file mkdir $out

#
# Scenarios.  ws and raw are the wsload arguments against nsd and against
# the baseline (ports are added); metric is the JSON field compared; better
# is "higher" or "lower"; target is the ratio (or, with absolute, the nsd
# value) that meets the issue's target.  perrecord: also run against the
# baseline that sends each message with a send of its own.  fresh: each run
# gets freshly started servers (memory is measured).  compare: run nsd only,
# against the baseline runs of that scenario.  A latency of -1 from wsload
# means "unbounded": the percentile falls among messages that never came.
#
set scenarios {
    {name fanout-1000 title "fan-out, 1000 subscribers, 64 B, window 16" unit deliveries/s
     ws {fanout -c 1000 --window 16 --sub-path /sub.tcl --pub-path /pub.tcl}
     raw {fanout -c 1000 --window 16}
     metric rate better higher target 0.5 targetText ">= 0.5x, nothing lost" lossless 1
     perrecord 1}
    {name fanout-1000-rate title "fan-out, 1000 subscribers, 64 B, 1000 msg/s" unit "p99 us"
     ws {fanout -c 1000 --rate 1000 --sub-path /sub.tcl --pub-path /pub.tcl}
     raw {fanout -c 1000 --rate 1000}
     metric p99_us better lower target 2.0 targetText "p99 <= 2x baseline's"}
    {name fanout-1000-rate100 title "fan-out, 1000 subscribers, 64 B, 100 msg/s" unit "p99 us"
     ws {fanout -c 1000 --rate 100 --sub-path /sub.tcl --pub-path /pub.tcl}
     raw {fanout -c 1000 --rate 100}
     metric p99_us better lower target "" targetText "(reference)"}
    {name fanout-5000 title "fan-out, 5000 subscribers, 64 B, window 16" unit deliveries/s
     ws {fanout -c 5000 --window 16 --sub-path /sub.tcl --pub-path /pub.tcl}
     raw {fanout -c 5000 --window 16}
     metric rate better higher target 0.4 targetText ">= 0.4x"}
    {name echo-16 title "echo, 100 conns x 16 in flight, 64 B (lambda callback)" unit msgs/s
     ws {echo -c 100 -p 16 --path /echo.tcl}
     raw {echo -c 100 -p 16}
     metric rate better higher target 0.4 targetText ">= 0.4x" perrecord 1}
    {name echo-1 title "echo, 100 conns x 1 in flight, 64 B (lambda callback)" unit msgs/s
     ws {echo -c 100 -p 1 --path /echo.tcl}
     raw {echo -c 100 -p 1}
     metric rate better higher target 0.8 targetText ">= 0.8x"}
    {name echo-16-proc title "echo, 100 x 16, proc callback (/websocket/echo)" unit msgs/s
     ws {echo -c 100 -p 16 --path /websocket/echo}
     metric rate better higher target "" targetText "(reference)" compare echo-16}
    {name connect title "connect + upgrade + close, 16 at a time (Tcl page)" unit conns/s
     ws {connect -c 16 --path /connect.tcl}
     raw {connect -c 16}
     metric rate better higher target 0.7 targetText ">= 0.7x"}
    {name idle-10000 title "idle, 10000 connections held" unit "RSS B/conn"
     ws {idle -c 10000 --hold 2 --path /connect.tcl}
     raw {idle -c 10000 --hold 2}
     metric rss_per_conn better lower target 1024 absolute 1 targetText "<= 1 KB each"
     fresh 1}
}

# ---------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------

#
# alive --
#
#       Is the process there and not a zombie?
#
proc alive {pid} {
    if {[catch {open /proc/$pid/stat} f]} {
        return 0
    }
    set stat [read $f]
    close $f
    return [expr {![regexp {\) Z } $stat]}]
}

#
# waitFor --
#
#       Wait until script returns true, polling every 50 ms, for at most ms.
#
proc waitFor {script ms} {
    set deadline [expr {[clock milliseconds] + $ms}]
    while {[clock milliseconds] < $deadline} {
        if {[uplevel 1 $script]} {
            return 1
        }
        after 50
    }
    return [uplevel 1 $script]
}

proc readFile {path} {
    if {[catch {open $path} f]} {
        return ""
    }
    set data [read $f]
    close $f
    return $data
}

#
# stopProcess --
#
#       TERM, then KILL after ten seconds.
#
proc stopProcess {pid} {
    catch {exec kill -TERM $pid}
    if {![waitFor [list expr "!\[alive $pid\]"] 10000]} {
        catch {exec kill -KILL $pid}
        waitFor [list expr "!\[alive $pid\]"] 5000
    }
    catch {exec true}    ;# lets Tcl reap the exited child
}

#
# cpuTicks, settle --
#
#       A server's utime + stime; wait (at most 30 s) until it is idle: less
#       than 5% of a CPU over 200 ms, so that no run inherits the work of the
#       one before.
#
proc cpuTicks {pid} {
    set stat [readFile /proc/$pid/stat]
    if {![regexp {\) (.*)$} $stat -> rest]} {
        return 0
    }
    return [expr {[lindex $rest 11] + [lindex $rest 12]}]
}

proc settle {pid} {
    set deadline [expr {[clock milliseconds] + 30000}]
    while {[clock milliseconds] < $deadline} {
        set t0 [cpuTicks $pid]
        after 200
        if {[cpuTicks $pid] - $t0 <= 1} {
            return 1
        }
    }
    puts stderr "  server $pid still busy after 30 s"
    return 0
}

#
# startNsd --
#
#       Start nsd with the bench config in a fresh home; its log goes to a
#       file.  Returns a dict: pid port home.
#
proc startNsd {} {
    global tools bench out
    set home [file join $out nsd]
    file delete -force $home
    file mkdir $home/logs
    set ::env(NSWS_BENCH_HOME) $home
    set ::env(NSWS_BENCH_PORT) 0
    set log $home/stderr.log
    set pid [exec $tools(nsd) -f -t [file join $bench nsd-bench.tcl] >& $log &]
    if {![waitFor {string match "*nsd: ready*" [readFile $log]} 20000]} {
        stopProcess $pid
        error "nsd did not start:\n[readFile $log]"
    }
    if {![regexp {listening on \[127\.0\.0\.1\]:(\d+)} [readFile $log] -> port]} {
        stopProcess $pid
        error "nsd did not say its port:\n[readFile $log]"
    }
    return [dict create pid $pid port $port home $home]
}

#
# startBaseline --
#
#       Start a baseline server.  Returns a dict: pid echo sub pub connect.
#
proc startBaseline {args} {
    global tools out
    set log [file join $out baseline[join $args ""].out]
    set pid [exec $tools(baseline) {*}$args >& $log &]
    if {![waitFor {string match "*\"connect\"*" [readFile $log]} 10000]} {
        stopProcess $pid
        error "baseline did not start:\n[readFile $log]"
    }
    return [dict merge [parseJson [readFile $log]] [dict create pid $pid]]
}

# ---------------------------------------------------------------------------
# Runs
# ---------------------------------------------------------------------------

#
# parseJson --
#
#       The fields of a flat JSON object (what wsload prints) as a dict.
#
proc parseJson {text} {
    set result {}
    foreach {- key value} [regexp -all -inline {"([^"]+)":("[^"]*"|[-+0-9.eE]+)} $text] {
        dict set result $key [string trim $value \"]
    }
    return $result
}

#
# wsload --
#
#       Run the load generator; returns its JSON line as a dict (with
#       "failed" when it printed none).
#
proc wsload {args} {
    global tools out
    set errFile [file join $out wsload.err]
    catch {exec $tools(wsload) {*}$args 2> $errFile} output
    set line ""
    foreach l [split $output \n] {
        if {[string index $l 0] eq "\{"} {
            set line $l
        }
    }
    set err [string trim [readFile $errFile]]
    if {$line eq ""} {
        puts stderr "  wsload $args: no result: $output $err"
        return [dict create failed 1]
    }
    if {$err ne ""} {
        puts stderr "  wsload: $err"
    }
    return [parseJson $line]
}

#
# targetArgs --
#
#       wsload arguments for one target (nsd, baseline, perrecord) of a
#       scenario.
#
proc targetArgs {scenario target servers} {
    global opt
    set common [list -d $opt(-duration)]
    if {$target eq "nsd"} {
        set nsd [dict get $servers nsd]
        return [concat [dict get $scenario ws] $common \
                    [list --port [dict get $nsd port] --pid [dict get $nsd pid]]]
    }
    set b [dict get $servers $target]
    set raw [dict get $scenario raw]
    switch -- [lindex $raw 0] {
        fanout  { set ports [list --port [dict get $b sub] --pub-port [dict get $b pub]] }
        connect { set ports [list --port [dict get $b connect]] }
        default { set ports [list --port [dict get $b echo]] }
    }
    return [concat $raw --raw $common $ports [list --pid [dict get $b pid]]]
}

proc median {values} {
    set values [lsort -real $values]
    set n [llength $values]
    if {$n == 0} {
        return ""
    }
    if {$n % 2} {
        return [lindex $values [expr {$n / 2}]]
    }
    return [expr {([lindex $values [expr {$n / 2 - 1}]] + [lindex $values [expr {$n / 2}]]) / 2.0}]
}

#
# field --
#
#       The values of a JSON field over a list of results (failed runs left out).
#
proc field {results key} {
    set values {}
    foreach r $results {
        if {[dict exists $r $key] && ![dict exists $r failed]} {
            set value [dict get $r $key]
            if {[string match *_us $key] && $value < 0} {
                set value Inf
            }
            lappend values $value
        }
    }
    return $values
}

# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------

proc machine {} {
    set cpuinfo [readFile /proc/cpuinfo]
    set model unknown
    regexp -line {^model name\s*:\s*(.*)$} $cpuinfo -> model
    set mem 0
    regexp -line {^MemTotal:\s*(\d+)} [readFile /proc/meminfo] -> mem
    set nproc [llength [regexp -all -inline -line {^processor\s*:} $cpuinfo]]
    catch {set nproc [exec nproc]}
    return [format "%s CPUs (nproc), %s, %.1f GB RAM, Linux %s, %s" $nproc $model \
                [expr {$mem / 1048576.0}] [exec uname -r] \
                "RLIMIT_NOFILE [exec sh -c {ulimit -n}]"]
}

proc fmt {value {digits 0}} {
    if {$value eq ""} {
        return "-"
    }
    if {$value == Inf} {
        return "unbounded"
    }
    if {$digits == 0 && abs($value) >= 1000} {
        # Thousands separators make the table readable.
        set s [format %.0f $value]
        regsub -all {(\d)(?=(\d{3})+$)} $s {\1,} s
        return $s
    }
    return [format "%.${digits}f" $value]
}

set started [clock milliseconds]
set jsonl [open [file join $out results.jsonl] w]
set machine [machine]
puts "make bench: $machine"
puts "rounds $opt(-rounds), $opt(-duration) s measured per run (+0.5 s warm-up)\n"

set servers [dict create]
set rows {}
try {
    dict set servers nsd [startNsd]
    dict set servers baseline [startBaseline]
    dict set servers perrecord [startBaseline --per-record]

    foreach scenario $scenarios {
        set name [dict get $scenario name]
        if {$opt(-only) ne "" && $name ni [split $opt(-only) ,]} {
            continue
        }
        set fresh [expr {[dict exists $scenario fresh] && [dict get $scenario fresh]}]
        set targets {nsd baseline}
        if {[dict exists $scenario perrecord]} {
            lappend targets perrecord
        }
        if {[dict exists $scenario compare]} {
            set targets {nsd}
        }
        puts "[dict get $scenario title]"
        set results [dict create nsd {} baseline {} perrecord {}]
        for {set round 1} {$round <= $opt(-rounds)} {incr round} {
            # Alternate who goes first.
            set order [expr {$round % 2 ? $targets : [lreverse $targets]}]
            foreach target $order {
                if {$fresh} {
                    # Memory is measured: a server that ran other tests would lend its
                    # freed memory to the new connections.
                    stopProcess [dict get $servers $target pid]
                    dict set servers $target [switch -- $target {
                        nsd       { startNsd }
                        baseline  { startBaseline }
                        perrecord { startBaseline --per-record }
                    }]
                }
                settle [dict get $servers $target pid]
                set r [wsload {*}[targetArgs $scenario $target $servers] --label $name]
                dict set r target $target
                dict set r round $round
                puts $jsonl [list $name $target $round $r]
                flush $jsonl
                dict lappend results $target $r
                set metric [dict get $scenario metric]
                puts [format "  round %d %-9s %12s %s%s" $round $target \
                          [fmt [lindex [field [list $r] $metric] 0]] \
                          [dict get $scenario unit] \
                          [expr {[dict exists $r lost] && [dict get $r lost] > 0
                                 ? "  lost [dict get $r lost]" : ""}]]
            }
        }
        if {[dict exists $scenario compare]} {
            foreach row $rows {
                if {[dict get [lindex $row 0] name] eq [dict get $scenario compare]} {
                    foreach t {baseline perrecord} {
                        dict set results $t [dict get [lindex $row 1] $t]
                    }
                }
            }
        }
        lappend rows [list $scenario $results]
    }

    # ---- The most connections held at once -------------------------------
    if {$opt(-only) eq "" || "maxconns" in [split $opt(-only) ,]} {
        puts "idle, as many as possible at once (goal $opt(-maxconns))"
        stopProcess [dict get $servers nsd pid]
        dict set servers nsd [startNsd]
        set nsd [dict get $servers nsd]
        set limit [exec sh -c {ulimit -n}]
        # nsd needs a few descriptors of its own (logs, listeners, epoll, pipes).
        set want [expr {min($opt(-maxconns), $limit - 100)}]
        set perProcess 15000
        set procs [expr {($want + $perProcess - 1) / $perProcess}]
        set pids {}
        set files {}
        set rss0 [lindex [regexp -inline -line {^VmRSS:\s*(\d+)} \
                              [readFile /proc/[dict get $nsd pid]/status]] 1]
        for {set i 0} {$i < $procs} {incr i} {
            set n [expr {min($perProcess, $want - $i * $perProcess)}]
            set file [file join $out maxconns-$i.json]
            lappend files $file
            lappend pids [exec $tools(wsload) idle -c $n --hold 8 --path /connect.tcl \
                              --port [dict get $nsd port] --sources 1 \
                              --source-first [expr {10 + $i}] --open-timeout 30 \
                              > $file 2>@1 &]
        }
        # Sample the server while they hold: descriptors and RSS at the peak.
        set peakFds 0
        set peakRss 0
        set deadline [expr {[clock milliseconds] + 90000}]
        while {[clock milliseconds] < $deadline} {
            set running 0
            foreach pid $pids {
                incr running [alive $pid]
            }
            set fds [llength [glob -nocomplain /proc/[dict get $nsd pid]/fd/*]]
            if {$fds > $peakFds} {
                set peakFds $fds
                regexp -line {^VmRSS:\s*(\d+)} [readFile /proc/[dict get $nsd pid]/status] -> peakRss
            }
            if {$running == 0} {
                break
            }
            after 250
        }
        foreach pid $pids {
            if {[alive $pid]} {
                catch {exec kill -KILL $pid}
            }
        }
        catch {exec true}
        set held 0
        foreach file $files {
            set r [parseJson [readFile $file]]
            if {[dict exists $r held]} {
                incr held [dict get $r held]
            }
        }
        set maxconns [dict create goal $opt(-maxconns) limit $limit tried $want held $held \
                          peakFds $peakFds rssBefore $rss0 peakRss $peakRss]
        puts $jsonl [list maxconns nsd 1 $maxconns]
        puts [format "  tried %d (RLIMIT_NOFILE %s), held %d, peak server fds %d, RSS %s -> %s kB" \
                  $want $limit $held $peakFds $rss0 $peakRss]
    }
} finally {
    dict for {target s} $servers {
        stopProcess [dict get $s pid]
    }
    close $jsonl
}

# ---------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------

set table {}
lappend table "| scenario | metric | nsd | baseline | nsd/baseline | target | met | nsd p50 / p99 us | baseline p50 / p99 us | nsd CPU us/msg | baseline CPU us/msg | C one send per msg |"
lappend table "|---|---|---:|---:|---:|---|---|---:|---:|---:|---:|---:|"
foreach row $rows {
    lassign $row scenario results
    set metric [dict get $scenario metric]
    set digits 0
    set n [median [field [dict get $results nsd] $metric]]
    set b [median [field [dict get $results baseline] $metric]]
    set p [median [field [dict get $results perrecord] $metric]]
    set ratio [expr {$n ne "" && $b ne "" && $b != 0 && $b != Inf ? $n / double($b) : ""}]
    set target [dict get $scenario target]
    set met "-"
    if {$target ne "" && $ratio ne ""} {
        if {[dict exists $scenario absolute]} {
            set met [expr {$n <= $target ? "yes" : "no"}]
        } elseif {[dict get $scenario better] eq "higher"} {
            set met [expr {$ratio >= $target ? "yes" : "no"}]
        } else {
            set met [expr {$ratio <= $target ? "yes" : "no"}]
        }
        if {[dict exists $scenario lossless]} {
            set lost [tcl::mathfunc::max 0 {*}[field [dict get $results nsd] lost]]
            if {$lost > 0} {
                set met "no (lost $lost)"
            }
        }
    }
    # A fixed rate the server could not keep: wsload stopped publishing.
    set overloaded [llength [lsearch -all [field [dict get $results nsd] overloaded] 1]]
    if {$overloaded > 0} {
        set met "$met (overloaded in $overloaded of [llength [dict get $results nsd]] runs)"
    }
    set lat {}
    set cpu {}
    foreach t {nsd baseline} {
        set p50 [median [field [dict get $results $t] p50_us]]
        set p99 [median [field [dict get $results $t] p99_us]]
        lappend lat [expr {$p50 eq "" ? "-" : "[fmt $p50] / [fmt $p99]"}]
        lappend cpu [fmt [median [field [dict get $results $t] cpu_us_per_msg]] 2]
    }
    lappend table [format "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" \
                       [dict get $scenario title] [dict get $scenario unit] \
                       [fmt $n $digits] [fmt $b $digits] [fmt $ratio 2] \
                       [dict get $scenario targetText] $met {*}$lat {*}$cpu \
                       [expr {$p eq "" ? "-" : [fmt $p $digits]}]]
}
if {[info exists maxconns]} {
    dict with maxconns {
        set perConn [expr {$held > 0 ? ($peakRss - $rssBefore) * 1024.0 / $held : ""}]
        lappend table [format "| %s | %s | %s | %s | %s | %s | %s | - | - | - | - | - |" \
                           "idle, $goal held at once (tried $tried: RLIMIT_NOFILE $limit)" \
                           "held at once" [fmt $held] - - ">= $goal" \
                           [expr {$held >= $goal ? "yes" : "no ([fmt $peakFds] server fds,\
                                  [fmt $perConn] B RSS each)"}]]
    }
}

set report [join [list "Machine: $machine" "" \
                      "Medians of $opt(-rounds) rounds, $opt(-duration) s each;\
                       ran [clock format [clock seconds] -format {%Y-%m-%d %H:%M}]\
                       in [format %.1f [expr {([clock milliseconds] - $started) / 60000.0}]] min." \
                      "" {*}$table] \n]
set f [open [file join $out results.md] w]
puts $f $report
close $f
puts "\n$report"
