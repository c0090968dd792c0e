#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Benchmark results: collect them into results.json, print the table, check
issue 5's targets, and write the data the chart is drawn from.

    report.py collect --lines LINES.jsonl --out results.json [--quick]
                      [--skipped SKIPPED.tsv] [--failures FAILURES.tsv]
                      [--seconds S] [--pg-url URL] [--merge-from OLD.json]
    report.py table results.json [--md results.md] [--chart-data chart.dat]

Standard library only: runs on Debian's /usr/bin/python3 as it comes.
"""

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys

# Debian packages whose versions go into results.json (those installed).
PACKAGES = [
    "libsqlite3-0", "libpq5", "postgresql-15", "libuv1", "gcc-12", "python3", "python3-sqlalchemy",
    "python3-greenlet", "python3-sqlmodel", "python3-pydantic", "python3-aiosqlite", "python3-asyncpg",
    "gnuplot-nox", "libh2o0.13", "libjansson4", "wrk", "python3-fastapi", "python3-uvicorn",
    "python3-psycopg2",
]

IMPL_ORDER = ["calx", "raw_c", "sqlalchemy_async", "sqlmodel_async", "asyncpg", "fastapi_sqlmodel"]
CHART_IMPLS = [("calx", "calx"), ("raw_c", "raw C (best variant)"), ("sqlalchemy_async", "SQLAlchemy asyncio ORM"),
               ("sqlmodel_async", "SQLModel (AsyncSession)"), ("asyncpg", "asyncpg"),
               ("fastapi_sqlmodel", "FastAPI + SQLModel (B7)")]
CHART_COLORS = {"calx": "#d62728", "raw_c": "#1f77b4", "sqlalchemy_async": "#2ca02c",
                "sqlmodel_async": "#9467bd", "asyncpg": "#ff7f0e", "fastapi_sqlmodel": "#8c564b"}

# The raw C figure each case is measured against (issue 5's targets): the
# variant named, or the best raw C variant when None.
RAW_REFERENCE = {
    ("B1", "sqlite"): "prepared", ("B2", "sqlite"): "prepared", ("B3", "sqlite"): "prepared",
    ("B4", "sqlite"): "prepared",
    ("B1", "postgresql"): None,            # the best variant (multi-row INSERT, as the issue expects)
    ("B2", "postgresql"): None,            # the faster of the text and binary fetches
    ("B3", "postgresql"): "prepared",
    ("B4", "postgresql"): "pipelined",
    ("B5", "postgresql"): "async_pipelined",
    ("B6", "sqlite"): "two_queries", ("B6", "postgresql"): "two_queries",   # issue 10: selectinload's way
}


# ---- collect ------------------------------------------------------------------

def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def dpkg_versions():
    out = {}
    for p in PACKAGES:
        try:
            r = subprocess.run(["dpkg-query", "-W", "-f=${Status}\t${Version}", p],
                               capture_output=True, text=True, check=False)
        except OSError:
            break
        if r.returncode == 0 and "ok installed" in r.stdout:
            out[p] = r.stdout.split("\t", 1)[1]
    return out


def pg_server_version(url):
    if not url:
        return None
    try:
        r = subprocess.run(["psql", url, "-XAtc", "SHOW server_version"], capture_output=True, text=True,
                           timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return r.stdout.strip() or None


def machine_info(pg_url):
    cpu = None
    for line in read("/proc/cpuinfo").splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = None
    for line in read("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])
    info = {
        "cpu": cpu or platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "memory_mb": mem_kb // 1024 if mem_kb else None,
        "kernel": platform.release(),
        "debian": read("/etc/debian_version").strip() or None,
        "loadavg_at_end": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "postgresql_server": pg_server_version(pg_url),
        "packages": dpkg_versions(),
    }
    return {k: v for k, v in info.items() if v is not None}


def read_tsv(path, names):
    rows = []
    for line in read(path).splitlines() if path else []:
        if line.strip():
            rows.append(dict(zip(names, line.split("\t"))))
    return rows


def collect(args):
    cases = []
    for n, line in enumerate(read(args.lines).splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as e:
            sys.exit(f"report.py: {args.lines}:{n}: not JSON ({e}): {line[:200]}")
        if not isinstance(rec, dict) or "case" not in rec or "impl" not in rec:
            sys.exit(f"report.py: {args.lines}:{n}: not a measurement: {line[:200]}")
        cases.append(rec)
    kept = None
    if args.merge_from and os.path.exists(args.merge_from):
        # A run of some cases only (BENCH_CASES with BENCH_MERGE=1): the
        # other cases of the earlier results stay, and the file says so.
        with open(args.merge_from) as f:
            old = json.load(f)
        ran = {r["case"] for r in cases}
        old_cases = [r for r in old.get("cases", []) if r["case"] not in ran]
        if old_cases:
            kept = {"date": old.get("date"), "quick": old.get("quick"),
                    "cases": sorted({r["case"] for r in old_cases})}
            earlier = old.get("kept_from_earlier_run")
            if earlier and set(kept["cases"]) <= set(earlier.get("cases", [])):
                # Those cases were kept already: they are from that run.
                kept["date"], kept["quick"] = earlier.get("date"), earlier.get("quick")
            cases = old_cases + cases
    doc = {
        "machine": machine_info(args.pg_url),
        "quick": bool(args.quick),
        "date": datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat(),
        "run_seconds": round(args.seconds, 1) if args.seconds is not None else None,
        "cases": cases,
        "skipped": read_tsv(args.skipped, ["impl", "what", "reason"]),
        "failures": read_tsv(args.failures, ["what", "exit", "stderr"]),
        "kept_from_earlier_run": kept,
    }
    doc = {k: v for k, v in doc.items() if v is not None}
    tmp = args.out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    os.replace(tmp, args.out)


# ---- table --------------------------------------------------------------------

def group_key(r):
    journal = r.get("journal", "delete") if r.get("backend") == "sqlite" else None
    return (r["case"], r.get("backend"), journal, r.get("phase"))


def group_label(key):
    case, backend, journal, phase = key
    label = f"{case} {backend}"
    if journal == "wal":
        label += " (WAL)"
    if phase:
        label += f" {phase}"
    return label


def group_sort(key):
    case, backend, journal, phase = key
    return (case, 0 if backend == "sqlite" else 1, journal or "", {"cold": 0, "warm": 1}.get(phase, 2))


def impl_label(r):
    v = r.get("variant")
    return f"{r['impl']} {v}" if v else r["impl"]


def us_per_op(r):
    if r.get("mean_us"):
        return r["mean_us"]
    if r.get("ops_per_s"):
        return 1e6 / r["ops_per_s"]
    return None


def best(rows):
    rows = [r for r in rows if r.get("ops_per_s")]
    return max(rows, key=lambda r: r["ops_per_s"]) if rows else None


def raw_reference(key, rows):
    raws = [r for r in rows if r["impl"] == "raw_c"]
    want = RAW_REFERENCE.get((key[0], key[1]))
    if want:
        raws = [r for r in raws if r.get("variant") == want]
    return best(raws)


def fmt_num(x, digits=3):
    if x is None:
        return "-"
    if x >= 100:
        return f"{x:,.0f}"
    return f"{x:.{digits}g}"


def fmt_ratio(x):
    return "-" if x is None else f"{x:.2f}x"


class Targets:
    """Issue 5's targets (and issue 10's for B6), checked on the best calx
    figure of each group, or of one calx variant where a target names it."""

    def __init__(self, groups, calx_built):
        self.groups = groups
        self.calx_built = calx_built
        self.results = []   # (group key or None, text, status, detail)
        self.on_row = {}    # id() of the calx figure a target was checked on -> "status: text"

    def rows(self, key, impl):
        return [r for r in self.groups.get(key, []) if r["impl"] == impl]

    def check(self, key, text, measure, variant=None):
        """measure(calx, rows) -> (ok, detail) or None when it cannot be told."""
        rows = self.groups.get(key, [])
        calx = best([r for r in rows if r["impl"] == "calx" and (variant is None or r.get("variant") == variant)])
        if calx is None:
            status = "n/a (calx: not built yet)" if not self.calx_built else "n/a (no calx figure)"
            self.results.append((key, text, status, ""))
            return
        got = measure(calx, rows)
        if got is None:
            self.results.append((key, text, "n/a (no figure to compare with)", ""))
            return
        ok, detail = got
        self.results.append((key, text, "met" if ok else "MISSED", detail))
        self.on_row.setdefault(id(calx), []).append(f"{'met' if ok else 'MISSED'}: {text}")

    def ratio_to_raw(self, key, text, minimum, variant=None):
        def m(calx, rows):
            ref = raw_reference(key, rows)
            if not ref:
                return None
            ratio = calx["ops_per_s"] / ref["ops_per_s"]
            return ratio >= minimum, f"{ratio:.2f}x {impl_label(ref)}"
        self.check(key, text, m, variant)

    def time_vs_raw(self, key, text, maximum):
        def m(calx, rows):
            ref = raw_reference(key, rows)
            if not ref or not calx.get("mean_us") or not ref.get("mean_us"):
                return None
            ratio = calx["mean_us"] / ref["mean_us"]
            return ratio <= maximum, f"{calx['mean_us']:.2f} us vs {ref['mean_us']:.2f} us: {ratio:.2f}x the time"
        self.check(key, text, m)

    def ahead_of(self, key, text, impl, factor=1.0, variant=None):
        def m(calx, rows):
            other = best([r for r in rows if r["impl"] == impl])
            if not other:
                return None
            ratio = calx["ops_per_s"] / other["ops_per_s"]
            ok = ratio > 1.0 if factor == 1.0 else ratio >= factor
            return ok, f"{ratio:.2f}x {impl_label(other)}"
        self.check(key, text, m, variant)

    def ahead_everywhere(self, keys, text, impl, factor):
        """calx against impl in every group where both have a figure; the
        detail names the closest one."""
        pairs = []
        for key in keys:
            calx = best(self.rows(key, "calx"))
            other = best(self.rows(key, impl))
            if calx and other:
                pairs.append((calx["ops_per_s"] / other["ops_per_s"], key))
        if not pairs:
            has_calx = any(self.rows(k, "calx") for k in keys)
            status = ("n/a (calx: not built yet)" if not self.calx_built else
                      "n/a (no figure to compare with)" if has_calx else "n/a (no calx figure)")
            self.results.append((None, text, status, ""))
            return
        lowest, where = min(pairs)
        ok = all((r > 1.0 if factor == 1.0 else r >= factor) for r, _ in pairs)
        self.results.append((None, text, "met" if ok else "MISSED",
                             f"lowest {lowest:.2f}x ({group_label(where)}), {len(pairs)} cases"))

    def absolute_us(self, key, text, maximum):
        def m(calx, rows):
            if not calx.get("mean_us"):
                return None
            return calx["mean_us"] <= maximum, f"{calx['mean_us']:.3f} us"
        self.check(key, text, m)

    def rss(self, key, text, factor):
        def m(calx, rows):
            mine = [r["peak_rss_kb"] for r in rows if r["impl"] == "calx" and r.get("peak_rss_kb")]
            raw = [r["peak_rss_kb"] for r in rows if r["impl"] == "raw_c" and r.get("peak_rss_kb")]
            if not mine or not raw:
                return None
            ratio = min(mine) / min(raw)
            return ratio <= factor, f"{int(min(mine)):,} kB vs {int(min(raw)):,} kB: {ratio:.2f}x"
        self.check(key, text, m)

    def p99_under(self, key, text, maximum_us):
        def m(calx, rows):
            if not calx.get("p99_us"):
                return None
            return calx["p99_us"] <= maximum_us, f"{calx['p99_us'] / 1000:.2f} ms"
        self.check(key, text, m)

    def ratio_to_calx(self, key, other, text, minimum):
        """calx's figure in key over calx's own in the group other."""
        def m(calx, rows):
            ref = best(self.rows(other, "calx"))
            if not ref:
                return None
            ratio = calx["ops_per_s"] / ref["ops_per_s"]
            return ratio >= minimum, f"{ratio:.2f}x {group_label(other)}"
        self.check(key, text, m)

    def run(self):
        S, P = "sqlite", "postgresql"
        # Issue 14: the hero web API end to end against FastAPI + SQLModel.
        for backend, name, journal in ((S, "SQLite", "wal"), (P, "PostgreSQL", None)):
            get = ("B7", backend, journal, "GET /heroes/{id}")
            post = ("B7", backend, journal, "POST /heroes/")
            fixed = ("B7", backend, journal, "fixed JSON body")
            self.ahead_of(get, f"{name} B7 GET >= 50x FastAPI + SQLModel", "fastapi_sqlmodel", 50.0)
            self.ahead_of(post, f"{name} B7 POST >= 50x FastAPI + SQLModel", "fastapi_sqlmodel", 50.0)
            self.ratio_to_calx(get, fixed, f"{name} B7 GET >= 0.7x the fixed-body ceiling", 0.7)
        self.p99_under(("B7", S, "wal", "GET /heroes/{id}"), "SQLite B7 GET p99 < 2 ms", 2000.0)
        self.ratio_to_raw(("B1", S, "delete", None), "SQLite B1 >= 0.8x raw C", 0.8)
        self.ratio_to_raw(("B1", S, "wal", None), "SQLite B1 (WAL) >= 0.8x raw C", 0.8)
        self.ratio_to_raw(("B4", S, "delete", None), "SQLite B4 >= 0.8x raw C", 0.8)
        self.ratio_to_raw(("B2", S, "delete", None), "SQLite B2 >= 0.7x raw C", 0.7)
        self.time_vs_raw(("B3", S, "delete", "cold"), "SQLite B3 cold <= 1.5x raw C's time", 1.5)
        self.absolute_us(("B3", S, "delete", "warm"), "SQLite B3 warm (identity map) <= 0.1 us", 0.1)
        self.ratio_to_raw(("B1", P, None, None), "PostgreSQL B1 >= the best raw libpq variant", 1.0)
        self.ratio_to_raw(("B2", P, None, None), "PostgreSQL B2 >= raw libpq", 1.0)
        self.ahead_of(("B2", P, None, None), "PostgreSQL B2 ahead of asyncpg", "asyncpg")
        self.time_vs_raw(("B3", P, None, "cold"), "PostgreSQL B3 cold <= 1.1x raw libpq's time", 1.1)
        self.ratio_to_raw(("B4", P, None, None), "PostgreSQL B4 >= 0.9x pipelined libpq", 0.9)
        self.ahead_of(("B4", P, None, None), "PostgreSQL B4 ahead of asyncpg executemany", "asyncpg")
        self.ratio_to_raw(("B5", P, None, None), "PostgreSQL B5 >= 0.9x raw libpq's async loop", 0.9)
        # Issue 10: calx's selectinload against raw C's two queries and
        # against SQLAlchemy asyncio's selectinload (its only B6 figure).
        for backend, name in ((S, "SQLite"), (P, "PostgreSQL")):
            key = ("B6", backend, "delete" if backend == S else None, None)
            self.ratio_to_raw(key, f"{name} B6 selectinload >= 0.6x raw C's two queries", 0.6,
                              variant="selectinload")
            self.ahead_of(key, f"{name} B6 selectinload >= 20x SQLAlchemy asyncio's", "sqlalchemy_async",
                          20.0, variant="selectinload")
        every = sorted(self.groups, key=group_sort)
        b1b2 = [k for k in every if k[0] in ("B1", "B2")]
        for impl in ("sqlalchemy_async", "sqlmodel_async"):
            self.ahead_everywhere(every, f"ahead of {impl} on every case", impl, 1.0)
            self.ahead_everywhere(b1b2, f">= 30x {impl} on B1 and B2", impl, 30.0)
        self.rss(("B2", S, "delete", None), "SQLite B2 peak RSS <= 2x raw C's", 2.0)
        self.rss(("B2", P, None, None), "PostgreSQL B2 peak RSS <= 2x raw C's", 2.0)
        return self.results


def render(headers, rows, md=False, right=()):
    """A plain-text (or Markdown) table; the columns in `right` are numbers."""
    if md:
        out = ["| " + " | ".join(headers) + " |",
               "|" + "|".join("---:" if i in right else "---" for i in range(len(headers))) + "|"]
        out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
        return "\n".join(out)
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows)] if rows else [len(h) for h in headers]
    def line(cells):
        return "  ".join(str(c).rjust(w) if i in right else str(c).ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()
    return "\n".join([line(headers), line(["-" * w for w in widths])] + [line(r) for r in rows])


def table(args):
    with open(args.results) as f:
        doc = json.load(f)
    cases = doc.get("cases", [])
    skipped = doc.get("skipped", [])
    calx_built = not any(s.get("impl") == "calx" and "not built" in s.get("reason", "") for s in skipped)
    groups = {}
    for r in cases:
        groups.setdefault(group_key(r), []).append(r)

    checker = Targets(groups, calx_built)
    targets = checker.run()

    headers = ["case", "impl / variant", "ops/s", "us/op", "p99 us", "peak RSS kB", "vs raw C", "targets"]
    NUMERIC = (2, 3, 4, 5, 6)
    rows, chart = [], []
    for key in sorted(groups, key=group_sort):
        grs = groups[key]
        ref = raw_reference(key, grs)
        label = group_label(key)
        if not any(r["impl"] == "calx" for r in grs):
            rows.append([label, "calx", "not built yet" if not calx_built else "no figure", "", "", "", "", ""])
        grs = sorted(grs, key=lambda r: (IMPL_ORDER.index(r["impl"]) if r["impl"] in IMPL_ORDER else 99,
                                         -(r.get("ops_per_s") or 0)))
        for r in grs:
            ratio = r["ops_per_s"] / ref["ops_per_s"] if ref and r.get("ops_per_s") else None
            tgt = "; ".join(checker.on_row.get(id(r), []))  # on the figure each target checked
            name = impl_label(r) + (" *" if ref is r else "")
            rows.append([label, name, fmt_num(r.get("ops_per_s")), fmt_num(us_per_op(r)),
                         fmt_num(r.get("p99_us")), fmt_num(r.get("peak_rss_kb")), fmt_ratio(ratio), tgt])
        chart_row = [label]
        for impl, _ in CHART_IMPLS:
            b = best([r for r in grs if r["impl"] == impl])
            chart_row.append(f"{b['ops_per_s']:.1f}" if b else "NaN")
        chart.append(chart_row)

    m = doc.get("machine", {})
    pk = m.get("packages", {})
    head = (f"calx benchmarks ({'BENCH_QUICK=1: every case a tenth of full size' if doc.get('quick') else 'full size'})"
            f", {doc.get('date', '')}, run took {doc.get('run_seconds', '?')} s\n"
            f"machine: {m.get('cpu', '?')}, {m.get('cores', '?')} cores, {m.get('memory_mb', '?')} MB, "
            f"Linux {m.get('kernel', '?')}, Debian {m.get('debian', '?')}, load {m.get('loadavg_at_end', '?')}\n"
            f"versions: SQLite {pk.get('libsqlite3-0', '?')}, libpq {pk.get('libpq5', '?')}, "
            f"PostgreSQL {m.get('postgresql_server', '?')}, Python {m.get('python', '?')}, "
            f"SQLAlchemy {pk.get('python3-sqlalchemy', '?')}, SQLModel {pk.get('python3-sqlmodel', '?')}, "
            f"aiosqlite {pk.get('python3-aiosqlite', '?')}, asyncpg {pk.get('python3-asyncpg', '?')}")
    kept = doc.get("kept_from_earlier_run")
    if kept:
        head += (f"\n{', '.join(kept['cases'])}: kept from the run of {kept.get('date')}"
                 f"{' (BENCH_QUICK=1)' if kept.get('quick') else ''}; the rest measured in this one")
    legend = ("us/op: mean microseconds per operation (per get in B3, per transaction in B5, else wall time / rows).\n"
              "vs raw C: ops/s over the raw C figure marked * (issue 5's reference for that case).")
    trows = [[text, status, detail] for _, text, status, detail in targets]
    notes = []
    if not calx_built:
        notes.append("calx: not built yet (bench/calx_bench.c does not exist): no calx figures, no target checked.")
    for s in skipped:
        if s.get("impl") != "calx" or "not built" not in s.get("reason", ""):
            notes.append(f"skipped: {s.get('impl')} {s.get('what')}: {s.get('reason')}")
    for fl in doc.get("failures", []):
        notes.append(f"FAILED: {fl.get('what')} (exit {fl.get('exit')}): {fl.get('stderr', '')[:300]}")

    text = "\n\n".join([head, render(headers, rows, right=NUMERIC), legend,
                        "Targets (issues 5, 10 and 14)\n" + render(["target", "status", "figure"], trows)] +
                       (["\n".join(notes)] if notes else []))
    print(text)

    if args.md:
        md = "\n\n".join([head.replace("\n", "  \n"), render(headers, rows, md=True, right=NUMERIC), legend.replace("\n", "  \n"),
                          "**Targets (issues 5, 10 and 14)**", render(["target", "status", "figure"], trows, md=True)] +
                         (["  \n".join(notes)] if notes else []))
        with open(args.md, "w") as f:
            f.write(md + "\n")
    if args.chart_data:
        # Only the implementations with a figure somewhere get a column (and
        # a bar in each cluster): gnuplot warns about a column of NaN.
        keep = [0] + [i + 1 for i in range(len(CHART_IMPLS)) if any(row[i + 1] != "NaN" for row in chart)]
        with open(args.chart_data, "w") as f:
            f.write("\t".join(["group"] + [CHART_IMPLS[i - 1][1] for i in keep[1:]]) + "\n")
            for row in chart:
                f.write("\t".join(f'"{row[i]}"' if i == 0 else row[i] for i in keep) + "\n")
        # The columns and their colours, for chart.gp (gnuplot -e "vars='...'").
        with open(args.chart_data + ".gp", "w") as f:
            f.write(f"ncols = {len(keep)}\n")
            f.write('colors = "' + " ".join(CHART_COLORS[CHART_IMPLS[i - 1][0]] for i in keep[1:]) + '"\n')


def main():
    p = argparse.ArgumentParser(description="calx benchmark results")
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("collect")
    c.add_argument("--lines", required=True)
    c.add_argument("--out", required=True)
    c.add_argument("--quick", action="store_true")
    c.add_argument("--skipped")
    c.add_argument("--failures")
    c.add_argument("--seconds", type=float)
    c.add_argument("--pg-url")
    c.add_argument("--merge-from", help="an earlier results.json whose other cases are kept")
    t = sub.add_parser("table")
    t.add_argument("results")
    t.add_argument("--md")
    t.add_argument("--chart-data")
    args = p.parse_args()
    collect(args) if args.cmd == "collect" else table(args)


if __name__ == "__main__":
    main()
