#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The heroes cases B1-B6 run by the Python peers, one JSON line per
measurement, in the same format as the C programs (bench/README.md).

    /usr/bin/python3 bench/py/bench.py --impl IMPL --backend sqlite|postgresql
        --case B1|B2|B3|B4|B5|B6 [--variant V] [--journal delete|wal]
        [--dir DIR] [--pg-url URL]

IMPL is one of
  sqlalchemy_async  SQLAlchemy's asyncio ORM: declarative models, AsyncSession
                    from sessionmaker(class_=AsyncSession) (1.4 has no
                    async_sessionmaker), on aiosqlite or asyncpg
  sqlmodel_async    SQLModel table models (table=True) on the same
                    sqlalchemy.ext.asyncio.AsyncSession: SQLModel 0.0.8 has no
                    AsyncSession of its own
  asyncpg           raw asyncpg (PostgreSQL only): executemany, fetch, pool;
                    no B6 (it has no relationships)

Runs on Debian's python3 and Debian's packages (scripts/bench-deps.sh). The
sizes, the workload and the random primary keys are the ones in
bench/bench_common.h; BENCH_QUICK=1 divides every size by ten. The setup of
each case (schema, teams, heroes to read) is untimed and done with the plain
drivers (the stdlib sqlite3 module, asyncpg's COPY), with the same DDL as the
C programs.
"""

import argparse
import asyncio
import json
import math
import os
import resource
import sqlite3
import sys
import time

HEROES = 100_000
GETS = 10_000
UPDATES = 10_000
TXNS = 10_000
CLIENTS = 50
POOL_SIZE = 5
MAX_OVERFLOW = 10
# B5's warm-up before the clock (bench_common.h's BENCH_B5_WARM_SQL): this
# many at once through the pool, so that it opens every connection it may
# use, as raw libpq's are open first; each pool then keeps what it keeps.
B5_WARM_SQL = "SELECT pg_sleep(0.05)"
TEAMS = 10            # B1-B5
B6_TEAMS = 1000       # B6: teams loaded with their heroes (quick: a tenth) ...
B6_PER_TEAM = 100     # ... this many each
SEED = 20240605
MASK64 = (1 << 64) - 1

SQLITE_DDL = [
    "CREATE TABLE team (\n\tid INTEGER NOT NULL, \n\tname VARCHAR NOT NULL, \n"
    "\theadquarters VARCHAR NOT NULL, \n\tPRIMARY KEY (id)\n)",
    "CREATE TABLE hero (\n\tid INTEGER NOT NULL, \n\tname VARCHAR NOT NULL, \n"
    "\tsecret_name VARCHAR NOT NULL, \n\tage INTEGER, \n\tteam_id INTEGER, \n"
    "\tPRIMARY KEY (id), \n\tFOREIGN KEY(team_id) REFERENCES team (id)\n)",
    "CREATE INDEX ix_hero_name ON hero (name)",
    "CREATE INDEX ix_hero_age ON hero (age)",
]
PG_DDL = [
    "CREATE TABLE team (\n\tid SERIAL NOT NULL, \n\tname VARCHAR NOT NULL, \n"
    "\theadquarters VARCHAR NOT NULL, \n\tPRIMARY KEY (id)\n)",
    "CREATE TABLE hero (\n\tid SERIAL NOT NULL, \n\tname VARCHAR NOT NULL, \n"
    "\tsecret_name VARCHAR NOT NULL, \n\tage INTEGER, \n\tteam_id INTEGER, \n"
    "\tPRIMARY KEY (id), \n\tFOREIGN KEY(team_id) REFERENCES team (id)\n)",
    "CREATE INDEX ix_hero_name ON hero (name)",
    "CREATE INDEX ix_hero_age ON hero (age)",
]
SUM_AGES = "SELECT coalesce(sum(coalesce(age, 0)), 0) FROM hero"

# asyncpg's statements, as libpq's in raw_libpq.c.
PG_INSERT = "INSERT INTO hero (name, secret_name, age, team_id) VALUES ($1, $2, $3, $4)"
PG_SELECT_ALL = "SELECT hero.id, hero.name, hero.secret_name, hero.age, hero.team_id FROM hero"
PG_SELECT_PK = PG_SELECT_ALL + " WHERE hero.id = $1"
PG_SELECT_FIRST = PG_SELECT_ALL + " ORDER BY hero.id LIMIT $1"
PG_UPDATE = "UPDATE hero SET age=$1 WHERE hero.id = $2"


class Fail(Exception):
    pass


# ---- workload ----------------------------------------------------------------

def quick():
    return os.environ.get("BENCH_QUICK", "") not in ("", "0")


def sizes():
    div = 10 if quick() else 1
    return HEROES // div, GETS // div, UPDATES // div, TXNS // div


def b6_teams():
    return B6_TEAMS // (10 if quick() else 1)


def hero_age(i):
    return None if i % 7 == 0 else i % 100


def hero_row(i, teams=TEAMS):
    return (f"hero-{i}", f"secret-{i}", hero_age(i), 1 + i % teams)


def new_age(age):
    return (0 if age is None else age) + 1


def get_pk(i, n):
    return 1 + (i * 7919) % n


class Rng:
    """The LCG of bench_common.c, for B5's random primary keys."""

    def __init__(self):
        self.state = SEED

    def pk(self, n):
        self.state = (self.state * 6364136223846793005 + 1442695040888963407) & MASK64
        return 1 + (self.state >> 33) % n


def check_b5(done, grew, txns, n):
    """B5's check, as bench_check_b5 in bench_common.c: done transactions of
    txns ran and the ages grew by at most txns and at least the number of
    distinct heroes the txns draws of Rng name (each keeps at least one
    committed update; two at once on one hero lose one). Less means commits
    were lost."""
    rng = Rng()
    distinct = len({rng.pk(n) for _ in range(txns)})
    if done != txns or not distinct <= grew <= txns:
        raise Fail(f"B5: {done} of {txns} transactions, ages grew by {grew}; "
                   f"expected {distinct} to {txns} (the heroes drawn, to the transactions)")


def p99(lat):
    """Nearest-rank 99th percentile, as lat_p99 in bench_common.c."""
    s = sorted(lat)
    rank = min(max(math.ceil(len(s) * 0.99), 1), len(s))
    return s[rank - 1]


def maxrss_kb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def emit(**rec):
    out = {k: v for k, v in rec.items() if v is not None}
    if out.get("seconds") and out.get("ops"):
        out["seconds"] = round(out["seconds"], 6)
        out["ops_per_s"] = round(out["ops"] / rec["seconds"], 1)
    for k in ("mean_us", "p99_us"):
        if k in out:
            out[k] = round(out[k], 3)
    print(json.dumps(out), flush=True)


def check_hero(name, secret, age, team_id, pk, teams=TEAMS):
    if (name, secret, age, team_id) != hero_row(pk, teams):
        raise Fail(f"hero {pk} read back wrong: {(name, secret, age, team_id)!r}")


def check_b6(teams, n):
    """B6's check, as b6_check_* in bench_common.c: teams 1..n once each,
    names right, B6_PER_TEAM heroes each, every hero's fields and team."""
    if len(teams) != n or sorted(t.id for t in teams) != list(range(1, n + 1)):
        raise Fail(f"B6: loaded {len(teams)} teams, not teams 1..{n}")
    for t in teams:
        if (t.name, t.headquarters) != (f"team-{t.id}", f"hq-{t.id}"):
            raise Fail(f"B6: team {t.id} read back wrong")
        if len(t.heroes) != B6_PER_TEAM:
            raise Fail(f"B6: team {t.id} has {len(t.heroes)} heroes, not {B6_PER_TEAM}")
        for h in t.heroes:
            if h.team_id != t.id:
                raise Fail(f"B6: hero {h.id} (team_id {h.team_id}) is in team {t.id}")
            check_hero(h.name, h.secret_name, h.age, h.team_id, h.id, n)


# ---- untimed setup ------------------------------------------------------------

def sqlite_remove(path):
    for suffix in ("", "-journal", "-wal", "-shm"):
        try:
            os.unlink(path + suffix)
        except FileNotFoundError:
            pass


def sqlite_create(path, journal, teams, n):
    sqlite_remove(path)
    db = sqlite3.connect(path, isolation_level=None)
    if journal == "wal":
        mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if mode != "wal":
            raise Fail(f"{path}: journal_mode is {mode}, not wal")
    for ddl in SQLITE_DDL:
        db.execute(ddl)
    db.execute("BEGIN")
    db.executemany("INSERT INTO team (name, headquarters) VALUES (?, ?)",
                   ((f"team-{j}", f"hq-{j}") for j in range(1, teams + 1)))
    db.executemany("INSERT INTO hero (name, secret_name, age, team_id) VALUES (?, ?, ?, ?)",
                   (hero_row(i, teams) for i in range(1, n + 1)))
    db.execute("COMMIT")
    db.close()


def sqlite_scalar(path, sql):
    db = sqlite3.connect(path)
    try:
        return db.execute(sql).fetchone()[0]
    finally:
        db.close()


async def pg_create(url, teams, n):
    import asyncpg
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("SET client_min_messages = warning")
        await conn.execute("DROP TABLE IF EXISTS hero")
        await conn.execute("DROP TABLE IF EXISTS team")
        for ddl in PG_DDL:
            await conn.execute(ddl)
        await conn.execute("INSERT INTO team (name, headquarters) "
                           "SELECT 'team-' || j, 'hq-' || j FROM generate_series(1, $1::int) AS j", teams)
        if n:
            await conn.copy_records_to_table(
                "hero", records=(hero_row(i, teams) for i in range(1, n + 1)),
                columns=["name", "secret_name", "age", "team_id"])
        await conn.execute("ANALYZE team")
        await conn.execute("ANALYZE hero")
    finally:
        await conn.close()


async def pg_scalar(url, sql):
    import asyncpg
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval(sql)
    finally:
        await conn.close()


async def pg_drop(url):
    import asyncpg
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("SET client_min_messages = warning")
        await conn.execute("DROP TABLE IF EXISTS hero")
        await conn.execute("DROP TABLE IF EXISTS team")
    finally:
        await conn.close()


class Db:
    """The case's fresh database: made, counted and removed with the plain
    drivers, outside the timed part."""

    def __init__(self, args, n, teams=TEAMS):
        self.args = args
        self.backend = args.backend
        self.n = n
        self.teams = teams
        if self.backend == "sqlite":
            self.path = os.path.abspath(os.path.join(
                args.dir, f"{args.impl}-{args.case}-{args.journal}.db"))

    async def create(self):
        if self.backend == "sqlite":
            sqlite_create(self.path, self.args.journal, self.teams, self.n)
        else:
            await pg_create(self.args.pg_url, self.teams, self.n)

    async def scalar(self, sql):
        if self.backend == "sqlite":
            return sqlite_scalar(self.path, sql)
        return await pg_scalar(self.args.pg_url, sql)

    async def remove(self):
        if self.backend == "sqlite":
            sqlite_remove(self.path)
        else:
            await pg_drop(self.args.pg_url)

    def sqlalchemy_url(self):
        if self.backend == "sqlite":
            return "sqlite+aiosqlite:///" + self.path
        url = self.args.pg_url
        if not url.startswith("postgresql://"):
            raise Fail(f"expected a postgresql:// URL, got {url}")
        return "postgresql+asyncpg://" + url[len("postgresql://"):]


# ---- the ORMs: SQLAlchemy asyncio and SQLModel ------------------------------------

# Both declare Team.heroes / Hero.team with back_populates, as the tutorial
# and calx_bench.c do: the same models serve every case.
def sqlalchemy_models():
    from sqlalchemy import Column, ForeignKey, Integer, String
    from sqlalchemy.orm import declarative_base, relationship

    Base = declarative_base()

    class Team(Base):
        __tablename__ = "team"
        id = Column(Integer, primary_key=True)
        name = Column(String, nullable=False)
        headquarters = Column(String, nullable=False)
        heroes = relationship("Hero", back_populates="team")

    class Hero(Base):
        __tablename__ = "hero"
        id = Column(Integer, primary_key=True)
        name = Column(String, nullable=False, index=True)
        secret_name = Column(String, nullable=False)
        age = Column(Integer, index=True)
        team_id = Column(Integer, ForeignKey("team.id"))
        team = relationship("Team", back_populates="heroes")

    return Team, Hero


def sqlmodel_models():
    from typing import List, Optional

    from sqlmodel import Field, Relationship, SQLModel

    class Team(SQLModel, table=True):
        id: Optional[int] = Field(default=None, primary_key=True)
        name: str
        headquarters: str
        heroes: List["Hero"] = Relationship(back_populates="team")

    class Hero(SQLModel, table=True):
        id: Optional[int] = Field(default=None, primary_key=True)
        name: str = Field(index=True)
        secret_name: str
        age: Optional[int] = Field(default=None, index=True)
        team_id: Optional[int] = Field(default=None, foreign_key="team.id")
        team: Optional[Team] = Relationship(back_populates="heroes")

    return Team, Hero


class Orm:
    def __init__(self, args, db):
        from sqlalchemy import select, text
        from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
        from sqlalchemy.orm import configure_mappers, sessionmaker

        if args.impl == "sqlmodel_async":
            from sqlmodel import select  # noqa: F811 (SQLModel's own select)
            self.Team, self.Hero = sqlmodel_models()
        else:
            self.Team, self.Hero = sqlalchemy_models()
        configure_mappers()
        self.select = select
        self.text = text
        kw = {}
        if args.backend == "postgresql":
            kw = dict(pool_size=POOL_SIZE, max_overflow=MAX_OVERFLOW)
        # The engine's defaults otherwise: on a SQLite file that is NullPool in
        # SQLAlchemy 1.4 (a connection per session), QueuePool on PostgreSQL.
        self.engine = create_async_engine(db.sqlalchemy_url(), **kw)
        # The pattern SQLAlchemy's asyncio docs give: nothing expires on commit.
        self.Session = sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False)

    async def warm(self):
        """Opens the engine's first connection (and, on PostgreSQL, leaves it
        in the pool) before anything is timed."""
        async with self.engine.connect() as conn:
            await conn.execute(self.text("SELECT 1"))

    async def close(self):
        await self.engine.dispose()


