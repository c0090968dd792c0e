#!/usr/bin/env node
// SPDX-License-Identifier: MIT
//
// The heroes cases B1-B6 run by MikroORM (bench/README.md), one JSON line per
// measurement on stdout, in the format of the C programs and bench/py/bench.py.
//
//   node bench/mikroorm/bench.js --backend sqlite|postgresql
//       --case B1|B2|B3|B4|B5|B6 [--variant V] [--journal delete|wal]
//       [--dir DIR] [--pg-url URL]
//
// MikroORM 6.6.16 (Data Mapper, Unit of Work, Identity Map), plain JavaScript
// with EntitySchema, so there is no TypeScript build step; everything goes
// through an EntityManager forked from the ORM's global one, with MikroORM's
// defaults unless a comment says otherwise. PostgreSQL through
// @mikro-orm/postgresql (knex + pg), SQLite through @mikro-orm/better-sqlite
// (better-sqlite3, which brings its own SQLite). scripts/bench-deps.sh
// installs them into bench/mikroorm/node_modules (npm ci).
//
// The sizes, the workload and B5's random keys are bench_common.h's;
// BENCH_QUICK=1 divides every size by ten. The setup of each case (schema,
// teams, heroes to read) is untimed and done with the plain drivers
// (better-sqlite3, pg) and the same DDL as the other programs.
'use strict';

const fs = require('fs');
const path = require('path');

const HEROES = 100000;
const GETS = 10000;
const UPDATES = 10000;
const TXNS = 10000;
const CLIENTS = 50;
const POOL_SIZE = 5;
const MAX_OVERFLOW = 10;
const B5_WARM_SQL = 'SELECT pg_sleep(0.05)'; // B5's warm-up (bench_common.h)
const TEAMS = 10; // B1-B5
const B6_TEAMS = 1000; // B6: teams loaded with their heroes (quick: a tenth) ...
const B6_PER_TEAM = 100; // ... this many each
const SEED = 20240605n;
const MASK64 = (1n << 64n) - 1n;

const SQLITE_DDL = [
  'CREATE TABLE team (\n\tid INTEGER NOT NULL, \n\tname VARCHAR NOT NULL, \n' +
    '\theadquarters VARCHAR NOT NULL, \n\tPRIMARY KEY (id)\n)',
  'CREATE TABLE hero (\n\tid INTEGER NOT NULL, \n\tname VARCHAR NOT NULL, \n' +
    '\tsecret_name VARCHAR NOT NULL, \n\tage INTEGER, \n\tteam_id INTEGER, \n' +
    '\tPRIMARY KEY (id), \n\tFOREIGN KEY(team_id) REFERENCES team (id)\n)',
  'CREATE INDEX ix_hero_name ON hero (name)',
  'CREATE INDEX ix_hero_age ON hero (age)',
];
const PG_DDL = [
  'CREATE TABLE team (\n\tid SERIAL NOT NULL, \n\tname VARCHAR NOT NULL, \n' +
    '\theadquarters VARCHAR NOT NULL, \n\tPRIMARY KEY (id)\n)',
  'CREATE TABLE hero (\n\tid SERIAL NOT NULL, \n\tname VARCHAR NOT NULL, \n' +
    '\tsecret_name VARCHAR NOT NULL, \n\tage INTEGER, \n\tteam_id INTEGER, \n' +
    '\tPRIMARY KEY (id), \n\tFOREIGN KEY(team_id) REFERENCES team (id)\n)',
  'CREATE INDEX ix_hero_name ON hero (name)',
  'CREATE INDEX ix_hero_age ON hero (age)',
];
const SUM_AGES = 'SELECT coalesce(sum(coalesce(age, 0)), 0) AS s FROM hero';

class Fail extends Error {}

// ---- workload -----------------------------------------------------------------

function quick() {
  const q = process.env.BENCH_QUICK;
  return q !== undefined && q !== '' && q !== '0';
}

function sizes() {
  const div = quick() ? 10 : 1;
  return { n: HEROES / div, gets: GETS / div, updates: UPDATES / div, txns: TXNS / div };
}

