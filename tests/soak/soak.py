#!/usr/bin/env python3
"""netcore soak runner (Python standard library only).

Starts soak_server and M soak_bot processes (N bots in all) as separate
processes, either directly on loopback (--mode direct), through
netcore-linkproxy with an impairment preset (--mode proxy), or across two
network namespaces joined by a veth pair with nftables random loss
(--mode netns, root only). Runs for --duration seconds, samples the server's
RSS and CPU from /proc every second, then writes OUT/summary.json and
OUT/plot.png and exits:

    0   every check passed
    1   a check failed (listed in summary.json "failures" and on stderr)
    2   bad arguments or a program could not be started
    77  skipped (netns mode without root, ip or nft)

Checks: no process crashed (every exit status 0), no unexpected disconnect,
no decode error, no divergence, every bot connected, server memory does not
grow (least-squares slope of RSS after the warm-up above --max-growth-kib-per-h,
and a projected growth over the window above the --rss-noise-kib floor that
allocator noise cannot reach), and server CPU does not run away (mean after
the warm-up above --max-cpu-pct, or 10 consecutive seconds above 95 %).
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import soak_plot  # noqa: E402

# linkproxy arguments per preset; "peer" is the peer-review standard of 1000 ms
# latency, 100 ms jitter, 25 % loss and 25 % duplication, applied to each direction.
PRESETS = {
    "clean": [],
    "wifi": ["--preset", "wifi"],
    "bad": ["--preset", "bad"],
    "peer": ["--latency", "1000", "--jitter", "100", "--loss", "25", "--dup", "25"],
    # "bad", and one byte of 2 % of the datagrams altered: sealing must refuse
    # every altered message and the worlds must still match the server's.
    "bad_corrupt": ["--preset", "bad", "--corrupt", "2"],
}
# Host timeouts per preset (timeout_ms, connect_timeout_ms, server handshake and
# admission timeout): generous where a round trip takes seconds and a quarter
# of the datagrams vanish.
TIMEOUTS = {"clean": (15000, 10000, 3000), "wifi": (15000, 10000, 3000),
            "bad": (20000, 15000, 5000), "bad_corrupt": (20000, 15000, 5000),
            "peer": (60000, 45000, 30000)}
SKIP = 77
# Bots one soak_bot process drives by default, and at most (its --bots limit):
# one process polls each of its bots' hosts in turn, so with a few dozen per
# process every bot still reads its snapshots within a millisecond or two.
BOTS_PER_PROC_DEFAULT = 64
BOTS_PER_PROC_MAX = 256
NETNS_SERVER_ADDR = "10.213.0.1"
NETNS_CLIENT_ADDR = "10.213.0.2"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--server-bin", required=True)
    p.add_argument("--bot-bin", required=True)
    p.add_argument("--proxy-bin")
    p.add_argument("--mode", choices=("direct", "proxy", "netns"), default="direct")
    p.add_argument("--preset", choices=sorted(PRESETS), default="clean")
    p.add_argument("--netns-loss", type=int, default=10, help="percent dropped per direction")
    p.add_argument("--duration", type=int, default=60, help="seconds the bots run")
    p.add_argument("--bots", type=int, default=8)
    p.add_argument("--procs", type=int, help="bot processes (default: enough for at most "
                   "%d bots each, and at least 2)" % BOTS_PER_PROC_DEFAULT)
    p.add_argument("--entities", type=int, default=16)
    p.add_argument("--tick-hz", type=int, default=30)
    p.add_argument("--snapshot-hz", type=int, default=20)
    p.add_argument("--bot-nice", type=int, default=0,
                   help="niceness of the bot processes (default 0); on a machine with "
                        "few cores a positive value keeps the server's figures its own, "
                        "the bots standing for other machines")
    p.add_argument("--bot-poll-ms", type=int, default=4,
                   help="how often each bot process updates its clients (default 4); "
                        "raise it for hundreds of bots a process on few cores")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--range-coded", action="store_true",
                   help="range-coded snapshots (server and bots)")
    p.add_argument("--timeout-ms", type=int,
                   help="peer timeout of every host (default: per preset, see TIMEOUTS)")
    p.add_argument("--warmup", type=float, help="seconds ignored by the memory and CPU checks "
                   "(default: a third of the run, within 15..300)")
    p.add_argument("--max-growth-kib-per-h", type=float, default=1024.0)
    p.add_argument("--rss-noise-kib", type=float, default=512.0)
    p.add_argument("--max-cpu-pct", type=float, default=80.0)
    p.add_argument("--inject-divergence-tick", type=int, default=0,
                   help="self-test: the server lies once at this tick; the run then passes "
                   "only if the bots report divergences")
    p.add_argument("--out", required=True, help="directory for logs, summary.json and plot.png")
    args = p.parse_args(argv)
    if args.procs is None:
        args.procs = min(args.bots, max(2, -(-args.bots // BOTS_PER_PROC_DEFAULT)))
    if args.bots < 1 or args.procs < 1 or args.procs > args.bots or args.duration < 5:
        p.error("need 1 <= procs <= bots and duration >= 5")
    if -(-args.bots // args.procs) > BOTS_PER_PROC_MAX:
        p.error("at most %d bots per process: raise --procs" % BOTS_PER_PROC_MAX)
    if args.mode == "direct" and args.preset != "clean":
        p.error("direct mode has no impairment: use --mode proxy for presets")
    if args.mode == "proxy" and not args.proxy_bin:
        p.error("--mode proxy needs --proxy-bin")
    if args.warmup is None:
        # At least 15 s: sanitizer builds take that long to settle their allocator.
        args.warmup = max(15.0, min(300.0, args.duration / 3.0))
    return args


class Run:
    """Owns every child process and namespace of one soak, and cleans them up."""

    def __init__(self, args):
        self.args = args
        self.children = []  # (name, Popen)
        self.namespaces = []
        self.failures = []

    # -- process handling --------------------------------------------------
    def spawn(self, name, command, stdout_path, stderr_path, netns=None, nice=0):
        if nice:
            command = ["nice", "-n", str(nice)] + command
        if netns is not None:
            command = ["ip", "netns", "exec", netns] + command
        out = open(stdout_path, "wb")
        err = open(stderr_path, "wb")
        try:
            proc = subprocess.Popen(command, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        finally:
            out.close()
            err.close()
        self.children.append((name, proc))
        return proc

    def stop_all(self):
        for _, proc in self.children:
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + 10
        for _, proc in self.children:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    # -- namespaces ----------------------------------------------------------
    def sh(self, *command):
        subprocess.run(list(command), check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)

    def setup_netns(self):
        tag = "%d" % os.getpid()
        server_ns, client_ns = "ncsoak%ss" % tag, "ncsoak%sc" % tag
        veth_s, veth_c = "vs%s" % tag, "vc%s" % tag
        for ns in (server_ns, client_ns):
            self.sh("ip", "netns", "add", ns)
            self.namespaces.append(ns)
        self.sh("ip", "link", "add", veth_s, "type", "veth", "peer", "name", veth_c)
        for ns, veth, addr in ((server_ns, veth_s, NETNS_SERVER_ADDR),
                               (client_ns, veth_c, NETNS_CLIENT_ADDR)):
            self.sh("ip", "link", "set", veth, "netns", ns)
            self.sh("ip", "-n", ns, "addr", "add", addr + "/24", "dev", veth)
            self.sh("ip", "-n", ns, "link", "set", veth, "up")
            self.sh("ip", "-n", ns, "link", "set", "lo", "up")
            # Loss on each namespace's outgoing UDP: both directions lose N %.
            nft = ["ip", "netns", "exec", ns, "nft"]
            self.sh(*nft, "add", "table", "inet", "ncsoak")
            self.sh(*nft, "add", "chain", "inet", "ncsoak", "out",
                    "{ type filter hook output priority 0 ; policy accept ; }")
            self.sh(*nft, "add", "rule", "inet", "ncsoak", "out", "meta", "l4proto", "udp",
                    "numgen", "random", "mod", "100", "<", str(self.args.netns_loss), "drop")
        return server_ns, client_ns

    def cleanup_netns(self):
        for ns in self.namespaces:
            subprocess.run(["ip", "netns", "del", ns], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, check=False)
        self.namespaces = []


def wait_for_line(path, prefix, proc, timeout_s=15.0):
    """Returns the text after prefix on the first line of a log file that has it."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                for line in handle:
                    if prefix in line:
                        return line.split(prefix, 1)[1].split(",")[0].strip()
        except OSError:
            pass
        if proc.poll() is not None:
            return None
        time.sleep(0.05)
    return None