async def orm_case(args):
    n, gets, updates, txns = sizes()
    common = dict(backend=args.backend, impl=args.impl,
                  journal=args.journal if args.backend == "sqlite" else None)
    if args.case == "B6":
        db = Db(args, b6_teams() * B6_PER_TEAM, b6_teams())
    else:
        db = Db(args, 0 if args.case == "B1" else n)
    await db.create()
    orm = Orm(args, db)
    Team, Hero, select = orm.Team, orm.Hero, orm.select
    await orm.warm()
    try:
        if args.case == "B1":
            t0 = time.perf_counter()
            async with orm.Session() as s:
                heroes = [Hero(name=f"hero-{i}", secret_name=f"secret-{i}", age=hero_age(i),
                               team_id=1 + i % 10) for i in range(1, n + 1)]
                s.add_all(heroes)
                await s.commit()
                t1 = time.perf_counter()
            if heroes[0].id != 1 or heroes[-1].id != n or await db.scalar("SELECT count(*) FROM hero") != n:
                raise Fail("B1: wrong ids or row count")
            emit(case="B1", **common, ops=n, seconds=t1 - t0)

        elif args.case == "B2":
            base = maxrss_kb()
            async with orm.Session() as s:
                t0 = time.perf_counter()
                heroes = (await s.execute(select(Hero))).scalars().all()
                t1 = time.perf_counter()
                peak = maxrss_kb()
                if len(heroes) != n:
                    raise Fail(f"B2: loaded {len(heroes)} heroes, not {n}")
                for h in heroes[::997]:
                    check_hero(h.name, h.secret_name, h.age, h.team_id, h.id)
            emit(case="B2", **common, ops=n, seconds=t1 - t0, peak_rss_kb=peak, base_rss_kb=base)

        elif args.case == "B3":
            async with orm.Session() as s:
                results = {}
                # The identity map holds objects weakly: the caller keeps them,
                # or the warm pass would load them again.
                held = []
                for phase in ("cold", "warm"):
                    lat = []
                    start = time.perf_counter()
                    for i in range(gets):
                        pk = get_pk(i, n)
                        t = time.perf_counter()
                        h = await s.get(Hero, pk)
                        lat.append((time.perf_counter() - t) * 1e6)
                        if h.id != pk:
                            raise Fail("B3: got the wrong hero")
                        held.append(h)
                    results[phase] = (time.perf_counter() - start, lat)
                for h in [await s.get(Hero, get_pk(i, n)) for i in range(0, gets, 101)]:
                    check_hero(h.name, h.secret_name, h.age, h.team_id, h.id)
            for phase, (secs, lat) in results.items():
                emit(case="B3", **common, phase=phase, ops=gets, seconds=secs,
                     mean_us=sum(lat) / len(lat), p99_us=p99(lat))

        elif args.case == "B4":
            before = await db.scalar(SUM_AGES)
            t0 = time.perf_counter()
            async with orm.Session() as s:
                heroes = (await s.execute(select(Hero).order_by(Hero.id).limit(updates))).scalars().all()
                for h in heroes:
                    h.age = new_age(h.age)
                await s.commit()
                t1 = time.perf_counter()
            after = await db.scalar(SUM_AGES)
            if len(heroes) != updates or after - before != updates:
                raise Fail(f"B4: {len(heroes)} heroes loaded, ages grew by {after - before}, expected {updates}")
            emit(case="B4", **common, ops=updates, seconds=t1 - t0)

        elif args.case == "B5":
            before = await db.scalar(SUM_AGES)
            rng = Rng()
            state = {"next": 0, "done": 0}
            lat = []

            async def client():
                while state["next"] < txns:
                    state["next"] += 1
                    pk = rng.pk(n)
                    t = time.perf_counter()
                    async with orm.Session() as s:
                        h = await s.get(Hero, pk)
                        h.age = new_age(h.age)
                        await s.commit()
                        lat.append((time.perf_counter() - t) * 1e6)
                    state["done"] += 1

            from sqlalchemy import text

            async def warm():
                async with orm.engine.connect() as conn:
                    await conn.execute(text(B5_WARM_SQL))

            await asyncio.gather(*(warm() for _ in range(POOL_SIZE + MAX_OVERFLOW)))
            t0 = time.perf_counter()
            await asyncio.gather(*(client() for _ in range(CLIENTS)))
            t1 = time.perf_counter()
            after = await db.scalar(SUM_AGES)
            check_b5(state["done"], after - before, txns, n)
            emit(case="B5", **common, ops=txns, seconds=t1 - t0,
                 mean_us=sum(lat) / len(lat), p99_us=p99(lat))

        elif args.case == "B6":
            from sqlalchemy.orm import selectinload
            async with orm.Session() as s:
                t0 = time.perf_counter()
                teams = (await s.execute(select(Team).options(selectinload(Team.heroes)))).scalars().all()
                t1 = time.perf_counter()
                check_b6(teams, db.teams)
            emit(case="B6", **common, variant="selectinload", ops=db.n, seconds=t1 - t0)
    finally:
        await orm.close()
        await db.remove()