const b6Teams = () => B6_TEAMS / (quick() ? 10 : 1);
const heroAge = (i) => (i % 7 === 0 ? null : i % 100);
const heroTeam = (i, teams) => 1 + (i % teams);
const newAge = (age) => (age === null || age === undefined ? 0 : age) + 1;
const getPk = (i, n) => 1 + ((i * 7919) % n);

// The LCG of bench_common.c (bench_rand_pk), for B5's random primary keys.
class Rng {
  constructor() {
    this.state = SEED;
  }
  pk(n) {
    this.state = (this.state * 6364136223846793005n + 1442695040888963407n) & MASK64;
    return 1 + Number((this.state >> 33n) % BigInt(n));
  }
}

// B5's check, as bench_check_b5: every transaction ran, and the ages grew by
// at most txns and at least the number of distinct heroes drawn (each keeps
// at least one committed update; two at once on one hero lose one).
function checkB5(done, grew, txns, n) {
  const rng = new Rng();
  const seen = new Set();
  for (let i = 0; i < txns; i++) seen.add(rng.pk(n));
  if (done !== txns || grew < seen.size || grew > txns) {
    throw new Fail(`B5: ${done} of ${txns} transactions, ages grew by ${grew}; ` +
      `expected ${seen.size} to ${txns} (the heroes drawn, to the transactions)`);
  }
}

function checkHero(h, pk, teams = TEAMS) {
  const teamId = h.team ? h.team.id : null;
  if (h.id !== pk || h.name !== `hero-${pk}` || h.secretName !== `secret-${pk}` ||
      h.age !== heroAge(pk) || teamId !== heroTeam(pk, teams)) {
    throw new Fail(`hero ${pk} read back wrong: ${JSON.stringify([h.id, h.name, h.secretName, h.age, teamId])}`);
  }
}

// B6's check, as b6_check_* in bench_common.c.
function checkB6(teams, n) {
  const ids = teams.map((t) => t.id).sort((a, b) => a - b);
  if (teams.length !== n || ids.some((id, k) => id !== k + 1)) {
    throw new Fail(`B6: loaded ${teams.length} teams, not teams 1..${n}`);
  }
  for (const t of teams) {
    if (t.name !== `team-${t.id}` || t.headquarters !== `hq-${t.id}`) throw new Fail(`B6: team ${t.id} read back wrong`);
    if (!t.heroes.isInitialized()) throw new Fail(`B6: team ${t.id}'s heroes were not loaded`);
    const heroes = t.heroes.getItems();
    if (heroes.length !== B6_PER_TEAM) throw new Fail(`B6: team ${t.id} has ${heroes.length} heroes, not ${B6_PER_TEAM}`);
    for (const h of heroes) {
      if (h.team !== t) throw new Fail(`B6: hero ${h.id} is in team ${t.id} but points to another`);
      checkHero(h, h.id, n);
    }
  }
}

function p99(lat) {
  const s = Float64Array.from(lat).sort();
  const rank = Math.min(Math.max(Math.ceil(s.length * 0.99), 1), s.length);
  return s[rank - 1];
}

const mean = (lat) => lat.reduce((a, b) => a + b, 0) / lat.length;
const now = () => Number(process.hrtime.bigint()) / 1e9; // seconds
const maxrssKb = () => process.resourceUsage().maxRSS; // kilobytes, as getrusage

function emit(rec) {
  const out = {};
  for (const [k, v] of Object.entries(rec)) if (v !== undefined && v !== null) out[k] = v;
  if (out.seconds && out.ops) {
    out.ops_per_s = Math.round((out.ops / out.seconds) * 10) / 10;
    out.seconds = Math.round(out.seconds * 1e6) / 1e6;
  }
  for (const k of ['mean_us', 'p99_us']) if (k in out) out[k] = Math.round(out[k] * 1000) / 1000;
  // Key order as the other programs print it.
  const order = ['case', 'backend', 'impl', 'variant', 'journal', 'phase', 'ops', 'seconds', 'ops_per_s',
    'mean_us', 'p99_us', 'peak_rss_kb', 'base_rss_kb', 'note'];
  const sorted = {};
  for (const k of order) if (k in out) sorted[k] = out[k];
  process.stdout.write(JSON.stringify(sorted) + '\n');
}