def proc_sample(pid):
    """(rss_kib, cpu_s) of a live process from /proc, or None."""
    try:
        with open("/proc/%d/status" % pid, encoding="ascii", errors="replace") as handle:
            rss = next((int(line.split()[1]) for line in handle if line.startswith("VmRSS:")), 0)
        with open("/proc/%d/stat" % pid, encoding="ascii", errors="replace") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return rss, (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError, StopIteration):
        return None


def read_jsonl(path):
    rows = []
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                line = line.strip()
                if line.startswith("{"):
                    try:
                        rows.append(json.loads(line))
                    except ValueError:
                        pass
    except OSError:
        pass
    return rows


def slope_per_s(points):
    """Least-squares slope of [(t, v)], 0 with fewer than two distinct times."""
    n = len(points)
    if n < 2:
        return 0.0
    mean_t = sum(t for t, _ in points) / n
    mean_v = sum(v for _, v in points) / n
    var = sum((t - mean_t) ** 2 for t, _ in points)
    if var <= 0:
        return 0.0
    return sum((t - mean_t) * (v - mean_v) for t, v in points) / var


def percentile(values, pct):
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100.0))]


def start(run, args, out):
    """Starts the server, the proxy if any, and the bot processes. Returns the server Popen."""
    preset = args.preset if args.mode != "netns" else "bad"
    timeout_ms, connect_timeout_ms, handshake_timeout_ms = TIMEOUTS[preset]
    timeout_ms = args.timeout_ms or timeout_ms
    key_path = os.path.join(out, "token.key")
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(os.urandom(32).hex() + "\n")
    server_ns = client_ns = None
    bind = client_ip = "127.0.0.1"
    if args.mode == "netns":
        server_ns, client_ns = run.setup_netns()
        bind, client_ip = NETNS_SERVER_ADDR, NETNS_CLIENT_ADDR
    server = run.spawn("server", [
        args.server_bin, "--key-file", key_path, "--bind", bind, "--port", "0",
        "--duration", str(args.duration + 120), "--stats", os.path.join(out, "server.jsonl"),
        "--entities", str(args.entities), "--max-clients", str(args.bots + 8),
        "--tick-hz", str(args.tick_hz), "--snapshot-hz", str(args.snapshot_hz),
        "--timeout-ms", str(timeout_ms), "--handshake-timeout-ms", str(handshake_timeout_ms)]
        + (["--corrupt-tick", str(args.inject_divergence_tick)]
           if args.inject_divergence_tick else [])
        + (["--range-coded", "1"] if args.range_coded else []),
        os.path.join(out, "server.out"), os.path.join(out, "server.err"), netns=server_ns)
    server_addr = wait_for_line(os.path.join(out, "server.err"), "listening on", server)
    if server_addr is None:
        raise RuntimeError("soak_server did not start (see %s/server.err)" % out)
    connect_addr = server_addr
    if args.mode == "proxy":
        proxy = run.spawn("proxy", [args.proxy_bin, "--listen", "127.0.0.1:0",
                                    "--forward", server_addr, "--seed", str(args.seed)]
                          + PRESETS[args.preset],
                          os.path.join(out, "proxy.json"), os.path.join(out, "proxy.err"))
        connect_addr = wait_for_line(os.path.join(out, "proxy.err"), "listening on", proxy)
        if connect_addr is None:
            raise RuntimeError("netcore-linkproxy did not start (see %s/proxy.err)" % out)
    per_proc = [args.bots // args.procs + (1 if i < args.bots % args.procs else 0)
                for i in range(args.procs)]
    first = 1
    for i, count in enumerate(per_proc):
        run.spawn("bots%d" % i, [
            args.bot_bin, "--key-file", key_path, "--server", server_addr,
            "--connect", connect_addr, "--bots", str(count), "--first-client-id", str(first),
            "--entities", str(args.entities), "--tick-hz", str(args.tick_hz),
            "--snapshot-hz", str(args.snapshot_hz), "--client-ip", client_ip,
            "--server-max-clients", str(args.bots + 8), "--poll-ms", str(args.bot_poll_ms),
            "--duration", str(args.duration), "--timeout-ms", str(timeout_ms),
            "--connect-timeout-ms", str(connect_timeout_ms),
            "--stats", os.path.join(out, "bots%d.jsonl" % i)]
            + (["--range-coded", "1"] if args.range_coded else []),
            os.path.join(out, "bots%d.out" % i), os.path.join(out, "bots%d.err" % i),
            netns=client_ns, nice=args.bot_nice)
        first += count
    return server


