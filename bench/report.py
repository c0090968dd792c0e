#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Benchmark results: collect them into results.json, print the table, check
the targets of issues 5, 10, 14 and 16, and write the data the chart is
drawn from.

    report.py collect --lines LINES.jsonl --out results.json [--quick]
                      [--rounds N] [--skipped SKIPPED.tsv]
                      [--failures FAILURES.tsv] [--seconds S] [--pg-url URL]
                      [--merge-from OLD.json]
    report.py table results.json [--md results.md] [--chart-data chart.dat]

A run measures every case in rounds (bench/run.sh); each figure carries its
"round". The table shows, for every implementation and variant, the median
of its rounds, and every ratio (calx over raw C, calx over a peer) is taken
round by round, the two figures of one round together, then summarised by
its median and its spread (min-max). Targets are judged on the median ratio.

Standard library only: runs on Debian's /usr/bin/python3 as it comes.
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys

# Debian packages whose versions go into results.json (those installed).
PACKAGES = [
    "libsqlite3-0", "libpq5", "postgresql-15", "libuv1", "gcc-12", "python3", "python3-sqlalchemy",
    "python3-greenlet", "python3-sqlmodel", "python3-pydantic", "python3-aiosqlite", "python3-asyncpg",
    "gnuplot-nox", "libh2o0.13", "libjansson4", "wrk", "python3-fastapi", "python3-uvicorn",
    "python3-psycopg2",
]

# The MikroORM peer's npm packages whose versions go into results.json
# (bench/mikroorm/node_modules, installed by scripts/bench-deps.sh).
NPM_PACKAGES = ["@mikro-orm/core", "@mikro-orm/knex", "@mikro-orm/postgresql", "@mikro-orm/better-sqlite",
                "better-sqlite3", "knex", "pg"]
MIKRO_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mikroorm")

IMPL_ORDER = ["calx", "raw_c", "sqlalchemy_async", "sqlmodel_async", "asyncpg", "mikroorm", "fastapi_sqlmodel"]
CHART_IMPLS = [("calx", "calx"), ("raw_c", "raw C (best variant)"), ("sqlalchemy_async", "SQLAlchemy asyncio ORM"),
               ("sqlmodel_async", "SQLModel (AsyncSession)"), ("asyncpg", "asyncpg"),
               ("mikroorm", "MikroORM (best variant)"), ("fastapi_sqlmodel", "FastAPI + SQLModel (B7)")]
CHART_COLORS = {"calx": "#d62728", "raw_c": "#1f77b4", "sqlalchemy_async": "#2ca02c",
                "sqlmodel_async": "#9467bd", "asyncpg": "#ff7f0e", "mikroorm": "#17becf",
                "fastapi_sqlmodel": "#8c564b"}
# The peers calx is compared with, round by round, in the second table.
PEERS = ["sqlalchemy_async", "sqlmodel_async", "asyncpg", "mikroorm", "fastapi_sqlmodel"]

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