// ---- untimed setup, with the plain drivers -------------------------------------

function sqliteRemove(file) {
  for (const suffix of ['', '-journal', '-wal', '-shm']) fs.rmSync(file + suffix, { force: true });
}

function sqliteCreate(Database, file, journal, teams, n) {
  sqliteRemove(file);
  const db = new Database(file);
  try {
    if (journal === 'wal') {
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal') throw new Fail(`${file}: journal_mode is ${mode}, not wal`);
    }
    for (const ddl of SQLITE_DDL) db.exec(ddl);
    const team = db.prepare('INSERT INTO team (name, headquarters) VALUES (?, ?)');
    const hero = db.prepare('INSERT INTO hero (name, secret_name, age, team_id) VALUES (?, ?, ?, ?)');
    db.transaction(() => {
      for (let j = 1; j <= teams; j++) team.run(`team-${j}`, `hq-${j}`);
      for (let i = 1; i <= n; i++) hero.run(`hero-${i}`, `secret-${i}`, heroAge(i), heroTeam(i, teams));
    })();
  } finally {
    db.close();
  }
}

async function pgConnect(url) {
  const { Client } = require('pg');
  const c = new Client({ connectionString: url });
  await c.connect();
  return c;
}

async function pgDrop(c) {
  await c.query('SET client_min_messages = warning');
  await c.query('DROP TABLE IF EXISTS hero');
  await c.query('DROP TABLE IF EXISTS team');
}

async function pgCreate(url, teams, n) {
  const c = await pgConnect(url);
  try {
    await pgDrop(c);
    for (const ddl of PG_DDL) await c.query(ddl);
    await c.query("INSERT INTO team (name, headquarters) SELECT 'team-' || j, 'hq-' || j " +
      'FROM generate_series(1, $1::int) AS j', [teams]);
    // Hero i with primary key i, as the others' COPY in order gives it.
    await c.query("INSERT INTO hero (id, name, secret_name, age, team_id) SELECT i, 'hero-' || i, 'secret-' || i, " +
      'CASE WHEN i % 7 = 0 THEN NULL ELSE i % 100 END, 1 + i % $2::int FROM generate_series(1, $1::int) AS i',
    [n, teams]);
    if (n) await c.query("SELECT setval('hero_id_seq', $1::int)", [n]);
    await c.query('ANALYZE team');
    await c.query('ANALYZE hero');
  } finally {
    await c.end();
  }
}

// The case's fresh database: made, read and removed with the plain drivers,
// outside the timed part.
class Db {
  constructor(args, n, teams = TEAMS) {
    this.args = args;
    this.n = n;
    this.teams = teams;
    if (args.backend === 'sqlite') {
      this.Database = require('better-sqlite3');
      this.file = path.resolve(args.dir, `mikroorm-${args.case}-${args.journal}${args.variant ? '-' + args.variant : ''}.db`);
    }
  }

  async create() {
    if (this.file) sqliteCreate(this.Database, this.file, this.args.journal, this.teams, this.n);
    else await pgCreate(this.args.pgUrl, this.teams, this.n);
  }

  async scalar(sql) {
    if (this.file) {
      const db = new this.Database(this.file, { readonly: true });
      try {
        return Number(db.prepare(sql).pluck().get());
      } finally {
        db.close();
      }
    }
    const c = await pgConnect(this.args.pgUrl);
    try {
      const r = await c.query({ text: sql, rowMode: 'array' });
      return Number(r.rows[0][0]);
    } finally {
      await c.end();
    }
  }

  async remove() {
    if (this.file) {
      sqliteRemove(this.file);
      return;
    }
    const c = await pgConnect(this.args.pgUrl);
    try {
      await pgDrop(c);
    } finally {
      await c.end();
    }
  }
}

