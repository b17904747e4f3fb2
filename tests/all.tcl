#
# all.tcl --
#
#       Run every tests/*.test file in a process of its own and add up the
#       results.  Client-side files (the default) run in tclsh and start
#       their own servers; a file whose first line is "# nsws-test: in-server"
#       is evaluated inside a real nsd in command mode (nsd -c), so it calls
#       server commands (ns_set, nsv_*, ...) directly.
#
#       Usage: tclsh tests/all.tcl ?-file pattern? ?-timeout seconds?
#       Exits non-zero when a test fails or a file dies without a summary.
#

set root [file dirname [file dirname [file normalize [info script]]]]
set nsd  [file join $root bin nsd]
array set opt {-file * -timeout 600}
array set opt $argv

# Each run's servers leave their directories (logs, configs) in tests/out
# for a look afterwards; the previous run's go first.
set outdir [file join $root tests out]
file delete -force $outdir
file mkdir $outdir

#
# InServerConfig --
#
#       The config used to run in-server test files.
#
proc InServerConfig {} {
    global root outdir
    set home [file join $outdir in-server-[pid]]
    file mkdir $home/logs $home/pages
    set f [open $home/nsd-config.tcl w]
    puts $f [string map [list @HOME@ $home @ROOT@ $root] {
        ns_section ns/parameters {
            ns_param home {@HOME@}
            ns_param tcllibrary {@ROOT@/tcl}
            ns_param shutdowntimeout 5s
        }
        ns_section ns/modules { ns_param http nssock }
        ns_section ns/module/http { ns_param address 127.0.0.1; ns_param port 0 }
        ns_section ns/servers { ns_param test "in-server tests" }
        ns_section ns/server/test { ns_param minthreads 1 }
        ns_section ns/server/test/tcl { ns_param library {@ROOT@/tcl} }
    }]
    close $f
    return $home/nsd-config.tcl
}

#
# RunFile --
#
#       Run one test file with a watchdog; returns {output timedOut}.
#
proc RunFile {file} {
    global nsd opt
    set f [open $file]
    set first [gets $f]
    close $f
    if {[string match "*nsws-test: in-server*" $first]} {
        set script "package require tcltest 2.5\n"
        append script "tcltest::configure -verbose {body error}\n"
        append script [list source $file] \n
        set chan [open |[list $nsd -c -t [InServerConfig] << $script 2>@1] r]
    } else {
        set chan [open |[list [info nameofexecutable] $file 2>@1] r]
    }
    fconfigure $chan -blocking 0
    set ::out ""
    set ::done 0
    fileevent $chan readable [list apply {{chan} {
        append ::out [read $chan]
        if {[eof $chan]} {
            set ::done 1
        }
    }} $chan]
    set id [after [expr {$opt(-timeout) * 1000}] {set ::done timeout}]
    vwait ::done
    after cancel $id
    if {$::done eq "timeout"} {
        catch {exec kill -KILL {*}[pid $chan]}
    }
    fconfigure $chan -blocking 1
    catch {close $chan}
    return [list $::out [expr {$::done eq "timeout"}]]
}

#
# FailureHead --
#
#       The first lines of what tcltest said of a failed test, from its
#       result on (the test's body is in the log above).
#
proc FailureHead {output test} {
    set lines {}
    set on 0
    foreach line [split $output \n] {
        if {$on == 0 && [string match "==== $test *FAILED" $line]} {
            set on 1
        } elseif {$on == 1 && [string match "----*" $line]} {
            set on 2
        }
        if {$on == 2} {
            if {$line eq "==== $test FAILED" || [llength $lines] == 8} {
                break
            }
            lappend lines [string range $line 0 159]
        }
    }
    return "$test: [join $lines "\n    "]"
}

set total(passed) 0
set total(failed) 0
set total(skipped) 0
set broken {}
set failedTests {}
set failureHeads {}
set started [clock seconds]

foreach file [lsort [glob -directory [file join $root tests] $opt(-file).test]] {
    set name [file tail $file]
    puts "==== $name"
    set t0 [clock milliseconds]
    lassign [RunFile $file] output timedOut
    puts -nonewline $output
    foreach {-> test} [regexp -all -inline -line {^==== (\S+) FAILED$} $output] {
        lappend failedTests $test
        lappend failureHeads [FailureHead $output $test]
    }
    if {$timedOut} {
        puts "==== $name: TIMED OUT after $opt(-timeout) s"
        lappend broken $name
    } elseif {[regexp {Total\s+(\d+)\s+Passed\s+(\d+)\s+Skipped\s+(\d+)\s+Failed\s+(\d+)} \
                   $output -> n passed skipped failed]} {
        incr total(passed) $passed
        incr total(failed) $failed
        incr total(skipped) $skipped
        puts "==== $name: $passed passed, $failed failed, $skipped skipped\
              ([expr {([clock milliseconds] - $t0) / 1000.0}] s)"
    } else {
        puts "==== $name: no test summary (the file died)"
        lappend broken $name
    }
    flush stdout
}

puts ""
if {[llength $broken] > 0} {
    puts "files that did not finish: $broken"
}
# CI keeps only the end of the log: name the failures where it looks.
if {[llength $failedTests] > 0} {
    puts [join [lrange $failureHeads 0 2] \n]
    puts "tests that failed: $failedTests"
}
puts "tests took [expr {[clock seconds] - $started}] s"
puts "all.tcl: $total(passed) passed, $total(failed) failed, $total(skipped) skipped"
exit [expr {($total(failed) > 0 || [llength $broken] > 0) ? 1 : 0}]
