#!/usr/bin/env python3
"""Gather netcore's benchmark figures (Python standard library only).

Configures and builds a Release build without sanitizers, runs every
tests/bench/*_bench program one after the other, and writes:

    figures.json  every program's JSON output, how each run went, the machine
                  (nproc, CPU model, kernel, load average before and after,
                  date, git commit, compiler) and every goal with its verdict;
    figures.md    one Markdown table per benchmark: the headline figures
                  (medians over the runs) with the project's goals beside
                  them, each marked met or not from the numbers just measured.

By default both go to docs/; with --quick (tiny counts, one run per program,
figures meaningless) they go to the build directory unless --output-dir is
given, so a smoke check never overwrites the published figures.

Exit status: 0 when every program found was built and printed a JSON object
with exit status 0; 1 when one failed (the files are still written and say
which); 2 when the build could not be configured or the arguments are bad.
A goal that is not met does not change the exit status.
"""

import argparse
import datetime
import json
import math
import os
import platform
import re
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BENCH_DIR = os.path.join(ROOT, "tests", "bench")
DEFAULT_RUNS = 9
DEFAULT_TIMEOUT_S = 300
# Benchmarks the project expects; a missing one gets a section that says so.
# Programs found beyond these are run and shown with a generic table.
EXPECTED = ("transport_bench", "snapshot_bench", "netfeel_bench", "lobby_bench", "attack_bench",
            "server_load")
# Programs that are not *_bench.c files (tests/bench/<name>.c).
EXTRA_PROGRAMS = ("server_load",)
# server_load measures a real server for minutes per run: at most this many
# runs (its figures are already medians and p99s over thousands of ticks), and
# a longer timeout.
SERVER_LOAD_MAX_RUNS = 3
SERVER_LOAD_TIMEOUT_S = 3600
MAX_GENERIC_ROWS = 40