# ---- raw asyncpg --------------------------------------------------------------------

async def asyncpg_case(args):
    import asyncpg

    n, gets, updates, txns = sizes()
    common = dict(backend="postgresql", impl="asyncpg")
    db = Db(args, 0 if args.case == "B1" else n)
    await db.create()
    url = args.pg_url
    try:
        if args.case == "B5":
            before = await db.scalar(SUM_AGES)
            pool = await asyncpg.create_pool(url, min_size=POOL_SIZE, max_size=POOL_SIZE + MAX_OVERFLOW)
            rng = Rng()
            state = {"next": 0, "done": 0}
            lat = []

            async def client():
                while state["next"] < txns:
                    state["next"] += 1
                    pk = rng.pk(n)
                    t = time.perf_counter()
                    async with pool.acquire() as conn:
                        async with conn.transaction():
                            row = await conn.fetchrow(PG_SELECT_PK, pk)
                            await conn.execute(PG_UPDATE, new_age(row["age"]), pk)
                    lat.append((time.perf_counter() - t) * 1e6)
                    state["done"] += 1

            try:
                await asyncio.gather(*(pool.fetchval(B5_WARM_SQL)
                                       for _ in range(POOL_SIZE + MAX_OVERFLOW)))
                t0 = time.perf_counter()
                await asyncio.gather(*(client() for _ in range(CLIENTS)))
                t1 = time.perf_counter()
            finally:
                await pool.close()
            after = await db.scalar(SUM_AGES)
            check_b5(state["done"], after - before, txns, n)
            emit(case="B5", **common, variant="pool", ops=txns, seconds=t1 - t0,
                 mean_us=sum(lat) / len(lat), p99_us=p99(lat))
            return

        conn = await asyncpg.connect(url)
        try:
            if args.case == "B1":
                t0 = time.perf_counter()
                rows = [hero_row(i) for i in range(1, n + 1)]
                async with conn.transaction():
                    await conn.executemany(PG_INSERT, rows)
                t1 = time.perf_counter()
                if await conn.fetchval("SELECT count(*) FROM hero") != n:
                    raise Fail("B1: wrong row count")
                emit(case="B1", **common, variant="executemany", ops=n, seconds=t1 - t0,
                     note="executemany returns no ids")

            elif args.case == "B2":
                base = maxrss_kb()
                t0 = time.perf_counter()
                rows = await conn.fetch(PG_SELECT_ALL)
                t1 = time.perf_counter()
                peak = maxrss_kb()
                if len(rows) != n:
                    raise Fail(f"B2: loaded {len(rows)} heroes, not {n}")
                for r in rows[::997]:
                    check_hero(r["name"], r["secret_name"], r["age"], r["team_id"], r["id"])
                emit(case="B2", **common, variant="fetch", ops=n, seconds=t1 - t0,
                     peak_rss_kb=peak, base_rss_kb=base)

            elif args.case == "B3":
                results = {}
                async with conn.transaction():
                    for phase in ("cold", "warm"):
                        lat = []
                        start = time.perf_counter()
                        for i in range(gets):
                            pk = get_pk(i, n)
                            t = time.perf_counter()
                            row = await conn.fetchrow(PG_SELECT_PK, pk)
                            lat.append((time.perf_counter() - t) * 1e6)
                            if row["id"] != pk:
                                raise Fail("B3: got the wrong hero")
                        results[phase] = (time.perf_counter() - start, lat)
                for phase, (secs, lat) in results.items():
                    emit(case="B3", **common, variant="fetchrow", phase=phase, ops=gets, seconds=secs,
                         mean_us=sum(lat) / len(lat), p99_us=p99(lat),
                         note="no identity map: warm repeats the lookup" if phase == "warm" else None)

            elif args.case == "B4":
                before = await db.scalar(SUM_AGES)
                t0 = time.perf_counter()
                async with conn.transaction():
                    rows = await conn.fetch(PG_SELECT_FIRST, updates)
                    await conn.executemany(PG_UPDATE, [(new_age(r["age"]), r["id"]) for r in rows])
                t1 = time.perf_counter()
                after = await db.scalar(SUM_AGES)
                if len(rows) != updates or after - before != updates:
                    raise Fail(f"B4: {len(rows)} heroes loaded, ages grew by {after - before}")
                emit(case="B4", **common, variant="executemany", ops=updates, seconds=t1 - t0)
        finally:
            await conn.close()
    finally:
        await db.remove()


