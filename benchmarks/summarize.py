"""Reads the JSON figures of benchmarks/compare.sh and prints one Markdown table of medians with ratios
to direct and to Dante.

usage: summarize.py WORKDIR ROUNDS
"""
import json
import os
import statistics
import sys

work, rounds = sys.argv[1], int(sys.argv[2])
targets = ["direct", "calzino", "dante", "microsocks"]
# Extra calzino runs, when there are: an older build (CALZINO_BASELINE: "before") and this build with the
# admin listener on (CALZINO_ADMIN: "admin"); each gets a column and its ratio to calzino.
extras = [t for t in ["before", "admin"] if any(os.path.exists(os.path.join(work, f"{t}-{r}.json")) for r in range(1, rounds + 1))]
runs = {t: [] for t in targets + ["before", "admin"]}
for t in targets + extras:
    for r in range(1, rounds + 1):
        path = os.path.join(work, f"{t}-{r}.json")
        if os.path.exists(path):
            with open(path) as f:
                runs[t].append(json.load(f))


def median(target, key):
    values = [run[key] for run in runs[target] if run.get(key) is not None]
    return statistics.median(values) if values else None


# (label, key, higher is better)
rows = [
    ("throughput 1 tunnel up, MB/s", "throughput_1x_up_MBps", True),
    ("throughput 1 tunnel down, MB/s", "throughput_1x_down_MBps", True),
    ("throughput 8 tunnels up, MB/s", "throughput_8x_up_MBps", True),
    ("throughput 8 tunnels down, MB/s", "throughput_8x_down_MBps", True),
    ("proxy CPU per MB, 1 tunnel up, us", "throughput_1x_up_proxy_cpu_us_per_MB", False),
    ("sessions/s (64 workers)", "rate_sessions_per_s", True),
    ("session failures", "rate_failures", False),
    ("proxy CPU per session, us", "rate_proxy_cpu_us_per_session", False),
    ("session cycle p50, us", "rate_cycle_p50_us", False),
    ("session cycle p99, us", "rate_cycle_p99_us", False),
    ("sessions/s, target closes first", "rate_target_close_sessions_per_s", True),
    ("session failures, target closes first", "rate_target_close_failures", False),
    ("proxy CPU per session, target closes first, us", "rate_target_close_proxy_cpu_us_per_session", False),
    ("round trip p50, us", "latency_p50_us", False),
    ("round trip p99, us", "latency_p99_us", False),
    ("idle tunnels held / verified", None, True),
    ("proxy memory per idle tunnel, KiB", "idle_KiB_per_tunnel", False),
    ("load generator CPU during 1-tunnel up, %", "throughput_1x_up_loadgen_cpu_pct", False),
]


def fmt(value):
    if value is None:
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.1f}"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "-"
    return f"{a / b:.2f}x"


columns = targets + extras
names = {"before": "calzino before", "admin": "calzino with admin"}
extra_header = "".join(f" {names[t]} | {'calzino/before' if t == 'before' else 'admin/calzino'} |" for t in extras)
print("| measure | direct | calzino | Dante | microsocks | calzino/direct | calzino/Dante |" + extra_header)
print("|---|---|---|---|---|---|---|" + "---|---|" * len(extras))
for label, key, _ in rows:
    if key is None:
        cells = []
        for t in columns:
            held, verified = median(t, "idle_tunnels"), median(t, "idle_verified")
            cells.append("-" if held is None else f"{held:,.0f} / {verified:,.0f}")
        extra = "".join(f" {cell} | |" for cell in cells[4:])
        print(f"| {label} | " + " | ".join(cells[:4]) + " | | |" + extra)
        continue
    values = [median(t, key) for t in columns]
    extra = ""
    for t, value in zip(extras, values[4:]):
        # before: how calzino compares with the old build; admin: what the admin listener costs.
        extra += f" {fmt(value)} | {ratio(values[1], value) if t == 'before' else ratio(value, values[1])} |"
    print(f"| {label} | " + " | ".join(fmt(v) for v in values[:4]) + f" | {ratio(values[1], values[0])} | {ratio(values[1], values[2])} |" + extra)

# The contested figures vary from round to round more than the differences between proxies, so every round is
# shown, in the order run.
print()
print("Per round (in the order run):")
print()
print("| measure | calzino | Dante | microsocks |" + "".join(f" {names[t]} |" for t in extras))
print("|---|---|---|---|" + "---|" * len(extras))
for label, key in [
    ("proxy CPU per session, us", "rate_proxy_cpu_us_per_session"),
    ("proxy CPU per session, target closes first, us", "rate_target_close_proxy_cpu_us_per_session"),
    ("round trip p50, us", "latency_p50_us"),
    ("round trip p99, us", "latency_p99_us"),
]:
    cells = [", ".join(fmt(run.get(key)) for run in runs[t]) for t in columns[1:]]
    print(f"| {label} | " + " | ".join(cells) + " |")

# The targets of the benchmark issue, checked on the medians above.
calzino = {key: median("calzino", key) for _, key, _ in rows if key}
dante = {key: median("dante", key) for _, key, _ in rows if key}
micro = {key: median("microsocks", key) for _, key, _ in rows if key}


def best_peer(key):
    values = [v for v in (dante[key], micro[key]) if v is not None]
    return min(values) if values else None


def check(name, holds, detail):
    print(f"- {name}: {'met' if holds else 'NOT met'} ({detail})")


def known(*values):
    return all(v is not None for v in values)


print()
print("Targets:")
print()
for direction in ("up", "down"):
    key = f"throughput_1x_{direction}_MBps"
    c, d = calzino[key], dante[key]
    if known(c, d):
        check(f"one tunnel {direction} at least 1.4x Dante", c >= 1.4 * d, f"{c / d:.2f}x")
c, m = calzino["rate_sessions_per_s"], micro["rate_sessions_per_s"]
if known(c, m):
    check("sessions/s at least microsocks', no failures", c >= m and not calzino["rate_failures"],
          f"{fmt(c)} against {fmt(m)}, {fmt(calzino['rate_failures'])} failures")
c, m = calzino["rate_proxy_cpu_us_per_session"], micro["rate_proxy_cpu_us_per_session"]
if known(c, m):
    check("proxy CPU per session at most microsocks'", c <= m, f"{fmt(c)} against {fmt(m)} us")
c, m = calzino["rate_target_close_sessions_per_s"], micro["rate_target_close_sessions_per_s"]
if known(c, m):
    check("target closing first: sessions/s at least microsocks'", c >= m, f"{fmt(c)} against {fmt(m)}")
c, m = calzino["rate_target_close_proxy_cpu_us_per_session"], micro["rate_target_close_proxy_cpu_us_per_session"]
if known(c, m):
    check("target closing first: proxy CPU per session at most microsocks'", c <= m, f"{fmt(c)} against {fmt(m)} us")
for label, key in (("p50", "latency_p50_us"), ("p99", "latency_p99_us")):
    c, b = calzino[key], best_peer(key)
    if known(c, b):
        check(f"round trip {label} at most 5% above the best peer's", c <= 1.05 * b, f"{fmt(c)} against {fmt(b)} us")
held, verified = median("calzino", "idle_tunnels"), median("calzino", "idle_verified")
kib = calzino["idle_KiB_per_tunnel"]
if known(held, verified, kib):
    check("at most 8 KiB per idle tunnel, all verified", kib <= 8 and verified == held,
          f"{kib:.1f} KiB at {held:,.0f} tunnels, {verified:,.0f} verified")
