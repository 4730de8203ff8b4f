#!/usr/bin/env python3
"""Turn the raw CSV of one bench boot into ratios, a Markdown table and
the data file of the plot.

usage: report.py RAW_CSV GUEST_ENV KERNEL_CONFIG OUTDIR [NOTE_FILE]

NOTE_FILE, when given, is Markdown put under the header of results.md.

Every figure is a ratio of two quantities measured in the same boot.  Both
are measured REPS times, interleaved; the ratio is taken per repetition
(repetition r of one against repetition r of the other) and reported as
min / median / max, beside each quantity's own min / median / max.

Writes OUTDIR/results.csv (the raw numbers), OUTDIR/ratios.csv,
OUTDIR/results.md and OUTDIR/plot.dat.
"""
import csv
import os
import shutil
import statistics
import sys

raw_csv, env_file, config_file, outdir = sys.argv[1:5]
note_file = sys.argv[5] if len(sys.argv) > 5 else None

data = {}      # (test, metric, variant, param) -> {rep: value}
dropped = []
units = {}
with open(raw_csv) as f:
    for row in csv.reader(f):
        if len(row) != 8 or row[0] != "CSV":
            continue
        _, test, metric, variant, param, rep, value, unit = row
        key = (test, metric, variant, param)
        if test == "steady" and float(value) < 0.005:
            # perftest printed 0.00 MB/s: a broken measurement (its cycle
            # counter), not a bandwidth; dropped and counted
            dropped.append(f"{variant} {param} rep {rep}")
            continue
        data.setdefault(key, {})[int(rep)] = float(value)
        units[key] = unit

env = {}
with open(env_file) as f:
    for line in f:
        k, _, v = line.partition(": ")
        env[k.strip()] = v.strip()


def mmm(values):
    if not values:
        return None
    return (min(values), statistics.median(values), max(values))


def fmt(x):
    if x is None:
        return "n/a"
    a = abs(x)
    if a >= 1000:
        return f"{x:.0f}"
    if a >= 10:
        return f"{x:.1f}"
    if a >= 0.1:
        return f"{x:.2f}"
    return f"{x:.3g}"


def fmt3(t):
    return "n/a" if t is None else f"{fmt(t[1])} ({fmt(t[0])}–{fmt(t[2])})"


rows = []      # one per ratio


def ratio(group, name, num, den, target, better, note="", short=None):
    """num/den per repetition; better is '>=' or '<=' against target."""
    a, b = data.get(num, {}), data.get(den, {})
    reps = sorted(set(a) & set(b))
    rs = [a[r] / b[r] for r in reps if b[r] != 0]
    st = mmm(rs)
    # the best of each (least disturbed by the host's other work): the
    # highest bandwidth, the lowest time
    best = None
    if a and b and min(a.values()) > 0 and min(b.values()) > 0:
        # (not for differences of two times, which noise can make negative)
        pick = max if units.get(num) == "MB/s" else min
        if pick(b.values()) != 0:
            best = pick(a.values()) / pick(b.values())
    met = None
    # a difference of two times that the noise made negative in some
    # repetition: the measurement cannot say whether the target is met
    noisy = any(v <= 0 for v in list(a.values()) + list(b.values()))
    if st is not None and target is not None and not noisy:
        met = st[1] >= target if better == ">=" else st[1] <= target
    rows.append({
        "group": group, "name": name, "n": len(rs), "ratio": st,
        "target": target, "better": better, "met": met,
        "noisy": noisy and target is not None, "best": best, "num": mmm(list(a.values())), "den": mmm(list(b.values())),
        "unit": units.get(num, ""), "note": note, "short": short or name,
    })


SIZES = {"4096": "4 KiB", "65536": "64 KiB", "1048576": "1 MiB"}

# 1. steady state: bandwidth ODP / pinned
for verb in ("write", "read", "send"):
    for size in ("4096", "65536", "1048576"):
        for mode in ("odp", "implicit"):
            ratio("1 steady", f"ib_{verb}_bw {SIZES[size]} {mode}/pinned",
                  ("steady", "bw", f"{verb}-{mode}", size),
                  ("steady", "bw", f"{verb}-pinned", size), 0.95, ">=",
                  "bandwidth", f"{verb} {SIZES[size]} {mode}")

# 2. cold: time pinned / time ODP (a throughput ratio)
for metric, what in (("first", "registration + first pass"),
                     ("refault", "pass after MADV_DONTNEED")):
    for mode in ("odp", "implicit"):
        ratio("2 cold", f"{what}: time pinned / time {mode}",
              ("cold", metric, "pinned", "8M"),
              ("cold", metric, mode, "8M"), 0.5, ">=",
              "8 MiB in 64 KiB RDMA WRITEs", f"cold {metric} {mode}")

# 3. registration
ratio("3 reg", "ibv_reg_mr pinned(1 GiB) / implicit",
      ("reg", "time", "pinned", "1G"), ("reg", "time", "implicit", "1G"),
      1000, ">=", "time", "reg pinned 1G / implicit")