def monitor(run, args, server):
    """Samples the server every second until the bot processes exit (bounded)."""
    samples = []  # (t_s, rss_kib, cpu_pct)
    t0 = time.monotonic()
    last = None
    deadline = t0 + args.duration + 90
    bots = [proc for name, proc in run.children if name.startswith("bots")]
    while time.monotonic() < deadline:
        if all(proc.poll() is not None for proc in bots):
            break
        if server.poll() is not None:
            break
        now = time.monotonic()
        sample = proc_sample(server.pid)
        if sample is not None:
            rss, cpu_s = sample
            if last is not None and now > last[0]:
                samples.append((now - t0, rss, 100.0 * (cpu_s - last[1]) / (now - last[0])))
            last = (now, cpu_s)
        time.sleep(max(0.0, 1.0 - (time.monotonic() - now)))
    return samples


def finish(run, args):
    """Stops the server (SIGTERM: it must exit 0) and the proxy, records crashes."""
    for name, proc in run.children:
        if name in ("server", "proxy") and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 20
    for name, proc in run.children:
        try:
            code = proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            code = "hung"
        if code != 0:
            run.failures.append("%s exited with %s" % (name, code))


SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


def scan_sanitizer_reports(run, out):
    """Fails the run on any sanitizer report in a program's stderr, and echoes
    it, so a report that did not change an exit status is still seen."""
    for name in sorted(os.listdir(out)):
        if not name.endswith(".err"):
            continue
        with open(os.path.join(out, name), encoding="utf-8", errors="replace") as handle:
            lines = handle.readlines()
        hits = [i for i, line in enumerate(lines) if any(m in line for m in SANITIZER_MARKERS)]
        if hits:
            run.failures.append("sanitizer report in %s" % name)
            sys.stderr.write("".join(lines[hits[0]:hits[0] + 40]))