// ---- the models and the ORM -------------------------------------------------------

// The SQLModel tutorial's models, with Team.heroes / Hero.team declared in
// every case, as calx_bench.c and bench.py declare them.
function models(EntitySchema) {
  class Team {}
  class Hero {}
  const team = new EntitySchema({
    class: Team,
    tableName: 'team',
    properties: {
      id: { type: 'integer', primary: true, autoincrement: true },
      name: { type: 'string' },
      headquarters: { type: 'string' },
      heroes: { kind: '1:m', entity: () => Hero, mappedBy: 'team' },
    },
  });
  const hero = new EntitySchema({
    class: Hero,
    tableName: 'hero',
    properties: {
      id: { type: 'integer', primary: true, autoincrement: true },
      name: { type: 'string', index: 'ix_hero_name' },
      secretName: { type: 'string', fieldName: 'secret_name' },
      age: { type: 'integer', nullable: true, index: 'ix_hero_age' },
      team: { kind: 'm:1', entity: () => Team, inversedBy: 'heroes', nullable: true, fieldName: 'team_id' },
    },
  });
  return { Team, Hero, schemas: [team, hero] };
}

async function openOrm(args, db, schemas) {
  const { MikroORM } = require('@mikro-orm/core');
  const options = {
    entities: schemas,
    // The entities are given as EntitySchema objects: nothing to discover in
    // files (this also keeps MikroORM from writing a metadata cache).
    discovery: { disableDynamicFileAccess: true },
  };
  if (args.backend === 'sqlite') {
    const { BetterSqliteDriver } = require('@mikro-orm/better-sqlite');
    Object.assign(options, { driver: BetterSqliteDriver, dbName: db.file });
    // better-sqlite3 compiles its own SQLite with a 16 MB page cache and,
    // in WAL mode, synchronous=NORMAL; the workload's SQLite settings are
    // SQLite's stock ones (bench/README.md), as every other implementation
    // has them: a 2 MB cache, synchronous=FULL. (MikroORM itself turns
    // foreign_keys on, on every SQLite connection; that is left as it is.)
    options.pool = {
      afterCreate(conn, done) {
        conn.pragma('cache_size = -2000');
        conn.pragma('synchronous = FULL');
        done(null, conn);
      },
    };
  } else {
    const { PostgreSqlDriver } = require('@mikro-orm/postgresql');
    // B5's pool as the other programs': 5 connections kept, 15 at most
    // (SQLAlchemy's pool_size 5 + max_overflow 10, asyncpg's min/max).
    Object.assign(options, { driver: PostgreSqlDriver, clientUrl: args.pgUrl });
    if (args.case === 'B5') options.pool = { min: POOL_SIZE, max: POOL_SIZE + MAX_OVERFLOW };
  }
  const orm = await MikroORM.init(options);
  // The first connection, open before anything is timed.
  await orm.em.getConnection().execute('SELECT 1');
  if (args.backend === 'sqlite') {
    const got = await orm.em.getConnection().execute('SELECT (SELECT cache_size FROM pragma_cache_size) AS c, ' +
      '(SELECT synchronous FROM pragma_synchronous) AS s, (SELECT journal_mode FROM pragma_journal_mode) AS j');
    const { c, s, j } = got[0];
    if (c !== -2000 || s !== 2 || j !== args.journal) {
      throw new Fail(`SQLite runs with cache_size ${c}, synchronous ${s}, journal_mode ${j}; ` +
        `expected -2000, 2 (FULL), ${args.journal}`);
    }
  }
  return orm;
}

// ---- the cases ------------------------------------------------------------------------