def log(message):
    print("figures: " + message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# Machine, git and build description
# --------------------------------------------------------------------------

def command_output(args, cwd=None):
    """First line of a command's stdout, or None if it cannot run or fails."""
    try:
        result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    if result.returncode != 0:
        return None
    lines = result.stdout.strip().splitlines()
    return lines[0].strip() if lines else ""


def load_average():
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return None
    return {"1min": round(one, 2), "5min": round(five, 2), "15min": round(fifteen, 2)}


def cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name") and ":" in line:
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def machine_description():
    return {
        "nproc": os.cpu_count(),
        "cpu_model": cpu_model(),
        "kernel": platform.system() + " " + platform.release() + " " + platform.version(),
    }


def git_description():
    commit = command_output(["git", "-C", ROOT, "rev-parse", "HEAD"])
    if commit is None:
        return None
    # Uncommitted changes to measured code make the commit an approximation.
    status = subprocess.run(
        ["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no", "--",
         "netcore", "tests/bench", "tests/support", "CMakeLists.txt"],
        capture_output=True, text=True, check=False)
    modified = [line[3:] for line in status.stdout.splitlines() if len(line) > 3]
    return {
        "commit": commit,
        "subject": command_output(["git", "-C", ROOT, "log", "-1", "--format=%s"]),
        "modified_measured_files": modified,
    }


def cmake_cache(build_dir):
    values = {}
    try:
        with open(os.path.join(build_dir, "CMakeCache.txt"), encoding="utf-8") as cache:
            for line in cache:
                match = re.match(r"^([A-Za-z_0-9]+):[A-Z]+=(.*)$", line.rstrip("\n"))
                if match:
                    values[match.group(1)] = match.group(2)
    except OSError:
        pass
    return values


def build_description(build_dir):
    cache = cmake_cache(build_dir)
    compiler = cache.get("CMAKE_C_COMPILER")
    return {
        "directory": os.path.relpath(build_dir, ROOT) if build_dir.startswith(ROOT) else build_dir,
        "build_type": cache.get("CMAKE_BUILD_TYPE"),
        "compiler": compiler,
        "compiler_version": command_output([compiler, "--version"]) if compiler else None,
        "c_flags": " ".join(filter(None, [cache.get("CMAKE_C_FLAGS"),
                                          cache.get("CMAKE_C_FLAGS_RELEASE")])),
        "sanitizers": cache.get("NETCORE_SANITIZE", "OFF") not in ("OFF", "0", "FALSE", ""),
    }


# --------------------------------------------------------------------------
# Build and run
# --------------------------------------------------------------------------

def find_benchmarks():
    names = [f[:-2] for f in os.listdir(BENCH_DIR) if f.endswith("_bench.c")]
    names += [n for n in EXTRA_PROGRAMS if os.path.exists(os.path.join(BENCH_DIR, n + ".c"))]
    order = {name: i for i, name in enumerate(EXPECTED)}
    return sorted(names, key=lambda n: (order.get(n, len(EXPECTED)), n))


def run_logged(args, log_file):
    log_file.write("$ " + " ".join(args) + "\n")
    log_file.flush()
    return subprocess.run(args, stdout=log_file, stderr=subprocess.STDOUT, check=False).returncode


def build(build_dir, names, jobs, log_path):
    """Configures and builds; returns (configured, {name: built})."""
    with open(log_path, "w", encoding="utf-8") as log_file:
        configure = ["cmake", "-S", ROOT, "-B", build_dir, "-DCMAKE_BUILD_TYPE=Release",
                     "-DNETCORE_SANITIZE=OFF", "-DNETCORE_WERROR=OFF", "-DNETCORE_BUILD_TESTS=ON",
                     "-DNETCORE_BUILD_DEMO=OFF"]
        if run_logged(configure, log_file) != 0:
            return False, {}
        base = ["cmake", "--build", build_dir, "--parallel", str(jobs), "--target"]
        if run_logged(base + names, log_file) == 0:
            return True, {name: True for name in names}
        # One broken program must not hide the others: build them one by one.
        return True, {name: run_logged(base + [name], log_file) == 0 for name in names}


def run_benchmark(program, args, timeout_s):
    """Runs one program; returns its record for figures.json."""
    record = {
        "command": " ".join([os.path.basename(program)] + args),
        "load_avg_before": load_average(),
    }
    start = time.monotonic()
    try:
        result = subprocess.run([program] + args, capture_output=True, text=True,
                                timeout=timeout_s, cwd=os.path.dirname(program), check=False)
    except subprocess.TimeoutExpired:
        record.update(status="timed out after %d s" % timeout_s, elapsed_s=round(timeout_s, 1))
        return record
    except OSError as error:
        record.update(status="could not start: %s" % error)
        return record
    record["elapsed_s"] = round(time.monotonic() - start, 2)
    record["exit_code"] = result.returncode
    if result.stderr.strip():
        record["stderr_tail"] = result.stderr.strip()[-2000:]
    try:
        output = json.loads(result.stdout)
    except ValueError:
        output = None
    if isinstance(output, dict):
        record["output"] = output
        record["status"] = "ok" if result.returncode == 0 else "exit status %d" % result.returncode
    else:
        record["status"] = "exit status %d, no JSON object on stdout" % result.returncode
    return record


# --------------------------------------------------------------------------
# Figures and goals
# --------------------------------------------------------------------------

def get(doc, *path):
    """doc[path[0]][path[1]]...; None if any part is missing."""
    for key in path:
        if not isinstance(doc, dict) or key not in doc:
            return None
        doc = doc[key]
    return doc


def number(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value if math.isfinite(value) else None


def fmt(value):
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return value
    if not math.isfinite(value):
        return "—"
    magnitude = abs(value)
    if magnitude >= 1000:
        return "{:,.0f}".format(value)
    if float(value).is_integer():
        return "%d" % value
    if magnitude >= 100:
        return "{:.1f}".format(value)
    if magnitude >= 1:
        return "{:.2f}".format(value)
    return "{:.3g}".format(value)


def fmt_ratio(value):
    """Ratios are compared with limits such as 1.05: three decimals, always."""
    return "—" if number(value) is None else "%.3f" % value


OPERATORS = {
    "<=": lambda v, t: v <= t,
    "<": lambda v, t: v < t,
    ">=": lambda v, t: v >= t,
    "==": lambda v, t: v == t,
}


class Section:
    """One benchmark's table: columns, rows, and the goals judged in it."""

    def __init__(self, name, columns):
        self.name = name
        self.columns = columns
        self.rows = []
        self.goals = []
        self.notes = []

    def row(self, *cells):
        self.rows.append([fmt(c) for c in cells])

    def goal(self, figure, value, operator, target, unit=""):
        """Judges value against target; returns the two cells (goal, met)."""
        value = number(value)
        met = None if value is None else OPERATORS[operator](value, target)
        text = "%s %s%s" % (operator.replace("==", "="), fmt(target), unit)
        self.goals.append({"benchmark": self.name, "figure": figure, "value": value,
                           "goal": text, "met": met})
        return [text, verdict(met)]


def verdict(met):
    if met is None:
        return "not measured"
    return "**met**" if met else "**not met**"


def transport_section(doc):
    s = Section("transport_bench", ["figure", "netcore", "raw ENet", "netcore / raw ENet",
                                    "goal", "met"])
    for delivery in ("reliable", "unreliable"):
        block = get(doc, "rtt", delivery) or {}
        for pct in ("50", "99"):
            key = "rtt_p%s_us" % pct
            label = "%s RTT p%s (us)" % (delivery, pct)
            ratio = get(block, "ratio_rtt_p" + pct)
            cells = s.goal(label + ", netcore / raw ENet", ratio, "<=", 1.05)
            s.row(label, get(block, "netcore", key), get(block, "raw_enet", key), fmt_ratio(ratio),
                  *cells)
    throughput = get(doc, "throughput") or {"reliable_window_1": {}, "reliable_window_10": {},
                                            "unreliable_window_1": {}, "unreliable_window_10": {}}
    for key, block in throughput.items():
        match = re.match(r"^(\w+?)_window_(\d+)$", key)
        label = ("%s, %s in flight (msgs/s)" % match.groups()) if match else key + " (msgs/s)"
        ratio = get(block, "ratio_msgs_per_s")
        cells = s.goal(label + ", netcore / raw ENet", ratio, ">=", 0.95)
        s.row(label, get(block, "netcore", "msgs_per_s"), get(block, "raw_enet", "msgs_per_s"),
              fmt_ratio(ratio), *cells)
    memory = get(doc, "memory") or {}
    for key, label in (("bytes_per_peer", "server heap per idle peer (B)"),
                       ("growth_per_peer_bytes", "heap growth per connected peer (B)")):
        netcore, raw = get(memory, "netcore", key), get(memory, "raw_enet", key)
        ratio = netcore / raw if number(netcore) and number(raw) else None
        s.row(label, netcore, raw, fmt_ratio(ratio), "—", "—")
    lost = sum(v for v in collect(doc, "lost") if number(v) is not None)
    s.notes.append("Goal: netcore within 5%% of raw ENet (ratios are medians of per-run "
                   "ratios). Messages lost: %s; errors: %s; CPU share: %s." %
                   (fmt(lost), fmt(get(doc, "errors")), fmt(get(doc, "cpu_share"))))
    return s


def collect(doc, key):
    """Every value stored under key anywhere in doc."""
    found = []
    if isinstance(doc, dict):
        for k, v in doc.items():
            if k == key:
                found.append(v)
            found.extend(collect(v, key))
    return found


def snapshot_section(doc):
    s = Section("snapshot_bench", ["figure", "value", "goal", "met"])
    naive = number(get(doc, "naive_full_kbps"))
    for key, title in (("unbounded", "cubes, unbounded"), ("budget_1200", "cubes, 1200 B budget")):
        block = get(doc, key) or {}
        kbps = number(get(block, "avg_kbps"))
        encode = get(block, "encode_us_per_snapshot")
        if key == "unbounded":
            s.row(title + ": bandwidth (kbps)", kbps,
                  *s.goal(title + ": bandwidth (kbps)", kbps, "<=", 256))
            factor = naive / kbps if naive and kbps else None
            s.row(title + ": naive full snapshots / this (%s kbps naive)" % fmt(naive), factor,
                  *s.goal(title + ": times below naive", factor, ">=", 15, "x"))
            s.row(title + ": moving / at rest (kbps)",
                  "%s / %s" % (fmt(get(block, "moving_kbps")), fmt(get(block, "rest_kbps"))),
                  "—", "—")
        else:
            s.row(title + ": bandwidth (kbps)", kbps, "—", "—")
            s.row(title + ": entities deferred", get(block, "entities_deferred"), "—", "—")
        s.row(title + ": encode per client per snapshot (us)", encode,
              *s.goal(title + ": encode per client per snapshot (us)", encode, "<", 100, " us"))
        s.row(title + ": decode per snapshot (us)", get(block, "decode_us_per_snapshot"), "—", "—")
        matches = get(block, "client_matches_server_exactly")
        if matches is not None:
            s.row(title + ": client world equals server world", matches, "—", "—")
    arena_section_rows(s, get(doc, "arena"), get(doc, "wire_overhead_bytes_per_snapshot"))
    scale_section_rows(s, get(doc, "scale"))
    return s


def arena_section_rows(s, arena, wire_overhead):
    """64 players and 200 projectiles at 20 and 60 snapshots a second."""
    if not isinstance(arena, dict):
        s.notes.append("No \"arena\" section in this snapshot_bench output.")
        return
    rates = [(key, block) for key, block in arena.items()
             if key.startswith("rate_") and isinstance(block, dict)]
    if not rates:
        # Output of another layout: show its medians as they are.
        for path, value in median_figures(arena, "arena"):
            s.row(path, value, "—", "—")
        return
    for key, block in rates:
        title = "arena, %s Hz" % fmt(get(block, "rate_hz"))
        s.row(title + ": kbps per client on the wire (mean / busiest client)",
              "%s / %s" % (fmt(get(block, "kbps_per_client")),
                           fmt(get(block, "kbps_per_client_max"))), "—", "—")
        s.row(title + ": payload per snapshot (mean / max, B)",
              "%s / %s" % (fmt(get(block, "avg_payload_bytes")),
                           fmt(get(block, "max_payload_bytes"))), "—", "—")
        s.row(title + ": snapshots full / delta",
              "%s / %s" % (fmt(get(block, "snapshots_full")), fmt(get(block, "snapshots_delta"))),
              "—", "—")
        s.row(title + ": entities deferred (creations and updates / removals)",
              "%s / %s" % (fmt(get(block, "entities_deferred")),
                           fmt(get(block, "removals_deferred"))), "—", "—")
        s.row(title + ": encode per client per snapshot (us)",
              get(block, "encode_us_per_snapshot"), "—", "—")
    s.notes.append("arena: %s players, up to %s projectiles (%s to %s s), %s m interest radius, "
                   "acks %s ms late, %s B budget; kbps include %s B of ENet and UDP/IPv4 headers "
                   "per snapshot." %
                   (fmt(get(arena, "players")), fmt(get(arena, "projectiles_max")),
                    fmt(get(arena, "projectile_lifetime_min_s")),
                    fmt(get(arena, "projectile_lifetime_max_s")),
                    fmt(get(arena, "interest_radius_m")), fmt(get(arena, "ack_delay_ms")),
                    fmt(get(arena, "budget_bytes")), fmt(wire_overhead)))


SCALE_GOAL_LABEL = "scale: 64 clients x 1024 entities, ms per tick"


def scale_section_rows(s, scale):
    """The 64 clients x 1024 entities goal: under 2 ms of server work per tick."""
    label = "scale: server time per tick (ms)"
    tick_ms = None
    if not isinstance(scale, dict):
        s.notes.append("No \"scale\" section in this snapshot_bench output.")
    elif any(k.startswith("clients_") for k in scale):
        goal_clients = get(scale, "goal_clients") or 64
        for key, block in scale.items():
            if not key.startswith("clients_") or not isinstance(block, dict):
                continue
            title = "scale, %s clients" % fmt(get(block, "clients"))
            s.row(title + ": ms per tick (median / p99; CPU median)",
                  "%s / %s; %s" % (fmt(get(block, "ms_per_tick_median")),
                                   fmt(get(block, "ms_per_tick_p99")),
                                   fmt(get(block, "cpu_ms_per_tick_median"))), "—", "—")
            s.row(title + ": bytes per client per snapshot",
                  get(block, "bytes_per_client_per_snapshot"), "—", "—")
            if get(block, "clients") == goal_clients:
                tick_ms = get(block, "ms_per_tick_median")
                label = "scale, %s clients x %s entities: ms per tick (median)" % (
                    goal_clients, get(scale, "entities"))
    else:
        # Output of another layout: the first per-tick time found, and every median.
        for path, value in median_figures(scale, "scale"):
            leaf = path.rsplit(".", 1)[-1]
            if "tick" in leaf and re.search(r"_(ms|us)(_|$)", leaf) and number(value) is not None:
                tick_ms = value / 1000.0 if re.search(r"_us(_|$)", leaf) else value
                label = "%s (ms)" % path
                break
        for path, value in median_figures(scale, "scale"):
            if not path.startswith(label.split(" (")[0]):
                s.row(path, value, "—", "—")
    s.row(label, tick_ms, *s.goal(SCALE_GOAL_LABEL, tick_ms, "<", 2, " ms"))


def netfeel_section(doc):
    presets = get(doc, "presets") or {}
    names = list(presets) or ["lan", "wifi", "4g", "bad"]
    s = Section("netfeel_bench", ["figure"] + names + ["goal", "met"])
    frames = [get(presets, p, "input_to_motion_frames") for p in names]
    for preset, value in zip(names, frames):
        s.goal("input to own motion with prediction (frames), " + preset, value, "==", 0)
    judged = [g["met"] for g in s.goals]
    s.row("input to own motion (frames)", *frames, "= 0 in every preset",
          verdict(None if None in judged else all(judged)))
    for key, label in (("server_confirm_frames", "input to server confirmation (frames)"),
                       ("rtt_ms", "RTT (ms)"),
                       ("remote_delay_ms", "remote entities' delay (ms)"),
                       ("extrapolated_pct", "frames extrapolated (%)"),
                       ("starved_pct", "frames starved (%)"),
                       ("corrections_per_minute", "corrections per minute"),
                       ("remote_rms_error_render", "remote RMS error at render time (units)"),
                       ("input_repeated_pct", "server ticks repeating an input (%)"),
                       ("shot_hit_pct", "lag-compensated shots that hit (%)")):
        s.row(label, *[get(presets, p, key) for p in names], "—", "—")
    s.notes.append("Simulated time, %s s per run; failed runs: %s." %
                   (fmt(get(doc, "parameters", "simulated_seconds")), fmt(get(doc, "failed_runs"))))
    return s


def attack_section(doc):
    s = Section("attack_bench", ["figure", "value"])
    for path, label in (
            (("guard_check", "forged_connects_per_s"), "guard alone: forged CONNECTs judged per s"),
            (("guard_check", "garbage_per_s"), "guard alone: garbage datagrams judged per s"),
            (("server_discard", "forged_connects_per_s"), "server: forged CONNECTs discarded per s"),
            (("connect_under_load", "idle_connect_ms"), "token holder's connect, no flood (ms)"),
            (("connect_under_load", "loaded_connect_ms"), "token holder's connect under flood (ms)"),
            (("connect_under_load", "offered_forged_per_s"), "flood offered meanwhile (forged/s)"),
            (("flood_of_forged_connects", "raw_enet_slots_taken"),
             "plain ENet host: slots taken by forgeries"),
            (("flood_of_forged_connects", "raw_enet_client_connected_within_2s"),
             "plain ENet host: real client connected within 2 s"),
            (("flood_of_forged_connects", "guarded_slots_taken_max"),
             "netcore host: slots taken by forgeries")):
        s.row(label, get(doc, *path))
    slots = get(doc, "flood_of_forged_connects", "slots")
    sent = get(doc, "flood_of_forged_connects", "forged_sent")
    s.notes.append("Flood: %s forged CONNECTs against %s slots. No numeric goal in the project "
                   "for this benchmark." % (fmt(sent), fmt(slots)))
    return s


def server_load_section(doc):
    """One game server under N real clients (tests/bench/server_load.c)."""
    counts = sorted((int(k.split("_", 1)[1]), v) for k, v in doc.items()
                    if k.startswith("clients_") and isinstance(v, dict))
    names = ["%d" % n for n, _ in counts] or ["16", "64", "128", "256", "512", "1024"]
    s = Section("server_load", ["figure (per client count)"] + names)
    for key, label in (
            ("tick_ms_p50", "tick: server CPU per 60 Hz tick, p50 (ms)"),
            ("tick_ms_p99", "tick: server CPU per 60 Hz tick, p99 (ms)"),
            ("cpu_pct", "server CPU (% of one core)"),
            ("raw_enet_cpu_pct", "raw ENet server, same packets and rates (% of one core)"),
            ("cpu_ratio_to_raw_enet", "netcore server / raw ENet server, CPU"),
            ("cpu_us_per_client_tick", "CPU per client per tick (us)"),
            ("rss_bytes_per_client", "RSS per client (B)"),
            ("out_kbps_per_client", "out per client (kbps, UDP payload)"),
            ("snapshot_payload_bytes_mean", "snapshot payload, mean (B)"),
            ("snapshot_hz_per_client", "snapshots sent per client per second"),
            ("snapshot_loss_pct", "snapshots lost (%)"),
            ("connected", "connected at the end"),
            ("join_storm_s", "join storm: all N within 1 s, last admitted after (s)"),
            ("refused", "join storm: attempts refused"),
            ("ticks_late", "ticks started late"),
            ("bots_cpu_pct", "bots' CPU, all processes (% of one core)")):
        s.row(label, *[get(block, key) for _, block in counts])
    by_count = dict(counts)
    p99 = get(by_count.get(256), "tick_ms_p99")
    storm = get(by_count.get(256), "join_storm_s")
    refused = get(by_count.get(256), "refused")
    connected = get(by_count.get(1024), "connected")
    loss = get(by_count.get(1024), "snapshot_loss_pct")
    rate = get(by_count.get(1024), "snapshot_hz_per_client")
    s.goal("256 clients: tick p99 (ms)", p99, "<", 8, " ms")
    s.goal("256-client join storm: seconds to admit all", storm, "<=", 5, " s")
    s.goal("256-client join storm: refused", refused, "==", 0)
    s.goal("1,024 clients: connected at the end", connected, "==", 1024)
    s.goal("1,024 clients: snapshots sent per client per second", rate, ">=", 29.5, " (30 Hz)")
    s.goal("1,024 clients: snapshots lost (%)", loss, "<", 5, " %")
    for goal in s.goals:
        s.notes.append("Goal: %s %s: %s (%s)." % (goal["figure"], goal["goal"],
                                                   fmt(goal["value"]), verdict(goal["met"])))
    config = get(doc, "config") or {}
    s.notes.append("One server process, bots in %s-bot processes from 64 addresses in "
                   "127.0.0.0/8; %s Hz ticks, %s Hz snapshots; %s s measured per count after "
                   "the join storm; medians of %s run(s). Ticks are the server thread's CPU time "
                   "per tick period (receive, simulate, lag compensation, snapshots, send)." %
                   (fmt(get(config, "bots_per_proc")), fmt(get(config, "tick_hz")),
                    fmt(get(config, "snapshot_hz")), fmt(get(config, "duration_s")),
                    fmt(get(config, "runs"))))
    return s


def median_figures(obj, prefix):
    """(dotted path, value) of every median (a key with a sibling key_runs) and
    every boolean in obj; every scalar number if it has neither."""
    found, scalars = [], []

    def walk(node, path):
        for key, value in node.items():
            if key in ("machine", "parameters") or key.endswith("_runs"):
                continue
            where = path + "." + key if path else key
            if isinstance(value, dict):
                walk(value, where)
            elif isinstance(value, bool) or key + "_runs" in node:
                found.append((where, value))
            elif number(value) is not None:
                scalars.append((where, value))

    if isinstance(obj, dict):
        walk(obj, prefix)
    return (found or scalars)[:MAX_GENERIC_ROWS]


def generic_section(name, doc):
    s = Section(name, ["figure", "value"])
    for path, value in median_figures(doc, ""):
        s.row(path, value)
    s.notes.append("No goal from the project for this benchmark; medians as printed.")
    return s


def lobby_section(doc):
    """Plaintext and TLS side by side; the TLS goal: the largest client count
    held over TLS, with room chat p99 within twice the plaintext one."""
    s = Section("lobby_bench", ["figure", "plaintext", "TLS", "goal", "met"])
    tls = get(doc, "tls") or {}
    counts = sorted(int(k[len("clients_"):]) for k in doc if k.startswith("clients_"))
    for clients in counts:
        key = "clients_%d" % clients
        for field, label in (("rss_per_connection_bytes", "RSS per connection (B)"),
                             ("joins_per_s", "joins per second"),
                             ("room_chat_fanout_ms_p50", "room chat fan-out p50 (ms)"),
                             ("room_chat_fanout_ms_p99", "room chat fan-out p99 (ms)")):
            s.row("%d clients: %s" % (clients, label), get(doc, key, field),
                  get(tls, key, field), "", "")
    s.row("TLS handshakes per second (wall; per server CPU second: one core)",
          "", "%s (%s)" % (fmt(get(tls, "handshakes", "per_s")),
                           fmt(get(tls, "handshakes", "per_server_cpu_s"))), "", "")
    goal_clients = get(tls, "goal", "clients")
    held = get(tls, "goal", "all_clients_held")
    s.row("%s TLS clients held" % fmt(goal_clients), "", held,
          "all held", verdict(held if isinstance(held, bool) else None))
    s.goals.append({"benchmark": "lobby_bench", "figure": "TLS clients held",
                    "value": goal_clients, "goal": "all held",
                    "met": held if isinstance(held, bool) else None})
    ratio = get(tls, "goal", "chat_p99_ratio_to_plaintext")
    s.row("room chat p99, TLS / plaintext (%s clients)" % fmt(goal_clients), "", ratio,
          *s.goal("room chat p99 TLS / plaintext", ratio, "<=", 2, "x"))
    s.row("lobby chat to 63: fan-out p50 / p99 (ms)",
          "%s / %s" % (fmt(get(doc, "lobby_chat_fanout_64", "fanout_ms_p50")),
                       fmt(get(doc, "lobby_chat_fanout_64", "fanout_ms_p99"))), "", "", "")
    s.notes.append("Clients and server share the machine's cores; TLS is 1.3 with an ECDSA "
                   "P-256 certificate, no resumption.")
    cluster_rows(s, get(doc, "cluster") or {})
    return s


def cluster_rows(s, cluster):
    """Three lobby nodes on one redis-server (docs/lobby-cluster.md), plaintext:
    goals cross-node chat p99 under 5 ms and every player resumed within 5 s."""
    if not cluster or "skipped" in cluster:
        s.notes.append("Cluster: %s." % (cluster.get("skipped") if cluster else "not measured"))
        return
    label = "cluster of %s nodes, %s clients: " % (fmt(get(cluster, "nodes")),
                                                   fmt(get(cluster, "clients")))
    s.row(label + "joins per second", get(cluster, "joins_per_s"), "", "", "")
    s.row(label + "cross-node room chat fan-out p50 (ms)",
          get(cluster, "cross_node_chat_fanout_ms_p50"), "", "", "")
    p99 = get(cluster, "cross_node_chat_fanout_ms_p99")
    s.row(label + "cross-node room chat fan-out p99 (ms)", p99, "",
          *s.goal("cluster cross-node chat p99", p99, "<", 5, " ms"))
    resumed = get(cluster, "seconds_until_all_resumed")
    s.row(label + "a node's SIGKILL until its %s players resumed (s)" %
          fmt(get(cluster, "players_on_killed_node")), resumed, "",
          *s.goal("cluster: all players resumed after a node's death", resumed, "<=", 5, " s"))


RENDERERS = {
    "lobby_bench": lobby_section,
    "transport_bench": transport_section,
    "snapshot_bench": snapshot_section,
    "netfeel_bench": netfeel_section,
    "attack_bench": attack_section,
    "server_load": server_load_section,
}


# --------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------

def markdown_table(columns, rows):
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return lines


def write_markdown(path, report, sections):
    machine, git, build_info = report["machine"], report["git"], report["build"]
    before, after = report["load_avg_before"], report["load_avg_after"]
    lines = ["# Benchmark figures", "",
             "Written by `tests/bench/figures.sh` (see `docs/benchmarks.md`); "
             "every figure is the median over the runs, and each goal is judged "
             "from the numbers of this run.", ""]
    if report["quick"]:
        lines += ["**Quick mode: tiny counts, one run each; these figures mean nothing.**", ""]
    commit = "%s (%s)" % (git["commit"][:12], git["subject"]) if git else "unknown commit"
    if git and git["modified_measured_files"]:
        commit += ", with uncommitted changes in %d measured file(s)" % \
            len(git["modified_measured_files"])
    lines += [
        "- date: %s to %s" % (report["started_utc"], report["finished_utc"]),
        "- commit: " + commit,
        "- machine: %s CPUs, %s, %s" % (machine["nproc"], machine["cpu_model"], machine["kernel"]),
        "- load average (1 min): %s before the benchmarks, %s after" %
        (fmt(before and before["1min"]), fmt(after and after["1min"])),
        "- build: %s, %s, flags `%s`, sanitizers %s" %
        (build_info["build_type"], build_info["compiler_version"] or build_info["compiler"],
         build_info["c_flags"], "on" if build_info["sanitizers"] else "off"),
        "- runs: %s" % ("--quick" if report["quick"] else "%d per benchmark" % report["runs"]),
        ""]
    summary = []
    for name in report["benchmarks"]:
        record = report["benchmarks"][name]
        goals = [g for g in report["goals"] if g["benchmark"] == name]
        met = sum(1 for g in goals if g["met"])
        summary.append([name, record["status"],
                        "%d of %d" % (met, len(goals)) if goals else "—",
                        fmt(record.get("elapsed_s"))])
    lines += ["## Summary", ""]
    lines += markdown_table(["benchmark", "status", "goals met", "time (s)"], summary)
    for section in sections:
        record = report["benchmarks"][section.name]
        lines += ["", "## " + section.name, ""]
        if "output" not in record:
            lines += ["**Not measured: %s.**" % record["status"]]
        elif record["status"] != "ok":
            lines += ["**Failed: %s** (`%s`); figures it printed are shown." %
                      (record["status"], record["command"])]
        else:
            lines += ["`%s`, %s s" % (record["command"], fmt(record["elapsed_s"]))]
        origin = record.get("from_run")
        if origin:
            lines += ["", "From the run of %s at commit %s." %
                      (origin.get("started_utc"), (origin.get("commit") or "unknown")[:12])]
        if section.rows:
            lines += [""] + markdown_table(section.columns, section.rows)
        if section.notes and "output" in record:
            lines += [""] + section.notes
    with open(path, "w", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Build netcore in Release, run every tests/bench/*_bench program and "
                    "write figures.json and figures.md (default: into docs/).")
    parser.add_argument("--quick", action="store_true",
                        help="pass --quick to every program (fast check; figures meaningless); "
                             "output goes to the build directory unless --output-dir is given")
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS,
                        help="runs per program, passed as --runs (default %(default)s)")
    parser.add_argument("--build-dir", default=os.path.join(ROOT, "build-bench"),
                        help="build directory (default: build-bench in the repository)")
    parser.add_argument("--output-dir", help="where figures.json and figures.md go")
    parser.add_argument("--only", type=lambda text: text.split(","),
                        help="run only these programs (comma-separated) and keep every other "
                             "benchmark's record from the figures.json already in the output "
                             "directory (each section then says which run it comes from)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2,
                        help="parallel build jobs (default: all cores)")
    parser.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT_S,
                        help="seconds before a program is stopped (default %(default)s)")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.jobs < 1 or args.timeout < 1:
        parser.error("--runs, --jobs and --timeout must be at least 1")
    args.build_dir = os.path.abspath(args.build_dir)
    if args.output_dir is None:
        args.output_dir = args.build_dir if args.quick else os.path.join(ROOT, "docs")
    return args


def main(argv):
    args = parse_args(argv)
    started = datetime.datetime.now(datetime.timezone.utc)
    names = find_benchmarks()
    if args.only:
        names = [n for n in names if n in args.only]
        if not names:
            log("--only names no benchmark program")
            return 2
    os.makedirs(args.build_dir, exist_ok=True)
    build_log = os.path.join(args.build_dir, "figures-build.log")
    log("building %s in %s (log: %s)" % (", ".join(names), args.build_dir, build_log))
    configured, built = build(args.build_dir, names, args.jobs, build_log)
    if not configured:
        log("cmake could not configure the build; see " + build_log)
        return 2

    def program_args(name):
        if args.quick:
            return ["--quick"]
        if name == "server_load":
            return ["--runs", str(min(args.runs, SERVER_LOAD_MAX_RUNS))]
        return ["--runs", str(args.runs)]

    def program_timeout(name):
        if args.quick:
            return min(args.timeout, 120)
        return max(args.timeout, SERVER_LOAD_TIMEOUT_S) if name == "server_load" else args.timeout

    previous = {}
    if args.only:
        # Keep every other benchmark's record from the published file.
        try:
            with open(os.path.join(args.output_dir, "figures.json"), encoding="utf-8") as old:
                previous = json.load(old)
        except (OSError, ValueError):
            previous = {}
    load_before = load_average()
    if load_before and load_before["1min"] > 0.5 * (os.cpu_count() or 1):
        log("the machine is busy (load %.2f): figures will be noisier" % load_before["1min"])
    benchmarks = {}
    for name in EXPECTED:
        if name not in names:
            benchmarks[name] = {"status": "not found (no tests/bench/%s.c)" % name}
    for name, record in (previous.get("benchmarks") or {}).items():
        if name not in names:
            record.setdefault("from_run", {"started_utc": previous.get("started_utc"),
                                           "commit": get(previous, "git", "commit")})
            benchmarks[name] = record
    for index, name in enumerate(names, 1):
        if not built.get(name):
            benchmarks[name] = {"status": "build failed (see %s)" % build_log}
            log("[%d/%d] %s: build failed" % (index, len(names), name))
            continue
        program = os.path.join(args.build_dir, "tests", "bench", name)
        bench_args = program_args(name)
        log("[%d/%d] %s %s" % (index, len(names), name, " ".join(bench_args)))
        benchmarks[name] = run_benchmark(program, bench_args, program_timeout(name))
        if args.only:
            benchmarks[name]["from_run"] = {
                "started_utc": started.strftime("%Y-%m-%d %H:%M:%S UTC"),
                "commit": get(git_description(), "commit")}
        log("        %s, %s s" % (benchmarks[name]["status"],
                                  fmt(benchmarks[name].get("elapsed_s"))))
    load_after = load_average()

    order = list(EXPECTED) + [n for n in benchmarks if n not in EXPECTED]
    benchmarks = {name: benchmarks[name] for name in order}
    sections = []
    for name, record in benchmarks.items():
        renderer = RENDERERS.get(name)
        doc = record.get("output") or {}
        sections.append(renderer(doc) if renderer else generic_section(name, doc))
    report = {
        "generated_by": "tests/bench/figures.sh",
        "quick": args.quick,
        "runs": None if args.quick else args.runs,
        "started_utc": started.strftime("%Y-%m-%d %H:%M:%S UTC"),
        "finished_utc": datetime.datetime.now(datetime.timezone.utc)
                        .strftime("%Y-%m-%d %H:%M:%S UTC"),
        "machine": machine_description(),
        "load_avg_before": load_before,
        "load_avg_after": load_after,
        "git": git_description(),
        "build": build_description(args.build_dir),
        "goals": [goal for section in sections for goal in section.goals],
        "benchmarks": benchmarks,
    }
    os.makedirs(args.output_dir, exist_ok=True)
    json_path = os.path.join(args.output_dir, "figures.json")
    md_path = os.path.join(args.output_dir, "figures.md")
    with open(json_path, "w", encoding="utf-8") as out:
        json.dump(report, out, indent=2, ensure_ascii=False)
        out.write("\n")
    write_markdown(md_path, report, sections)
    log("wrote %s and %s" % (json_path, md_path))

    failed = [n for n, r in benchmarks.items() if r["status"] != "ok" and n in names]
    missing = [n for n in EXPECTED if n not in benchmarks]
    unmet = [g["figure"] for g in report["goals"] if g["met"] is not True]
    if missing:
        log("missing benchmarks: " + ", ".join(missing))
    if unmet:
        log("goals not met or not measured: " + "; ".join(unmet))
    if failed:
        log("failed: " + ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