def analyse(run, args, out, samples):
    server_rows = read_jsonl(os.path.join(out, "server.jsonl"))
    server_summary = next((r for r in server_rows if r.get("type") == "summary"), {})
    server_stats = [r for r in server_rows if r.get("type") == "stats"]
    bot_summaries, rtt_by_second, snapshot_loss = [], {}, []
    for i in range(args.procs):
        for row in read_jsonl(os.path.join(out, "bots%d.jsonl" % i)):
            if row.get("type") == "bots_summary":
                bot_summaries.append(row)
            elif row.get("type") == "bots":
                second = int(round(row["t_s"]))
                rtt_by_second.setdefault(second, []).extend(
                    b["rtt_ms"] for b in row["bots"] if b["connected"])
                snapshot_loss.extend(b.get("snapshot_loss_pct", 0.0)
                                     for b in row["bots"] if b["connected"])
    totals = {}
    for summary in bot_summaries:
        for key, value in summary.items():
            if isinstance(value, (int, float)) and key != "elapsed_s":
                totals[key] = totals.get(key, 0) + value
    if len(bot_summaries) != args.procs:
        run.failures.append("only %d of %d bot processes wrote a summary"
                            % (len(bot_summaries), args.procs))
    for key in ("unexpected_disconnects", "decode_errors", "divergences"):
        if key == "divergences" and args.inject_divergence_tick:
            if totals.get(key, 0) == 0:
                run.failures.append("bots missed the divergence injected at tick %d"
                                    % args.inject_divergence_tick)
        elif totals.get(key, 0) != 0:
            run.failures.append("bots: %s = %d" % (key, totals[key]))
    if totals.get("bots_ever_connected", 0) != args.bots:
        run.failures.append("only %d of %d bots ever connected"
                            % (totals.get("bots_ever_connected", 0), args.bots))
    if totals.get("connected_at_end", 0) != args.bots and not run.failures:
        run.failures.append("only %d of %d bots were connected at the end"
                            % (totals.get("connected_at_end", 0), args.bots))
    if totals.get("worlds_checked", 0) == 0:
        run.failures.append("no snapshot was ever checked")
    if totals.get("sealed_at_end", 0) != totals.get("connected_at_end", 0):
        run.failures.append("only %d of %d connected bots were sealed"
                            % (totals.get("sealed_at_end", 0), totals.get("connected_at_end", 0)))
    if not server_summary:
        run.failures.append("server wrote no summary")
    for key in ("decode_errors", "disconnects_timeout", "disconnects_other",
                "entities_deferred"):
        if server_summary.get(key, 0) != 0:
            run.failures.append("server: %s = %d" % (key, server_summary[key]))

    after = [s for s in samples if s[0] >= args.warmup]
    rss_points = [(t, rss) for t, rss, _ in after]
    slope = slope_per_s(rss_points)
    window = (after[-1][0] - after[0][0]) if len(after) > 1 else 0.0
    growth_per_h = slope * 3600.0
    if growth_per_h > args.max_growth_kib_per_h and slope * window > args.rss_noise_kib:
        run.failures.append("server memory grows: %.0f KiB/h over %.0f s after warm-up"
                            % (growth_per_h, window))
    cpu_after = [c for _, _, c in after]
    cpu_mean = sum(cpu_after) / len(cpu_after) if cpu_after else 0.0
    streak = longest = 0
    for c in cpu_after:
        streak = streak + 1 if c > 95.0 else 0
        longest = max(longest, streak)
    if cpu_mean > args.max_cpu_pct or longest >= 10:
        run.failures.append("server CPU runaway: mean %.1f %%, %d s above 95 %%"
                            % (cpu_mean, longest))

    rtt_mean = [(t, sum(v) / len(v)) for t, v in sorted(rtt_by_second.items()) if v]
    rtt_max = [(t, max(v)) for t, v in sorted(rtt_by_second.items()) if v]
    all_rtt = [x for v in rtt_by_second.values() for x in v]
    out_kbps = [(r["t_s"], r["out_kbps"]) for r in server_stats]
    proxy = {}
    if args.mode == "proxy":
        rows = read_jsonl(os.path.join(out, "proxy.json"))
        proxy = rows[-1] if rows else {}
    if "--corrupt" in PRESETS[args.preset]:
        corrupted = sum(proxy.get(d, {}).get("corrupted", 0) for d in ("upstream", "downstream"))
        refused = (server_summary.get("crypto_auth_rejected", 0)
                   + totals.get("crypto_auth_rejected", 0))
        # The check can fail: a relay that altered nothing, or altered bytes
        # that nobody refused, proves nothing.
        if corrupted == 0:
            run.failures.append("the proxy altered no datagram")
        elif refused == 0:
            run.failures.append("%d datagrams altered, no sealed message refused" % corrupted)
    impairment = ("netns nftables loss %d%% per direction" % args.netns_loss
                  if args.mode == "netns" else "%s via %s" % (args.preset, args.mode))
    return {
        "title": "netcore soak: %d bots, %s, %d s" % (args.bots, impairment, args.duration),
        "passed": not run.failures,
        "failures": run.failures,
        "config": {k: v for k, v in vars(args).items() if not k.endswith("_bin")},
        "impairment": impairment,
        "server": server_summary,
        "bots": totals,
        "proxy": proxy,
        "rss_kib": {"first": samples[0][1] if samples else 0,
                    "last": samples[-1][1] if samples else 0,
                    "max": max((s[1] for s in samples), default=0),
                    "slope_after_warmup_kib_per_h": round(growth_per_h, 1),
                    "window_s": round(window, 1)},
        "cpu_pct": {"mean_after_warmup": round(cpu_mean, 2),
                    "max": round(max((s[2] for s in samples), default=0.0), 2),
                    "longest_streak_above_95_s": longest},
        "rtt_ms": {"mean": round(sum(all_rtt) / len(all_rtt), 1) if all_rtt else 0.0,
                   "p50": percentile(all_rtt, 50), "p99": percentile(all_rtt, 99),
                   "max": max(all_rtt, default=0.0)},
        "snapshot_loss_pct_mean": round(sum(snapshot_loss) / len(snapshot_loss), 2)
        if snapshot_loss else 0.0,
        "out_kbps": {"mean": round(sum(v for _, v in out_kbps) / len(out_kbps), 1)
                     if out_kbps else 0.0, "max": max((v for _, v in out_kbps), default=0.0)},
        "series": {
            "rtt_ms_mean": [[t, round(v, 1)] for t, v in rtt_mean],
            "rtt_ms_max": [[t, v] for t, v in rtt_max],
            "out_kbps": out_kbps,
            "in_kbps": [(r["t_s"], r["in_kbps"]) for r in server_stats],
            "rss_mib": [[round(t, 1), round(rss / 1024.0, 3)] for t, rss, _ in samples],
            "cpu_pct": [[round(t, 1), round(c, 1)] for t, _, c in samples],
        },
    }


