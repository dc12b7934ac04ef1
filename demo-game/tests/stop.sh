# Sourced by the demo's shell tests.
#
# stop_within PID SECONDS SIGNAL NAME
#   Sends SIGNAL to PID and waits up to SECONDS for it to exit; returns its
#   exit status. If it is still running then, prints the state and, with gdb,
#   the stacks of PID and its children (a test must show where a program
#   hangs, not only time out), kills them and returns 124.

running() {
    state=$(ps -o stat= -p "$1" 2>/dev/null)
    [ -n "$state" ] && [ "${state#Z}" = "$state" ]
}

stop_within() {
    sw_pid=$1
    sw_ticks=$(($2 * 10))
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
            if command -v gdb >/dev/null 2>&1; then
                gdb -batch -p "$p" -ex "thread apply all bt" 2>/dev/null | grep -E '^(#|Thread)' | head -n 40
            fi
        done
        kill -KILL $(pgrep -P "$sw_pid") "$sw_pid" 2>/dev/null
        wait "$sw_pid" 2>/dev/null
        return 124
    fi
    wait "$sw_pid"
}