async function runCase(args) {
  const { EntitySchema } = require('@mikro-orm/core');
  const { n, gets, updates, txns } = sizes();
  const common = { backend: args.backend, impl: 'mikroorm', journal: args.backend === 'sqlite' ? args.journal : null };
  const db = args.case === 'B6' ? new Db(args, b6Teams() * B6_PER_TEAM, b6Teams()) : new Db(args, args.case === 'B1' ? 0 : n);
  await db.create();
  const { Team, Hero, schemas } = models(EntitySchema);
  const orm = await openOrm(args, db, schemas);
  try {
    if (args.case === 'B1') {
      const t0 = now();
      const em = orm.em.fork();
      const heroes = [];
      for (let i = 1; i <= n; i++) {
        // em.create persists the new entity (persistOnCreate, the default);
        // a team given by its key becomes a reference, not a load.
        heroes.push(em.create(Hero, { name: `hero-${i}`, secretName: `secret-${i}`, age: heroAge(i), team: heroTeam(i, TEAMS) }));
      }
      await em.flush();
      const t1 = now();
      if (heroes[0].id !== 1 || heroes[n - 1].id !== n || (await db.scalar('SELECT count(*) FROM hero')) !== n) {
        throw new Fail(`B1: wrong ids (${heroes[0].id}, ${heroes[n - 1].id}) or row count`);
      }
      emit({ case: 'B1', ...common, ops: n, seconds: t1 - t0 });
    } else if (args.case === 'B2') {
      const em = orm.em.fork();
      const base = maxrssKb();
      const t0 = now();
      const heroes = await em.find(Hero, {});
      const t1 = now();
      const peak = maxrssKb();
      if (heroes.length !== n) throw new Fail(`B2: loaded ${heroes.length} heroes, not ${n}`);
      for (let k = 0; k < heroes.length; k += 997) checkHero(heroes[k], heroes[k].id);
      emit({ case: 'B2', ...common, ops: n, seconds: t1 - t0, peak_rss_kb: peak, base_rss_kb: base });
    } else if (args.case === 'B3') {
      // One EntityManager for both passes: the warm pass's findOne finds
      // each hero in its identity map and sends nothing.
      const em = orm.em.fork();
      const held = new Array(gets);
      const results = {};
      for (const phase of ['cold', 'warm']) {
        const lat = new Float64Array(gets);
        const start = now();
        for (let i = 0; i < gets; i++) {
          const pk = getPk(i, n);
          const t = now();
          const h = await em.findOne(Hero, pk);
          lat[i] = (now() - t) * 1e6;
          if (!h || h.id !== pk) throw new Fail('B3: got the wrong hero');
          if (phase === 'cold') held[i] = h;
          else if (held[i] !== h) throw new Fail(`B3: the warm get of ${pk} did not come from the identity map`);
        }
        results[phase] = [now() - start, lat];
      }
      for (let i = 0; i < gets; i += 101) checkHero(held[i], getPk(i, n));
      for (const [phase, [secs, lat]] of Object.entries(results)) {
        emit({ case: 'B3', ...common, phase, ops: gets, seconds: secs, mean_us: mean(lat), p99_us: p99(lat) });
      }
    } else if (args.case === 'B4') {
      const before = await db.scalar(SUM_AGES);
      const t0 = now();
      const em = orm.em.fork();
      const heroes = await em.find(Hero, {}, { orderBy: { id: 'asc' }, limit: updates });
      for (const h of heroes) h.age = newAge(h.age);
      await em.flush();
      const t1 = now();
      const after = await db.scalar(SUM_AGES);
      if (heroes.length !== updates || after - before !== updates) {
        throw new Fail(`B4: ${heroes.length} heroes loaded, ages grew by ${after - before}, expected ${updates}`);
      }
      emit({ case: 'B4', ...common, ops: updates, seconds: t1 - t0 });
    } else if (args.case === 'B5') {
      const before = await db.scalar(SUM_AGES);
      const rng = new Rng();
      const state = { next: 0, done: 0 };
      const lat = [];
      // A task per client; each transaction a fresh fork of the global
      // EntityManager, its get and its change in one transaction
      // (em.transactional flushes before it commits).
      const client = async () => {
        while (state.next < txns) {
          state.next++;
          const pk = rng.pk(n);
          const t = now();
          const em = orm.em.fork();
          await em.transactional(async (tem) => {
            const h = await tem.findOne(Hero, pk);
            h.age = newAge(h.age);
          });
          lat.push((now() - t) * 1e6);
          state.done++;
        }
      };
      // The pool opens every connection it may use before the clock, as
      // the other programs' do (bench_common.h's BENCH_B5_WARM_SQL).
      await Promise.all(Array.from({ length: POOL_SIZE + MAX_OVERFLOW },
        () => orm.em.getConnection().execute(B5_WARM_SQL)));
      const t0 = now();
      await Promise.all(Array.from({ length: CLIENTS }, client));
      const t1 = now();
      const after = await db.scalar(SUM_AGES);
      checkB5(state.done, after - before, txns, n);
      emit({ case: 'B5', ...common, ops: txns, seconds: t1 - t0, mean_us: mean(lat), p99_us: p99(lat) });
    } else if (args.case === 'B6') {
      // select-in: the teams, then their heroes by team_id IN (...);
      // joined (MikroORM's default strategy): one LEFT JOIN.
      const strategy = args.variant;
      const em = orm.em.fork();
      const t0 = now();
      const teams = await em.find(Team, {}, { populate: ['heroes'], strategy });
      const t1 = now();
      checkB6(teams, db.teams);
      emit({ case: 'B6', ...common, variant: args.variant, ops: db.n, seconds: t1 - t0 });
    }
  } finally {
    await orm.close(true);
    await db.remove();
  }
}