def main(argv):
    args = parse_args(argv)
    if args.mode == "netns":
        missing = [tool for tool in ("ip", "nft") if shutil.which(tool) is None]
        if os.geteuid() != 0 or missing:
            print("SKIP: netns mode needs root and ip/nft (euid %d, missing: %s)"
                  % (os.geteuid(), ", ".join(missing) or "none"))
            return SKIP
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    # Leak checks stay on; no quarantine, so that held freed memory in
    # sanitizer builds cannot look like growth.
    os.environ["ASAN_OPTIONS"] = (os.environ.get("ASAN_OPTIONS", "detect_leaks=1")
                                  + ":quarantine_size_mb=0")
    run = Run(args)

    def on_signal(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    try:
        server = start(run, args, out)
        samples = monitor(run, args, server)
        finish(run, args)
        scan_sanitizer_reports(run, out)
        summary = analyse(run, args, out, samples)
    except (RuntimeError, OSError, subprocess.CalledProcessError) as error:
        detail = getattr(error, "stderr", None)
        print("soak: %s %s" % (error, detail.decode(errors="replace") if detail else ""),
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("soak: interrupted", file=sys.stderr)
        return 1
    finally:
        run.stop_all()
        run.cleanup_netns()
    with open(os.path.join(out, "summary.json"), "w", encoding="utf-8") as handle:
        json.dump(summary, handle, indent=1)
        handle.write("\n")
    soak_plot.plot(summary["series"], summary["title"], os.path.join(out, "plot.png"))
    print("soak: %s; rtt mean %.1f ms, server out %.1f kbps, rss slope %.0f KiB/h, cpu %.1f %%"
          % (summary["title"], summary["rtt_ms"]["mean"], summary["out_kbps"]["mean"],
             summary["rss_kib"]["slope_after_warmup_kib_per_h"],
             summary["cpu_pct"]["mean_after_warmup"]))
    for failure in run.failures:
        print("soak: FAIL: %s" % failure, file=sys.stderr)
    print("soak: %s (%s)" % ("PASS" if summary["passed"] else "FAIL",
                             os.path.join(out, "summary.json")))
    return 0 if summary["passed"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
