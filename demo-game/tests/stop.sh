# Sourced by the demo's shell tests.
#
# stop_within PID SECONDS SIGNAL NAME
#   Sends SIGNAL to PID and waits up to SECONDS for it to exit; returns its
#   exit status. If it is still running then, prints the state and, with gdb,
#   the stacks of PID and its children (a test must show where a program
#   hangs, not only time out), kills them and returns 124.
#
# A program under test that runs inside timeout(1) must run under
# "timeout --foreground". Without it, timeout passes a signal on to the
# program and then sends it SIGCONT. In a sanitizer build that signal makes
# the program exit, and LeakSanitizer's leak check at exit stops the process
# by attaching to it with ptrace, which queues a SIGSTOP; a SIGCONT that
# arrives meanwhile discards that SIGSTOP, and the check then waits for the
# stop forever (the process spins, "traced by" its own checker, and ignores
# every further signal but SIGKILL). On a loaded machine timeout can be
# descheduled between the two signals for long enough.
# stop_within therefore refuses a timeout without --foreground (returns 125).

running() {
    state=$(ps -o stat= -p "$1" 2>/dev/null)
    [ -n "$state" ] && [ "${state#Z}" = "$state" ]
}

stop_within() {
    sw_pid=$1
    sw_ticks=$(($2 * 10))
    sw_args=$(ps -o args= -p "$sw_pid" 2>/dev/null)
    case "$sw_args" in
    timeout\ *--foreground*) ;;
    timeout\ *)
        echo "$4 (pid $sw_pid) runs under timeout without --foreground (see stop.sh); not signalled"
        kill -KILL $(pgrep -P "$sw_pid") "$sw_pid" 2>/dev/null
        wait "$sw_pid" 2>/dev/null
        return 125
        ;;
    esac
    kill -"$3" "$sw_pid" 2>/dev/null
    sw_i=0
    while running "$sw_pid" && [ $sw_i -lt $sw_ticks ]; do
        sleep 0.1
        sw_i=$((sw_i + 1))
    done
    if running "$sw_pid"; then
        echo "$4 (pid $sw_pid) still running $2 s after SIG$3:"
        for p in "$sw_pid" $(pgrep -P "$sw_pid"); do
            ps -o pid=,stat=,wchan=,etime=,args= -p "$p"
            # A traced process (e.g. by LeakSanitizer's checker at exit)
            # cannot be attached to by gdb: show its tracer instead.
            tracer=$(sed -n 's/^TracerPid:[[:space:]]*//p' "/proc/$p/status" 2>/dev/null)
            if [ -n "$tracer" ] && [ "$tracer" != 0 ]; then
                echo "  traced by: $(ps -o pid=,ppid=,stat=,wchan=,args= -p "$tracer")"
                if [ "$(ps -o ppid= -p "$tracer" 2>/dev/null | tr -d ' ')" = "$p" ]; then
                    echo "  (its own clone: a sanitizer stopping the world, e.g. the leak check at exit)"
                fi
            elif command -v gdb >/dev/null 2>&1; then
                gdb -batch -p "$p" -ex "thread apply all bt" 2>/dev/null | grep -E '^(#|Thread)' | head -n 40
            fi
        done
        kill -KILL $(pgrep -P "$sw_pid") "$sw_pid" 2>/dev/null
        wait "$sw_pid" 2>/dev/null
        return 124
    fi
    wait "$sw_pid"
}