def node_info():
    """Node.js's version, the MikroORM peer's packages, and the SQLite that
    better-sqlite3 brings (its own, not Debian's)."""
    info = {}
    try:
        r = subprocess.run(["node", "-p", "process.versions.node + ' ' + (() => { try { return new "
                            "(require('better-sqlite3'))(':memory:').prepare('SELECT sqlite_version()')"
                            ".pluck().get(); } catch (e) { return ''; } })()"],
                           cwd=MIKRO_DIR, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return info
    words = r.stdout.split()
    if r.returncode == 0 and words:
        info["node"] = words[0]
        if len(words) > 1:
            info["better_sqlite3_sqlite"] = words[1]
    npm = {}
    for name in NPM_PACKAGES:
        try:
            with open(os.path.join(MIKRO_DIR, "node_modules", name, "package.json")) as f:
                npm[name] = json.load(f).get("version")
        except (OSError, ValueError):
            pass
    if npm:
        info["npm_packages"] = npm
    return info


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
        **node_info(),
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
            kept = {"date": old.get("date"), "quick": old.get("quick"), "rounds": old.get("rounds", 1),
                    "cases": sorted({r["case"] for r in old_cases})}
            earlier = old.get("kept_from_earlier_run")
            if earlier and set(kept["cases"]) <= set(earlier.get("cases", [])):
                # Those cases were kept already: they are from that run.
                kept["date"], kept["quick"] = earlier.get("date"), earlier.get("quick")
                kept["rounds"] = earlier.get("rounds", 1)
            cases = old_cases + cases
    doc = {
        "machine": machine_info(args.pg_url),
        "quick": bool(args.quick),
        "rounds": args.rounds,
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


class Series:
    """One implementation and variant in one group: its figure in each round
    (results.json before rounds existed has one, round 1)."""

    def __init__(self, impl, variant):
        self.impl = impl
        self.variant = variant
        self.by_round = {}

    def label(self):
        return f"{self.impl} {self.variant}" if self.variant else self.impl

    def values(self, field):
        return [r[field] for r in self.by_round.values() if r.get(field)]

    def median(self, field):
        v = self.values(field)
        return statistics.median(v) if v else None

    def us_per_op(self):
        """The median of the mean latencies where the program measured them,
        else the wall time per operation of the median ops/s (so that the
        two columns agree whatever the number of rounds)."""
        if self.values("mean_us"):
            return self.median("mean_us")
        ops = self.median("ops_per_s")
        return 1e6 / ops if ops else None


def group_series(rows):
    out = {}
    for r in rows:
        s = out.setdefault((r["impl"], r.get("variant")), Series(r["impl"], r.get("variant")))
        s.by_round[r.get("round", 1)] = r
    return list(out.values())


def best(series):
    """The series with the highest median ops/s, or None."""
    series = [s for s in series if s.median("ops_per_s")]
    return max(series, key=lambda s: s.median("ops_per_s")) if series else None


def raw_reference(key, series):
    raws = [s for s in series if s.impl == "raw_c"]
    want = RAW_REFERENCE.get((key[0], key[1]))
    if want:
        raws = [s for s in raws if s.variant == want]
    return best(raws)


class Ratio:
    """a over b round by round (b over a with invert, for times), over the
    rounds where both have the field: the median and the spread."""

    def __init__(self, a, b, field="ops_per_s"):
        self.values = []
        for rnd, ra in a.by_round.items():
            rb = b.by_round.get(rnd)
            if rb and ra.get(field) and rb.get(field):
                self.values.append(ra[field] / rb[field])
        self.median = statistics.median(self.values) if self.values else None

    def __bool__(self):
        return self.median is not None

    def spread(self):
        return fmt_spread(min(self.values), max(self.values)) if self.values else "-"

    def text(self):
        if not self:
            return "-"
        if len(self.values) == 1:
            return fmt_ratio(self.median)
        return f"{fmt_ratio(self.median)} ({self.spread()})"


def fmt_num(x, digits=3):
    if x is None:
        return "-"
    if x >= 100:
        return f"{x:,.0f}"
    return f"{x:.{digits}g}"


def fmt_plain(x):
    return f"{x:.0f}" if x >= 100 else f"{x:.1f}" if x >= 10 else f"{x:.2f}"


def fmt_ratio(x):
    return "-" if x is None else f"{fmt_plain(x)}x"


def fmt_spread(lo, hi):
    return f"{fmt_plain(lo)}-{fmt_plain(hi)}x"


# Targets.check's variant for "calx with its defaults" (issue 16: no
# feature turned on or off to reach a figure).
DEFAULTS = ""


class Targets:
    """The targets of issues 5, 10, 14 and 16, each checked on the median
    over the rounds of the per-round ratio (or figure) of the calx series
    with the best median, or of one calx variant where a target names it."""

    def __init__(self, groups, calx_built):
        self.groups = groups            # key -> [Series]
        self.calx_built = calx_built
        self.results = []   # (group key or None, text, status, detail)
        self.on_row = {}    # id() of the calx series a target was checked on -> ["status: text"]

    def series(self, key, impl):
        return [s for s in self.groups.get(key, []) if s.impl == impl]

    def record(self, key, text, ok, detail, calx=None):
        status = "met" if ok else "MISSED"
        self.results.append((key, text, status, detail))
        if calx is not None:
            self.on_row.setdefault(id(calx), []).append(f"{status}: {text}")

    def check(self, key, text, measure, variant=None):
        """measure(calx, series) -> (ok, detail) or None when it cannot be told.
        variant DEFAULTS checks calx as a user gets it, with no variant."""
        calx = best([s for s in self.series(key, "calx")
                     if variant is None or s.variant == variant or
                     (variant == DEFAULTS and not s.variant)])
        if calx is None:
            status = "n/a (calx: not built yet)" if not self.calx_built else "n/a (no calx figure)"
            self.results.append((key, text, status, ""))
            return
        got = measure(calx, self.groups.get(key, []))
        if got is None:
            self.results.append((key, text, "n/a (no figure to compare with)", ""))
            return
        ok, detail = got
        self.record(key, text, ok, detail, calx)

    def ratio_to_raw(self, key, text, minimum, variant=None):
        def m(calx, series):
            ref = raw_reference(key, series)
            ratio = Ratio(calx, ref) if ref else None
            if not ratio:
                return None
            return ratio.median >= minimum, f"{ratio.text()} {ref.label()}"
        self.check(key, text, m, variant)

    def time_vs_raw(self, key, text, maximum, variant=None):
        def m(calx, series):
            ref = raw_reference(key, series)
            ratio = Ratio(calx, ref, "mean_us") if ref else None
            if not ratio:
                return None
            return ratio.median <= maximum, (f"{calx.median('mean_us'):.2f} us vs {ref.median('mean_us'):.2f} us: "
                                             f"{ratio.text()} the time")
        self.check(key, text, m, variant)

    def ahead_of(self, key, text, impl, factor=1.0, variant=None):
        def m(calx, series):
            other = best([s for s in series if s.impl == impl])
            ratio = Ratio(calx, other) if other else None
            if not ratio:
                return None
            ok = ratio.median > 1.0 if factor == 1.0 else ratio.median >= factor
            return ok, f"{ratio.text()} {other.label()}"
        self.check(key, text, m, variant)

    def ahead_everywhere(self, keys, text, impl, factor):
        """calx against impl in every group where both have a figure (the
        best median of each); the detail names the closest one and the
        spread of its ratio."""
        pairs = []
        for key in keys:
            calx = best(self.series(key, "calx"))
            other = best(self.series(key, impl))
            ratio = Ratio(calx, other) if calx and other else None
            if ratio:
                pairs.append((ratio.median, group_sort(key), key, ratio))
        if not pairs:
            has_calx = any(self.series(k, "calx") for k in keys)
            status = ("n/a (calx: not built yet)" if not self.calx_built else
                      "n/a (no figure to compare with)" if has_calx else "n/a (no calx figure)")
            self.results.append((None, text, status, ""))
            return
        _, _, where, ratio = min(pairs, key=lambda p: p[:2])
        ok = all((r > 1.0 if factor == 1.0 else r >= factor) for r, *_ in pairs)
        self.record(None, text, ok, f"lowest {ratio.text()} ({group_label(where)}), {len(pairs)} cases")

    def absolute_us(self, key, text, maximum):
        def m(calx, series):
            us = calx.values("mean_us")
            if not us:
                return None
            spread = f" ({min(us):.3f}-{max(us):.3f})" if len(us) > 1 else ""
            return calx.median("mean_us") <= maximum, f"{calx.median('mean_us'):.3f} us{spread}"
        self.check(key, text, m)

    def rss(self, key, text, factor):
        """Per round: the smallest calx peak over the smallest raw C peak."""
        def m(calx, series):
            mine, raw = Series("calx", None), Series("raw_c", None)
            for s in series:
                for rnd, r in s.by_round.items():
                    into = mine if s.impl == "calx" else raw if s.impl == "raw_c" else None
                    if into is None or not r.get("peak_rss_kb"):
                        continue
                    old = into.by_round.get(rnd)
                    if old is None or r["peak_rss_kb"] < old["peak_rss_kb"]:
                        into.by_round[rnd] = r
            ratio = Ratio(mine, raw, "peak_rss_kb")
            if not ratio:
                return None
            return ratio.median <= factor, (f"{int(mine.median('peak_rss_kb')):,} kB vs "
                                            f"{int(raw.median('peak_rss_kb')):,} kB: {ratio.text()}")
        self.check(key, text, m)

    def p99_under(self, key, text, maximum_us):
        def m(calx, series):
            if not calx.median("p99_us"):
                return None
            return calx.median("p99_us") <= maximum_us, f"{calx.median('p99_us') / 1000:.2f} ms"
        self.check(key, text, m)

    def ratio_to_calx(self, key, other, text, minimum):
        """calx's figure in key over calx's own in the group other, round by round."""
        def m(calx, series):
            ref = best(self.series(other, "calx"))
            ratio = Ratio(calx, ref) if ref else None
            if not ratio:
                return None
            return ratio.median >= minimum, f"{ratio.text()} {group_label(other)}"
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
        # Issue 16's targets (the second wave; they replace issue 5's).
        self.ratio_to_raw(("B1", S, "delete", None), "SQLite B1 >= 0.9x raw C", 0.9)
        self.ratio_to_raw(("B1", S, "wal", None), "SQLite B1 (WAL) >= 0.9x raw C", 0.9)
        self.ratio_to_raw(("B4", S, "delete", None), "SQLite B4 >= 0.95x raw C", 0.95)
        self.ratio_to_raw(("B2", S, "delete", None), "SQLite B2 >= 0.95x raw C", 0.95)
        self.time_vs_raw(("B3", S, "delete", "cold"), "SQLite B3 cold, default options, <= 1.5x raw C's time",
                         1.5, variant=DEFAULTS)
        self.absolute_us(("B3", S, "delete", "warm"), "SQLite B3 warm (identity map) <= 0.05 us", 0.05)
        self.ratio_to_raw(("B1", P, None, None), "PostgreSQL B1 >= the best raw libpq variant (multi-row)", 1.0)
        self.ratio_to_raw(("B2", P, None, None), "PostgreSQL B2 >= raw libpq", 1.0)
        self.ahead_of(("B2", P, None, None), "PostgreSQL B2 ahead of asyncpg", "asyncpg")
        self.time_vs_raw(("B3", P, None, "cold"), "PostgreSQL B3 cold <= 1.1x raw libpq's time", 1.1)
        self.ratio_to_raw(("B4", P, None, None), "PostgreSQL B4 >= 0.95x pipelined libpq", 0.95)
        self.ahead_of(("B4", P, None, None), "PostgreSQL B4 ahead of asyncpg executemany", "asyncpg")
        self.ratio_to_raw(("B5", P, None, None), "PostgreSQL B5 >= 0.95x raw libpq's async loop", 0.95)
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
        # Issue 16: the unit-of-work peer.
        self.ahead_everywhere(every, "ahead of mikroorm on every case (issue 16)", "mikroorm", 1.0)
        self.rss(("B2", S, "delete", None), "SQLite B2 peak RSS <= 1.5x raw C's", 1.5)
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


def impl_sort(s):
    return (IMPL_ORDER.index(s.impl) if s.impl in IMPL_ORDER else 99, -(s.median("ops_per_s") or 0))


def table(args):
    with open(args.results) as f:
        doc = json.load(f)
    cases = doc.get("cases", [])
    # A case skipped in every round is skipped once.
    skipped, seen = [], set()
    for s in doc.get("skipped", []):
        k = (s.get("impl"), s.get("what"))
        if k not in seen:
            seen.add(k)
            skipped.append(s)
    calx_built = not any(s.get("impl") == "calx" and "not built" in s.get("reason", "") for s in skipped)
    rows_by_group = {}
    for r in cases:
        rows_by_group.setdefault(group_key(r), []).append(r)
    groups = {k: group_series(v) for k, v in rows_by_group.items()}
    rounds_seen = sorted({r.get("round", 1) for r in cases})

    checker = Targets(groups, calx_built)
    targets = checker.run()

    # The table: every implementation and variant, the median of its rounds.
    headers = ["case", "impl / variant", "ops/s", "us/op", "p99 us", "peak RSS kB", "vs raw C", "spread",
               "rounds", "targets"]
    NUMERIC = (2, 3, 4, 5, 6, 7, 8)
    rows, chart, versus = [], [], []
    for key in sorted(groups, key=group_sort):
        series = sorted(groups[key], key=impl_sort)
        ref = raw_reference(key, series)
        label = group_label(key)
        if not any(s.impl == "calx" for s in series):
            rows.append([label, "calx", "not built yet" if not calx_built else "no figure"] + [""] * 7)
        for s in series:
            ratio = Ratio(s, ref) if ref else None
            tgt = "; ".join(checker.on_row.get(id(s), []))  # on the series each target checked
            name = s.label() + (" *" if ref is s else "")
            rows.append([label, name, fmt_num(s.median("ops_per_s")), fmt_num(s.us_per_op()),
                         fmt_num(s.median("p99_us")), fmt_num(s.median("peak_rss_kb")),
                         fmt_ratio(ratio.median) if ratio else "-",
                         ratio.spread() if ratio and len(ratio.values) > 1 and s is not ref else "-",
                         len(s.by_round), tgt])
        chart_row = [label]
        for impl, _ in CHART_IMPLS:
            b = best([s for s in series if s.impl == impl])
            chart_row.append(f"{b.median('ops_per_s'):.1f}" if b else "NaN")
        chart.append(chart_row)
        # calx against raw C and each peer, round by round.
        calx = best([s for s in series if s.impl == "calx"])
        if calx and (ref or any(s.impl in PEERS for s in series)):
            cells = [label, calx.label()]
            for other in [ref] + [best([s for s in series if s.impl == p]) for p in PEERS]:
                ratio = Ratio(calx, other) if other else None
                cells.append(f"{ratio.text()} {other.variant}" if ratio and other.variant and other.impl != "calx"
                             else ratio.text() if ratio else "")
            versus.append(cells)

    m = doc.get("machine", {})
    pk = m.get("packages", {})
    npm = m.get("npm_packages", {})
    nrounds = doc.get("rounds") or len(rounds_seen) or 1
    head = (f"calx benchmarks ({'BENCH_QUICK=1: every case a tenth of full size' if doc.get('quick') else 'full size'})"
            f", {doc.get('date', '')}, {nrounds} round(s), run took {doc.get('run_seconds', '?')} s\n"
            f"machine: {m.get('cpu', '?')}, {m.get('cores', '?')} cores, {m.get('memory_mb', '?')} MB, "
            f"Linux {m.get('kernel', '?')}, Debian {m.get('debian', '?')}, load {m.get('loadavg_at_end', '?')}\n"
            f"versions: SQLite {pk.get('libsqlite3-0', '?')}, libpq {pk.get('libpq5', '?')}, "
            f"PostgreSQL {m.get('postgresql_server', '?')}, Python {m.get('python', '?')}, "
            f"SQLAlchemy {pk.get('python3-sqlalchemy', '?')}, SQLModel {pk.get('python3-sqlmodel', '?')}, "
            f"aiosqlite {pk.get('python3-aiosqlite', '?')}, asyncpg {pk.get('python3-asyncpg', '?')}")
    if m.get("node") or npm:
        head += (f", Node.js {m.get('node', '?')}, MikroORM {npm.get('@mikro-orm/core', '?')} "
                 f"(better-sqlite3 {npm.get('better-sqlite3', '?')} with its own SQLite "
                 f"{m.get('better_sqlite3_sqlite', '?')}, knex {npm.get('knex', '?')}, pg {npm.get('pg', '?')})")
    kept = doc.get("kept_from_earlier_run")
    if kept:
        head += (f"\n{', '.join(kept['cases'])}: kept from the run of {kept.get('date')}"
                 f" ({kept.get('rounds', 1)} round(s){', BENCH_QUICK=1' if kept.get('quick') else ''});"
                 " the rest measured in this one")
    legend = ("Every figure is the median of the rounds the implementation ran in (rounds).\n"
              "us/op: mean microseconds per operation (per get in B3, per transaction in B5, else wall time / rows).\n"
              "vs raw C: ops/s over the raw C figure marked * (issue 5's reference for that case), taken in each "
              "round and the median shown; spread: the lowest and highest of those per-round ratios.")
    trows = [[text, status, detail] for _, text, status, detail in targets]
    vheaders = ["case", "calx series", "raw C *"] + PEERS
    vlegend = ("calx / each implementation: calx's best series (by median) over the other's best, round by round: "
               "the median ratio (lowest-highest); above 1x calx is ahead.")
    notes = []
    if not calx_built:
        notes.append("calx: not built yet (bench/calx_bench.c does not exist): no calx figures, no target checked.")
    for s in skipped:
        if s.get("impl") != "calx" or "not built" not in s.get("reason", ""):
            notes.append(f"skipped: {s.get('impl')} {s.get('what')}: {s.get('reason')}")
    for fl in doc.get("failures", []):
        notes.append(f"FAILED: {fl.get('what')} (exit {fl.get('exit')}): {fl.get('stderr', '')[:300]}")

    text = "\n\n".join([head, render(headers, rows, right=NUMERIC), legend,
                        "calx against each implementation\n" + render(vheaders, versus), vlegend,
                        "Targets (issues 5, 10, 14 and 16; judged on the median ratio)\n" +
                        render(["target", "status", "figure: median (spread)"], trows)] +
                       (["\n".join(notes)] if notes else []))
    print(text)

    if args.md:
        md = "\n\n".join([head.replace("\n", "  \n"), render(headers, rows, md=True, right=NUMERIC),
                          legend.replace("\n", "  \n"),
                          "**calx against each implementation**", render(vheaders, versus, md=True), vlegend,
                          "**Targets (issues 5, 10, 14 and 16; judged on the median ratio)**",
                          render(["target", "status", "figure: median (spread)"], trows, md=True)] +
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
    c.add_argument("--rounds", type=int, help="how many rounds the run made")
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