for size in ("64M", "1G", "64G"):
    ratio("3 reg", f"implicit: reg with {size} mapped / with 1M mapped",
          ("reg", "time", "implicit", size), ("reg", "time", "implicit", "1M"),
          1.5, "<=", "flat", f"reg implicit {size}/1M")
for size in ("64M", "1G", "64G"):
    ratio("3 reg", f"explicit ODP: reg of {size} / of 1M",
          ("reg", "time", "odp", size), ("reg", "time", "odp", "1M"),
          None, "", "information")
for size in ("64M", "1G"):
    ratio("3 reg", f"pinned: reg of {size} / of 1M",
          ("reg", "time", "pinned", size), ("reg", "time", "pinned", "1M"),
          None, "", "information")

# 4. fault cost: device first touch / CPU first touch
for param, what in (("4K", "per 4 KiB page"), ("2M-thp", "per 2 MiB THP")):
    ratio("4 fault", f"RDMA WRITE fault / CPU first touch, {what}",
          ("fault", "rdma", "implicit", param), ("fault", "cpu", "memset", param),
          1.5, "<=", "(cold - warm) per unit", f"fault {param}")

# 5. invalidation cost with a mirror / without
for op in ("munmap", "dontneed"):
    ratio("5 inval", f"{op} of 1 GiB faulted: mirror / no mirror",
          ("inval", op, "mirror", "1G"), ("inval", op, "nomirror", "1G"),
          1.5, "<=", "time", f"inval {op} 1G")

# 7. scale: N live granules / 1 live granule
for metric, what in (("fault", "fault per page"),
                     ("inval", "MADV_DONTNEED of 1 MiB mirrored"),
                     ("inval-unmirrored", "MADV_DONTNEED of 1 MiB not mirrored")):
    for n in ("64", "4096"):
        ratio("7 scale", f"{what}: {n} granules / 1",
              ("scale", metric, "implicit", n), ("scale", metric, "implicit", "1"),
              1.5, "<=", "flat", f"scale {metric} {n}/1")

os.makedirs(outdir, exist_ok=True)
if os.path.abspath(raw_csv) != os.path.abspath(os.path.join(outdir, "results.csv")):
    shutil.copyfile(raw_csv, os.path.join(outdir, "results.csv"))

with open(os.path.join(outdir, "ratios.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["group", "ratio", "n", "min", "median", "max", "target",
                "met", "best_ratio", "num_median", "den_median", "unit"])
    for r in rows:
        st = r["ratio"] or (None, None, None)
        w.writerow([r["group"], r["name"], r["n"], *st,
                    "" if r["target"] is None else f'{r["better"]}{r["target"]}',
                    "" if r["met"] is None else ("yes" if r["met"] else "no"),
                    "" if r["best"] is None else r["best"],
                    r["num"][1] if r["num"] else "",
                    r["den"][1] if r["den"] else "", r["unit"]])

# the plot: one bar per ratio with a target, log scale
with open(os.path.join(outdir, "plot.dat"), "w") as f:
    f.write("# label median min max target\n")
    for r in rows:
        if r["target"] is None or r["ratio"] is None:
            continue
        label = r["short"].replace('"', "'")
        f.write('"%s" %g %g %g %g\n' % (label, r["ratio"][1], r["ratio"][0],
                                        r["ratio"][2], r["target"]))

# memory: VmPin and pinned pages
mem = {}
for (test, metric, variant, param), reps in data.items():
    if test == "mem":
        mem.setdefault((variant, param), {})[metric] = max(reps.values())

cfg_lines = []
with open(config_file) as f:
    for line in f:
        line = line.strip()
        if line.startswith("CONFIG_") and any(k in line for k in (
                "DEBUG", "KASAN", "LOCKDEP", "PROVE", "HMM", "ODP",
                "ON_DEMAND", "RXE", "TRANSPARENT", "ZRAM", "FTRACE",
                "FUNCTION_TRACER", "PERF_EVENTS", "PREEMPT", "HZ=")):
            cfg_lines.append(line)


def met_str(r):
    if r.get("noisy"):
        return "noise"
    if r["met"] is None:
        return "–"
    return "**yes**" if r["met"] else "**no**"


out = []
out.append("# ODP against pinned memory on soft-RoCE: `make bench` results\n")
out.append(f"- Date: {env.get('date', '?')}")
out.append(f"- Kernel: {env.get('version', env.get('kernel', '?'))}")
out.append("- Config: the bench flavour (tinyconfig + kernel/config/base.config + "
           "kernel/config/bench.config; no lockdep, KASAN, DEBUG_VM); "
           "relevant lines of the .config below")