# ---- main ---------------------------------------------------------------------------

def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--impl", required=True, choices=["sqlalchemy_async", "sqlmodel_async", "asyncpg"])
    p.add_argument("--backend", required=True, choices=["sqlite", "postgresql"])
    p.add_argument("--case", required=True, choices=["B1", "B2", "B3", "B4", "B5", "B6"])
    p.add_argument("--variant", help="accepted for symmetry with the C programs; each impl has one per case")
    p.add_argument("--journal", default="delete", choices=["delete", "wal"])
    p.add_argument("--dir", default=os.environ.get("BENCH_DIR") or ".")
    p.add_argument("--pg-url", default=os.environ.get("CALX_TEST_PG_URL"))
    args = p.parse_args()

    prog = "bench.py"
    if args.journal == "wal" and (args.backend != "sqlite" or args.case != "B1"):
        sys.exit(f"{prog}: --journal wal applies to B1 on sqlite only")
    if args.case == "B5" and args.backend != "postgresql":
        sys.exit(f"{prog}: B5 runs on PostgreSQL only")
    if args.impl == "asyncpg" and args.backend != "postgresql":
        sys.exit(f"{prog}: asyncpg runs on PostgreSQL only")
    if args.impl == "asyncpg" and args.case == "B6":
        sys.exit(f"{prog}: asyncpg has no relationships: no B6")
    if args.backend == "postgresql" and not args.pg_url:
        sys.exit(f"{prog}: no PostgreSQL URL: pass --pg-url or set CALX_TEST_PG_URL")

    needed = {"sqlalchemy_async": ["sqlalchemy", "greenlet"],
              "sqlmodel_async": ["sqlalchemy", "greenlet", "sqlmodel"],
              "asyncpg": []}[args.impl]
    needed += ["aiosqlite"] if args.backend == "sqlite" else ["asyncpg"]
    for mod in needed:
        try:
            __import__(mod)
        except ImportError as e:
            sys.exit(f"{prog}: cannot import {mod} ({e}); run this with Debian's /usr/bin/python3 "
                     "after scripts/bench-deps.sh")

    run = asyncpg_case if args.impl == "asyncpg" else orm_case
    try:
        asyncio.run(run(args))
    except Fail as e:
        sys.exit(f"{prog}: {args.impl} {args.backend} {args.case}: {e}")


if __name__ == "__main__":
    main()