// ---- main ----------------------------------------------------------------------------

function usage(msg) {
  process.stderr.write(`bench.js: ${msg}\nusage: node bench/mikroorm/bench.js --backend sqlite|postgresql ` +
    '--case B1|B2|B3|B4|B5|B6 [--variant select-in|joined] [--journal delete|wal] [--dir DIR] [--pg-url URL]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const args = { journal: 'delete', dir: process.env.BENCH_DIR || '.', pgUrl: process.env.CALX_TEST_PG_URL };
  const names = { '--backend': 'backend', '--case': 'case', '--variant': 'variant', '--journal': 'journal',
    '--dir': 'dir', '--pg-url': 'pgUrl' };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--help' || argv[i] === '-h') usage('the heroes cases through MikroORM');
    const key = names[argv[i]];
    if (!key || i + 1 >= argv.length) usage(`unknown option or missing value: ${argv[i]}`);
    args[key] = argv[++i];
  }
  if (!['sqlite', 'postgresql'].includes(args.backend)) usage('--backend must be sqlite or postgresql');
  if (!['B1', 'B2', 'B3', 'B4', 'B5', 'B6'].includes(args.case)) usage('--case must be one of B1..B6');
  if (!['delete', 'wal'].includes(args.journal)) usage('--journal must be delete or wal');
  if (args.journal === 'wal' && (args.backend !== 'sqlite' || args.case !== 'B1')) usage('--journal wal applies to B1 on sqlite only');
  if (args.case === 'B5' && args.backend !== 'postgresql') usage('B5 runs on PostgreSQL only');
  if (args.case === 'B6') {
    args.variant = args.variant || 'select-in';
    if (!['select-in', 'joined'].includes(args.variant)) usage('B6 --variant must be select-in or joined');
  } else if (args.variant) {
    usage(`${args.case} has one variant only`);
  }
  if (args.backend === 'postgresql' && !args.pgUrl) usage('no PostgreSQL URL: pass --pg-url or set CALX_TEST_PG_URL');
  return args;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  try {
    require.resolve('@mikro-orm/core');
  } catch (e) {
    process.stderr.write('bench.js: MikroORM is not installed in bench/mikroorm/node_modules: run sh scripts/bench-deps.sh\n');
    process.exit(1);
  }
  try {
    await runCase(args);
  } catch (e) {
    const what = e instanceof Fail ? e.message : (e && e.stack) || String(e);
    process.stderr.write(`bench.js: mikroorm ${args.backend} ${args.case}: ${what}\n`);
    process.exit(1);
  }
}

main();