out.append(f"- Machine: QEMU TCG (`-accel tcg -cpu max`), {env.get('cpus', '?')} vCPUs, "
           f"MemTotal {env.get('memtotal_kb', '?')} kB, guest CPU "
           f"\"{env.get('cpu_model', '?')}\"; absolute times under TCG mean "
           "little, so each figure is a ratio of two quantities measured in "
           "the same boot, interleaved, and ratio min/median/max is over the "
           "per-repetition ratios")
out.append(f"- THP: {env.get('thp', '?')}")
out.append("")
if note_file:
    with open(note_file) as f:
        out.append(f.read().rstrip() + "\n")
out.append("Each ratio is A / B as named; A and B are the two measured quantities. "
           "median, min and max are over the per-repetition ratios (repetition r "
           "of A against repetition r of B, measured back to back); \"best A / "
           "best B\" divides the best repetition of each (highest bandwidth, "
           "lowest time), which the host's other work disturbs least.\n")
out.append("| # | ratio | median | min | max | target | met | best A / best B | A median (min–max) | B median (min–max) | unit of A, B |")
out.append("|---|---|---|---|---|---|---|---|---|---|---|")
for r in rows:
    st = r["ratio"]
    tgt = "–" if r["target"] is None else f'{r["better"]} {fmt(r["target"])}'
    out.append(f'| {r["group"]} | {r["name"]} | {fmt(st[1]) if st else "n/a"} | '
               f'{fmt(st[0]) if st else "n/a"} | {fmt(st[2]) if st else "n/a"} | '
               f'{tgt} | {met_str(r)} | {fmt(r["best"])} | {fmt3(r["num"])} | {fmt3(r["den"])} | {r["unit"]} |')
out.append("")
if dropped:
    out.append(f"{len(dropped)} perftest runs printed 0.00 MB/s and are left out "
               "(their repetition counts only for the ratios whose both sides "
               "were measured): " + ", ".join(dropped) + ".\n")
out.append("## 6. Memory: pinned pages during each run\n")
out.append("Largest VmPin (kB, summed over the run's processes) and largest system-wide "
           "count of pinned pages (nr_foll_pin_acquired - released) seen during the run.\n")
out.append("| run | size | VmPin kB | system pinned pages | ODP target 0 |")
out.append("|---|---|---|---|---|")
for (variant, param) in sorted(mem):
    m = mem[(variant, param)]
    odp = "pinned" not in variant
    ok = "–"
    if odp:
        ok = "**yes**" if m.get("vmpin", 1) == 0 else "**no**"
    out.append(f'| {variant} | {param} | {fmt(m.get("vmpin"))} | '
               f'{fmt(m.get("sys_pinned"))} | {ok} |')
out.append("")
swap = {k[1]: v[0] for k, v in data.items() if k[0] == "swap" and 0 in v}
swap_unit = {k[1]: units[k] for k in data if k[0] == "swap"}
out.append("### Implicit ODP over 4x the guest's RAM (zram swap)\n")
if swap:
    size = next(k[3] for k in data if k[0] == "swap")
    intact = swap.get("intact") == 1
    out.append(f"Buffer {size} (MAP_NORESERVE) registered through the implicit MR. "
               "The CPU fills every page; the device then RDMA-READs one page in "
               "every 2 MiB (swapped out by then), checks it and RDMA-WRITEs a new "
               "generation into it; finally the CPU checks every byte of the buffer.\n")
    out.append("| quantity | value | unit |")
    out.append("|---|---|---|")
    for k, v in sorted(swap.items()):
        out.append(f"| {k} | {fmt(v)} | {swap_unit.get(k, '')} |")
    if "intact" in swap:
        out.append(f"\nData intact: **{'yes' if intact else 'no'}**\n")
    else:
        out.append("\nThe run did not finish: no verdict on the data.\n")
else:
    out.append("Not run.\n")
out.append("## Kernel configuration (relevant lines)\n")
out.append("```")
out.extend(cfg_lines)
out.append("```")
with open(os.path.join(outdir, "results.md"), "w") as f:
    f.write("\n".join(out) + "\n")

# the short table for the README
summ = ["| # | ratio (A / B) | median | min–max | target | met |",
        "|---|---|---|---|---|---|"]
for r in rows:
    if r["target"] is None:
        continue
    st = r["ratio"]
    summ.append(f'| {r["group"]} | {r["name"]} | {fmt(st[1]) if st else "n/a"} | '
                f'{fmt(st[0]) if st else "n/a"}–{fmt(st[2]) if st else "n/a"} | '
                f'{r["better"]} {fmt(r["target"])} | {met_str(r)} |')
with open(os.path.join(outdir, "summary.md"), "w") as f:
    f.write("\n".join(summ) + "\n")

met = [r for r in rows if r["met"] is not None]
print(f"report: {sum(r['met'] for r in met)} of {len(met)} targets met")
for r in rows:
    if r["met"] is False:
        print(f"report: not met: {r['group']} {r['name']}: median {fmt(r['ratio'][1])} "
              f"(target {r['better']} {r['target']})")
