// contrib/bench/bench.mjs: the benchmark of bullmq-master against the Node
// workers of the real bullmq package.  Started by contrib/bench/run, which
// installs the pinned packages and sets the BENCH_* environment; see
// contrib/bench/README for the method and what the figures mean.
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import {
	appendFileSync, closeSync, createWriteStream, mkdirSync, mkdtempSync,
	openSync,
	readFileSync, readdirSync, rmSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import IORedis from 'ioredis';
import { Queue } from 'bullmq';
import { machineInfo, writeReport } from './report.mjs';

const env = process.env;
const HERE = env.BENCH_WORK;		// where the packages and scripts are
const BUILD = env.BENCH_BUILD;		// bullmq and bullmq-master
const OUT = env.BENCH_OUT;		// where the results go
const REDIS_SERVER = env.REDIS_SERVER || 'redis-server';
if (!HERE || !BUILD || !OUT) {
	console.error('bench.mjs: run it with contrib/bench/run');
	process.exit(2);
}
const CLI = join(BUILD, 'bullmq');
const MASTER = join(BUILD, 'bullmq-master');
const QUICK = env.BENCH_QUICK === '1';
const ROUNDS = Number(env.BENCH_ROUNDS || (QUICK ? 1 : 3));
const ONLY = (env.BENCH_ONLY || 'drain,sleep,sandbox,add,thousand,tls')
    .split(',');
// Sandbox workloads: untimed jobs a worker process (N x this) before the
// timed window, on both sides (workerRun).
const SANDBOX_WARM = 20;
const SRC = env.BENCH_SRC;		// the source tree: the adapters
const CLK_TCK = 100;
const QUEUE = 'bench';
const PREFIX = 'bull';
const K = (s) => `${PREFIX}:${QUEUE}:${s}`;

// The workloads.  Quick mode runs fewer jobs and configurations: it only
// shows that everything works, its figures are not the benchmark's.
const W = QUICK ? {
	drainJobs: 5000,
	drainNode: [[1, 500], [1, 1], [2, 1]],
	drainC: [1, 2, 8],
	sleepJobs: 2000,
	sleepNode: [[1, 500]],
	sleepC: [64, 256],
	addOne: 1000, addBulk: 10000, cliAdd: 200, cliBulk: 10000,
	thousandJobs: 5000,
	sandboxJobs: 1000, sandboxN: [1, 4], sandboxSleepN: [4],
	tlsDrainJobs: 3000, tlsDrainN: 4, tlsSleepJobs: 1000, tlsSleepN: 32,
} : {
	drainJobs: 50000,
	drainNode: [[1, 500], [1, 50], [1, 1], [2, 1], [4, 1], [8, 1]],
	drainC: [1, 2, 4, 8, 16],
	sleepJobs: 20000,
	sleepNode: [[1, 500]],
	sleepC: [64, 128, 256, 512],
	addOne: 10000, addBulk: 50000, cliAdd: 2000, cliBulk: 50000,
	thousandJobs: 20000,
	sandboxJobs: 10000, sandboxN: [1, 4, 8], sandboxSleepN: [4, 8],
	tlsDrainJobs: 20000, tlsDrainN: 4, tlsSleepJobs: 10000, tlsSleepN: 64,
};
// Configurations from the environment, for a run of a few (a before and
// after comparison): BENCH_DRAIN_C="4,16", BENCH_SLEEP_C="256" (children),
// BENCH_DRAIN_NODE="1x50,4x1", BENCH_SLEEP_NODE="1x500" (processes x
// concurrency; "" for none).
const listOf = (v) => v.split(',').filter((x) => x !== '').map(Number);
const pairsOf = (v) => v.split(',').filter((x) => x !== '').map((x) =>
    x.split('x').map(Number));
if (env.BENCH_DRAIN_C !== undefined)
	W.drainC = listOf(env.BENCH_DRAIN_C);
if (env.BENCH_SLEEP_C !== undefined)
	W.sleepC = listOf(env.BENCH_SLEEP_C);
if (env.BENCH_DRAIN_NODE !== undefined)
	W.drainNode = pairsOf(env.BENCH_DRAIN_NODE);
if (env.BENCH_SLEEP_NODE !== undefined)
	W.sleepNode = pairsOf(env.BENCH_SLEEP_NODE);
const THOUSAND = 1000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const T0 = Date.now();

// Seconds as "3m05s".
function dur(s) {
	s = Math.max(0, Math.round(s));
	return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2,
	    '0')}s` : `${s}s`;
}

// A progress line on stderr, prefixed with the time since the start.
function say(msg) {
	process.stderr.write(`[${dur((Date.now() - T0) / 1000).padStart(6)}] ` +
	    `${msg}\n`);
}

// --- /proc ---------------------------------------------------------------

// Fields of /proc/PID/stat after the command name, or null.
function statFields(pid) {
	try {
		const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
		return s.slice(s.lastIndexOf(')') + 2).split(' ');
	} catch {
		return null;
	}
}

// The pids whose parent is ppid (live ones, not zombies).
function childrenOf(ppid) {
	const out = [];
	for (const d of readdirSync('/proc')) {
		if (!/^\d+$/.test(d))
			continue;
		const f = statFields(d);
		if (f && Number(f[1]) === ppid && f[0] !== 'Z')
			out.push(Number(d));
	}
	return out;
}

// CPU seconds a process (all its threads) has run so far, and seconds its
// threads have waited, runnable, for a CPU: from /proc/PID/task/*/schedstat,
// in ns, exact where the clock ticks of /proc/PID/stat lose most of what a
// short-lived child uses.
function sched(pid) {
	const o = { run: 0, wait: 0 };
	let tasks;
	try {
		tasks = readdirSync(`/proc/${pid}/task`);
	} catch {
		return o;
	}
	for (const t of tasks) {
		try {
			const f = readFileSync(`/proc/${pid}/task/${t}/schedstat`,
			    'utf8').split(' ');
			o.run += Number(f[0]) / 1e9;
			o.wait += Number(f[1]) / 1e9;
		} catch {
			/* the thread ended */
		}
	}
	return o;
}

// CPU seconds of a process (0 when it is gone).
function cpuSeconds(pid) {
	return sched(pid).run;
}

// Proportional set size of a process in KB (null when unreadable).
function pssKB(pid) {
	try {
		const s = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
		const m = /^Pss:\s+(\d+) kB/m.exec(s);
		return m ? Number(m[1]) : null;
	} catch {
		return null;
	}
}

// Busy CPU seconds of the whole machine so far (all cores).
function machineBusy() {
	const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim()
	    .split(/\s+/).slice(1).map(Number);
	return (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) / CLK_TCK;
}

// CPU seconds of this process.
function ownCpu() {
	const u = process.cpuUsage();
	return (u.user + u.system) / 1e6;
}

// Whether pid is alive and not a zombie.
function alive(pid) {
	const f = statFields(pid);
	return f !== null && f[0] !== 'Z';
}

// Mean and max of a list of numbers (nulls dropped).
function meanMax(xs) {
	xs = xs.filter((x) => x !== null && x !== undefined);
	if (xs.length === 0)
		return { mean: null, max: null, n: 0 };
	return {
		mean: xs.reduce((a, b) => a + b, 0) / xs.length,
		max: Math.max(...xs), n: xs.length,
	};
}

// --- Redis ---------------------------------------------------------------

// contrib/bench/watchdog.sh outlives this process: it reads TMP/watchdog
// (each process spawned here, written at once, not through a stream that
// process.exit could leave unflushed) when its stdin, a pipe from here,
// closes, and stops them and removes TMP unless the list ends with "end"
// or TMP is gone: this process cleaned up itself.
let watchdog = null;

function tell(line) {
	if (watchdog)
		try {
			appendFileSync(join(TMP, 'watchdog'), line + '\n');
		} catch {
			/* TMP is gone: nothing is left to watch */
		}
}

// The start time of process pid (field 22 of its stat), which tells it
// from a later process given the same pid; "?" when it cannot be read.
function startTime(pid) {
	try {
		const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
		return st.slice(st.lastIndexOf(')') + 2).split(' ')[19] ?? '?';
	} catch {
		return '?';
	}
}

function watch(p, tag = '+') {
	if (p.pid === undefined)
		return;
	tell(`${tag} ${p.pid} ${startTime(p.pid)}`);
	p.once('exit', () => tell(`- ${p.pid}`));
}

let redisProc = null;
let redis = null;
let queue = null;
let SOCK = null;
let URL = null;
let TLS = null;		// { tcp, tls, dir }: the TCP and TLS URLs, certificates
let TMP = null;

// A TCP port free on 127.0.0.1 now.
function freePort() {
	return new Promise((resolve, reject) => {
		const srv = createServer();
		srv.on('error', reject);
		srv.listen(0, '127.0.0.1', () => {
			const { port } = srv.address();
			srv.close(() => resolve(port));
		});
	});
}

// For the tls workloads: certificates made by tests/tls-certs.sh, and the
// server's arguments for a plain TCP port and a TLS one on 127.0.0.1 (no
// client certificate asked, as a managed service does it).
async function tlsArgs() {
	const dir = join(TMP, 'tls');
	const r = spawnSync('/bin/sh', [join(SRC, 'tests/tls-certs.sh'), dir],
	    { stdio: 'ignore' });
	if (r.status !== 0)
		throw new Error('tests/tls-certs.sh failed (openssl?)');
	const tcp = await freePort();
	let tls = await freePort();
	while (tls === tcp)
		tls = await freePort();
	TLS = { tcp: `redis://127.0.0.1:${tcp}`, tls: `rediss://127.0.0.1:${tls}`,
	    dir };
	return ['--port', String(tcp), '--bind', '127.0.0.1', '--tls-port',
	    String(tls), '--tls-cert-file', join(dir, 'server.crt'),
	    '--tls-key-file', join(dir, 'server.key'), '--tls-ca-cert-file',
	    join(dir, 'ca.crt'), '--tls-auth-clients', 'no'];
}

// Start the private redis-server on a unix socket, no persistence (and
// TCP and TLS ports on 127.0.0.1 for the tls workloads).
async function redisStart() {
	TMP = mkdtempSync(join(env.TMPDIR || tmpdir(), 'bullmq-bench.'));
	watchdog = spawn('/bin/sh', [join(HERE, 'watchdog.sh'), TMP],
	    { stdio: ['pipe', 'ignore', 'ignore'] });
	watchdog.stdin.on('error', () => {});
	watchdog.unref();
	SOCK = join(TMP, 'redis.sock');
	URL = `unix://${SOCK}`;
	const log = openSync(join(TMP, 'redis.log'), 'a');
	const net = ONLY.includes('tls') ? await tlsArgs() : ['--port', '0'];
	redisProc = spawn(REDIS_SERVER, [...net, '--unixsocket', SOCK,
	    '--unixsocketperm', '700', '--save', '', '--appendonly', 'no',
	    '--dir', TMP, '--maxclients', '4000', '--daemonize', 'no'],
	    { stdio: ['ignore', log, log] });
	closeSync(log);
	watch(redisProc, 'r');
	track(redisProc);
	redisProc.on('exit', async (c, s) => {
		if (!stopping) {
			say(`redis-server exited (${c ?? s}); see ${TMP}/redis.log`);
			await cleanup(true);
			process.exit(1);
		}
	});
	for (let i = 0; ; i++) {
		try {
			redis = new IORedis({ path: SOCK, lazyConnect: true,
			    maxRetriesPerRequest: 0, retryStrategy: () => null });
			redis.on('error', () => {});
			await redis.connect();
			await redis.ping();
			break;
		} catch {
			redis.disconnect();
			if (i > 100)
				throw new Error('redis-server did not answer');
			await sleep(50);
		}
	}
	redis.options.maxRetriesPerRequest = null;
	queue = new Queue(QUEUE, { connection: { path: SOCK,
	    maxRetriesPerRequest: null } });
	await queue.waitUntilReady();
}

// INFO SECTION as an object.
async function info(section) {
	const o = {};
	for (const l of (await redis.info(section)).split('\r\n')) {
		const i = l.indexOf(':');
		if (i > 0 && l[0] !== '#')
			o[l.slice(0, i)] = l.slice(i + 1);
	}
	return o;
}

// Redis CPU seconds (user + system) so far.
async function redisCpu() {
	const o = await info('cpu');
	return Number(o.used_cpu_user) + Number(o.used_cpu_sys);
}

// Calls and microseconds per command since the last CONFIG RESETSTAT.
async function commandStats() {
	const o = await info('commandstats');
	const calls = {}, usec = {};
	for (const [k, v] of Object.entries(o)) {
		const m = /calls=(\d+),usec=(\d+)/.exec(v);
		if (m) {
			calls[k.replace(/^cmdstat_/, '')] = Number(m[1]);
			usec[k.replace(/^cmdstat_/, '')] = Number(m[2]);
		}
	}
	return { calls, usec };
}

// What the benchmark itself sent since RESETSTAT, so it can be taken out:
// commands, and round trips (one read and one write for Redis each).
let own = {};
let ownTrips = 0;
function ownCall(cmd, n = 1, trips = 1) {
	own[cmd] = (own[cmd] || 0) + n;
	ownTrips += trips;
}

// Reset Redis's statistics and our count of our own commands.
async function resetStats() {
	await redis.config('RESETSTAT');
	own = {};
	ownTrips = 0;
}

// Redis commands per job: every command (also those run inside scripts),
// the scripts (EVAL/EVALSHA) and the blocking pops, without ours; the time
// Redis spent inside scripts, and its reads and writes of sockets per job.
async function commandsPerJob(jobs) {
	const { calls, usec } = await commandStats();
	const st = await info('stats');
	ownCall('info', 2, 2);
	for (const [k, v] of Object.entries(own))
		if (calls[k] !== undefined)
			calls[k] -= v;
	delete calls['config|resetstat'];
	let all = 0, scripts = 0, pops = 0;
	for (const [k, v] of Object.entries(calls)) {
		all += v;
		if (k === 'evalsha' || k === 'eval' || k === 'evalsha_ro' ||
		    k === 'fcall')
			scripts += v;
		if (k === 'bzpopmin' || k === 'brpoplpush' || k === 'blmove' ||
		    k === 'brpop' || k === 'blpop' || k === 'bzpopmax')
			pops += v;
	}
	const scriptUs = ['evalsha', 'eval'].reduce((a, k) => a + (usec[k] ||
	    0), 0);
	return { cmdsPerJob: all / jobs, scriptsPerJob: scripts / jobs,
	    popsPerJob: pops / jobs, scriptUsPerJob: scriptUs / jobs,
	    readsPerJob: (Number(st.total_reads_processed) - ownTrips) / jobs,
	    writesPerJob: (Number(st.total_writes_processed) - ownTrips) / jobs,
	    calls, usec };
}

// Empty the server between runs.
async function flush() {
	await redis.flushall('SYNC');
}

// Number of completed and failed jobs.
async function finishedCounts() {
	const [[, c], [, f]] = await redis.pipeline().zcard(K('completed'))
	    .zcard(K('failed')).exec();
	ownCall('zcard', 2, 1);
	return { completed: c, failed: f };
}

// --- the two sides ---------------------------------------------------------

const spawned = new Set();

// Spawn a process with its stderr (and stdout unless wanted) in a log file.
function spawnLogged(cmd, args, logname, opts = {}) {
	const fd = openSync(join(TMP, logname), 'a');
	const p = spawn(cmd, args, { stdio: ['ignore',
	    opts.stdout ? 'pipe' : fd, fd], cwd: HERE, ...opts.spawn });
	closeSync(fd);
	return adopt(p);
}

// A process spawned here: told to the watchdog, stopped by cleanup(), its
// exit tracked.
function adopt(p) {
	watch(p);
	spawned.add(p);
	track(p);
	p.once('exit', () => spawned.delete(p));
	return p;
}

// p.exited: null while p runs, then { code, sig }; p.exitPromise: that.
function track(p) {
	p.exited = null;
	p.exitPromise = new Promise((r) => p.once('exit', (code, sig) => {
		p.exited = { code, sig };
		r(p.exited);
	}));
}

// Wait for a process to exit, up to ms; returns its status or null.
async function waitExit(p, ms) {
	return Promise.race([p.exitPromise, sleep(ms).then(() => null)]);
}

let runSeq = 0;

// Start P Node processes, each one Worker at concurrency c.
async function startNode(P, c, kind) {
	const procs = [];
	let ready = 0;
	runSeq++;
	for (let i = 0; i < P; i++) {
		const p = spawnLogged(process.execPath, ['node-worker.mjs', SOCK,
		    QUEUE, String(c), kind], `node-${runSeq}.log`,
		    { stdout: true });
		let buf = '';
		p.stdout.on('data', (d) => {
			buf += d;
			if (/^ready$/m.test(buf)) {
				buf = '';
				ready++;
			}
		});
		procs.push(p);
	}
	return {
		log: `node-${runSeq}.log`,
		blockers: P,
		started: () => ready === P,
		dead: () => procs.find((p) => p.exited),
		workers: () => procs.map((p) => p.pid),
		master: () => null,
		async stop() {
			const t = Date.now();
			for (const p of procs)
				p.kill('SIGTERM');
			const st = [];
			for (const p of procs) {
				let s = await waitExit(p, 30000);
				if (s === null) {
					p.kill('SIGKILL');
					s = await p.exitPromise;
					s.killed = true;
				}
				st.push(s);
			}
			return { ms: Date.now() - t, clean: st.every((s) =>
			    s.code === 0 && !s.killed), status: st[0],
			    leftovers: 0 };
		},
	};
}

// The processor spec of a kind: a builtin, or a pipe: program running the
// sandbox workload's processor (the Node adapter, or Python).
function spec(kind) {
	if (kind === 'pipe-node')
		return `pipe:${process.execPath} ${join(SRC,
		    'contrib/processors/node/bullmq-pipe.cjs')} ${join(HERE,
		    'sandbox-processor.cjs')}`;
	if (kind === 'pipe-python')
		return `pipe:${PYTHON} ${join(HERE, 'sandbox_handler.py')}`;
	return `builtin:${kind}`;
}
const PYTHON = env.PYTHON || which('python3');

// The path of a program found in PATH (the name itself when none is).
function which(name) {
	for (const d of (env.PATH || '').split(':')) {
		try {
			readFileSync(join(d, name), { flag: 'r' }).length;
			return join(d, name);
		} catch {
			/* not there */
		}
	}
	return name;
}

// Start one bullmq-master with N children (on the URL url, else the
// unix socket; a rediss:// one with the test CA).
async function startMaster(N, kind, url = URL) {
	runSeq++;
	const t = Date.now();
	const m = spawnLogged(MASTER, ['-r', url, '-q', QUEUE, '-w', String(N),
	    '-x', spec(kind), '--pidfile', join(TMP, 'master.pid')].concat(
	    url.startsWith('rediss:') ? ['--tls-ca-file', join(TLS.dir,
	    'ca.crt')] : []),
	    `master-${runSeq}.log`, kind === 'pipe-python' ? { spawn: { env: {
	    ...env, BENCH_PY_MODULE_DIR: join(SRC,
	    'contrib/processors/python') } } } : {});
	let kids = [];
	let upAt = null;
	return {
		log: `master-${runSeq}.log`,
		blockers: N,
		started() {
			kids = childrenOf(m.pid);
			if (kids.length >= N && upAt === null)
				upAt = Date.now();
			return kids.length >= N;
		},
		startMs: () => (upAt === null ? null : upAt - t),
		dead: () => (m.exited ? m : null),
		workers: () => kids,
		master: () => m.pid,
		async stop() {
			const t1 = Date.now();
			kids = childrenOf(m.pid);
			m.kill('SIGTERM');
			let s = await waitExit(m, 60000);
			if (s === null) {
				m.kill('SIGKILL');
				s = await m.exitPromise;
				s.killed = true;
			}
			const ms = Date.now() - t1;
			await sleep(100);
			const left = kids.filter(alive);
			for (const k of left)
				process.kill(k, 'SIGKILL');
			return { ms, clean: s.code === 0 && !s.killed &&
			    left.length === 0, status: s, leftovers: left.length };
		},
	};
}

// Wait until the workers are up and idle: every process started and at
// least one blocked connection per process (Node) or child (C).
async function waitIdle(side, limitMs) {
	const end = Date.now() + limitMs;
	let blocked = 0;
	for (;;) {
		const d = side.dead();
		if (d)
			throw new Error(`worker exited early (${JSON.stringify(
			    d.exited)}); see ${join(TMP, side.log)}`);
		if (side.started()) {
			blocked = Number((await info('clients')).blocked_clients);
			ownCall('info');
			if (blocked >= side.blockers)
				break;
		}
		if (Date.now() > end) {
			say(`  note: only ${blocked} of ${side.blockers} ` +
			    'workers blocked when the wait ended');
			break;
		}
		await sleep(50);
	}
	await sleep(300);
	return blocked;
}

// PSS of the workers (and the master) in KB; with side.deep, a worker's
// PSS includes its children's (a sandbox's processes, a pipe: program).
function memory(side) {
	const w = side.workers().map((p) => pssKB(p) + (side.deep ?
	    childrenOf(p).reduce((a, c) => a + (pssKB(c) ?? 0), 0) : 0));
	const m = side.master();
	return { workers: meanMax(w), master: m ? pssKB(m) : null,
	    own: side.deep ? meanMax(side.workers().map(pssKB)) : undefined };
}

// CPU seconds of the workers (and the master; with side.deep, of the
// workers' children too).  A child that ended during the run is not
// counted: the runs are short and the children long-lived.
function cpuOf(side) {
	const m = side.master();
	return side.workers().reduce((a, p) => a + cpuSeconds(p) +
	    (side.deep ? childrenOf(p).reduce((b, c) => b + cpuSeconds(c), 0) :
	    0), 0) + (m ? cpuSeconds(m) : 0);
}

// One timed run of a worker side: prefill a paused queue, start the
// workers, wait until they are idle, resume and time until every job is
// finished.  The clock stops at the last job's finishedOn.  With warm,
// the workers first run that many jobs of the same kind, untimed, so that
// what they start at their first jobs (a sandbox's processes) is running,
// as on a worker that has been up for a while.
async function workerRun(start, jobs, data, warm = 0) {
	await flush();
	const r = {};
	let side = null;
	let base = 0;
	try {
		if (warm > 0) {
			side = await start();
			const w = await nodeAdd('bulk', warm, 1000, data);
			if (w.n !== warm)
				throw new Error(`warm-up added ${w.n} jobs, not ${warm}`);
			const end = Date.now() + 60000;
			for (;;) {
				const c = await finishedCounts();
				if (c.completed + c.failed >= warm)
					break;
				if (side.dead())
					throw new Error('workers exited during the warm-up');
				if (Date.now() > end)
					throw new Error(`warm-up: ${c.completed} of ${warm} ` +
					    'jobs done in 60 s');
				await sleep(20);
			}
			base = warm;
		}
		await queue.pause();
		const add = await nodeAdd('bulk', jobs, 1000, data);
		if (add.n !== jobs)
			throw new Error(`prefill added ${add.n} jobs, not ${jobs}`);
		if (side === null)
			side = await start();
		r.blocked = await waitIdle(side, 30000 + side.blockers * 30);
		if (side.startMs)
			r.startMs = side.startMs();
		r.idle = memory(side);
		const early = await finishedCounts();
		if (early.completed + early.failed - base > 0)
			r.note = `${early.completed + early.failed - base} jobs ` +
			    'ran while the queue was paused';
		const cpu0 = cpuOf(side);
		const mcpu0 = side.master() ? cpuSeconds(side.master()) : 0;
		const rcpu0 = await redisCpu();
		const busy0 = machineBusy() - ownCpu();
		const rwait0 = sched(redisProc.pid).wait;
		await resetStats();
		const t0 = Date.now();
		await queue.resume();
		let last = -1, lastChange = Date.now(), loadTaken = false;
		let c, nextSay = Date.now() + 10000;
		for (;;) {
			c = await finishedCounts();
			const n = c.completed + c.failed - base;
			if (n >= jobs)
				break;
			if (n !== last) {
				last = n;
				lastChange = Date.now();
			} else if (Date.now() - lastChange > 60000)
				throw new Error(`stuck at ${n} of ${jobs} jobs`);
			if (side.dead())
				throw new Error('workers exited during the run');
			if (!loadTaken && n >= jobs / 2) {
				r.load = memory(side);
				loadTaken = true;
			}
			if (Date.now() > nextSay) {
				say(`  ... ${n} of ${jobs} jobs done`);
				nextSay = Date.now() + 10000;
			}
			await sleep(20);
		}
		const seen = Date.now();
		const rcpu1 = await redisCpu();
		const cpu1 = cpuOf(side);
		const mcpu1 = side.master() ? cpuSeconds(side.master()) : 0;
		const busy1 = machineBusy() - ownCpu();
		const rwait1 = sched(redisProc.pid).wait;
		ownCall('info');
		Object.assign(r, await commandsPerJob(jobs));
		const top = await redis.zrevrange(K('completed'), 0, 0,
		    'WITHSCORES');
		ownCall('zrevrange');
		let endMs = top.length === 2 ? Number(top[1]) : seen;
		if (!(endMs > t0 && endMs <= seen + 50))
			endMs = seen;		// a clock we cannot trust
		r.ms = endMs - t0;
		r.jobsPerSec = jobs / (r.ms / 1000);
		r.failed = c.failed;
		r.redisUsPerJob = (rcpu1 - rcpu0) * 1e6 / jobs;
		r.workerUsPerJob = (cpu1 - cpu0) * 1e6 / jobs;
		r.masterUsPerJob = (mcpu1 - mcpu0) * 1e6 / jobs;
		r.workerCores = (cpu1 - cpu0) / ((seen - t0) / 1000);
		r.redisWait = (rwait1 - rwait0) / ((seen - t0) / 1000);
		r.otherCores = Math.max(0, busy1 - busy0 - (cpu1 - cpu0) -
		    (rcpu1 - rcpu0)) / ((seen - t0) / 1000);
		if (!loadTaken)
			r.load = memory(side);
	} finally {
		if (side !== null)
			r.stop = await side.stop();
	}
	if (r.failed > 0)
		r.note = `${r.failed} jobs failed`;
	return r;
}

// --- producers -------------------------------------------------------------

// Run node-add.mjs; returns {n, ms, cpuMs}.
async function nodeAdd(mode, n, batch, data) {
	const args = ['node-add.mjs', SOCK, QUEUE, mode, String(n),
	    String(batch)];
	if (data !== undefined)
		args.push(JSON.stringify(data));
	const p = spawnLogged(process.execPath, args, 'node-add.log',
	    { stdout: true });
	let out = '';
	p.stdout.on('data', (d) => { out += d; });
	const s = await p.exitPromise;
	if (s.code !== 0)
		throw new Error(`node-add.mjs ${mode} exited ${s.code ?? s.sig}` +
		    `; see ${join(TMP, 'node-add.log')}`);
	return JSON.parse(out.trim().split('\n').pop());
}

// Run a shell command line; returns its wall time and the CPU seconds of
// everything it ran (the shell's cutime + cstime after waiting).
async function timedShell(line, stdin) {
	const script = `${line}\nrc=$?\nread -r s < /proc/$$/stat\n` +
	    'echo "$s" >&3\nexit $rc\n';
	const fd = openSync(join(TMP, 'cli.log'), 'a');
	const in0 = stdin ? openSync(stdin, 'r') : 'ignore';
	const t = process.hrtime.bigint();
	const p = spawn('/bin/sh', ['-c', script], { stdio: [in0, 'ignore',
	    fd, 'pipe'], cwd: TMP, env: { ...env, B: CLI, U: URL, Q: QUEUE } });
	closeSync(fd);
	adopt(p).shell = true;
	if (stdin)
		closeSync(in0);
	let st = '';
	p.stdio[3].on('data', (d) => { st += d; });
	const { code } = await p.exitPromise;
	const ms = Number(process.hrtime.bigint() - t) / 1e6;
	if (code !== 0)
		throw new Error(`"${line}" exited ${code}; see ` +
		    `${join(TMP, 'cli.log')}`);
	const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
	return { ms, cpu: (Number(f[13]) + Number(f[14])) / CLK_TCK };
}

// One timed run of a producer.
async function addRun(kind, n) {
	await flush();
	const rcpu0 = await redisCpu();
	await resetStats();
	let ms, cpu;
	if (kind === 'node-one' || kind === 'node-bulk') {
		const t = Date.now();
		const o = await nodeAdd(kind === 'node-one' ? 'one' : 'bulk', n,
		    1000);
		ms = o.ms;
		cpu = o.cpuMs / 1000;
		if (o.n !== n)
			throw new Error(`node-add added ${o.n}`);
		if (Date.now() - t < ms)
			ms = Date.now() - t;
	} else if (kind === 'cli-add') {
		const o = await timedShell('i=0; while [ $i -lt ' + n +
		    ' ]; do "$B" -r "$U" add "$Q" bench "{\\"n\\":$i}" ' +
		    '>/dev/null || exit 1; i=$((i + 1)); done');
		ms = o.ms;
		cpu = o.cpu;
	} else {
		const f = join(TMP, `bulk-${n}.ndjson`);
		const lines = [];
		for (let i = 0; i < n; i++)
			lines.push(JSON.stringify({ name: 'bench', data: { n: i },
			    opts: {} }));
		writeFileSync(f, lines.join('\n') + '\n');
		const o = await timedShell('"$B" -r "$U" add-bulk "$Q"', f);
		ms = o.ms;
		cpu = o.cpu;
	}
	const rcpu1 = await redisCpu();
	const r = { ms, jobsPerSec: n / (ms / 1000),
	    redisUsPerJob: (rcpu1 - rcpu0) * 1e6 / n,
	    workerUsPerJob: cpu * 1e6 / n };
	Object.assign(r, await commandsPerJob(n));
	const w = Number(await redis.llen(K('wait')));
	ownCall('llen');
	if (w !== n)
		throw new Error(`${kind}: ${w} jobs waiting, not ${n}`);
	return r;
}

// --- the plan --------------------------------------------------------------

// Every configuration of the timed workloads, Node and C alternating.
function plan() {
	const items = [];
	const alt = (a, b) => {
		const out = [];
		for (let i = 0; i < Math.max(a.length, b.length); i++) {
			if (i < a.length)
				out.push(a[i]);
			if (i < b.length)
				out.push(b[i]);
		}
		return out;
	};
	if (ONLY.includes('drain'))
		items.push(...alt(W.drainNode.map(([P, c]) => ({
			workload: 'drain', side: 'node', P, c, jobs: W.drainJobs,
			key: `drain/node/${P}x${c}`,
			label: `Node ${P} process${P > 1 ? 'es' : ''} c=${c}`,
		})), W.drainC.map((N) => ({
			workload: 'drain', side: 'c', N, jobs: W.drainJobs,
			key: `drain/c/${N}`, label: `bullmq-master ${N} ` +
			    `child${N > 1 ? 'ren' : ''}`,
		}))));
	if (ONLY.includes('sleep'))
		items.push(...alt(W.sleepNode.map(([P, c]) => ({
			workload: 'sleep', side: 'node', P, c, jobs: W.sleepJobs,
			key: `sleep/node/${P}x${c}`,
			label: `Node ${P} process c=${c}`,
		})), W.sleepC.map((N) => ({
			workload: 'sleep', side: 'c', N, jobs: W.sleepJobs,
			key: `sleep/c/${N}`, label: `bullmq-master ${N} children`,
		}))));
	// the same processor file under Node's sandboxed Worker (concurrency
	// N: N processes) and under N children with the Node adapter; the
	// Python adapter and the in-process builtin for reference
	for (const [w, ns] of [['sandbox', W.sandboxN],
	    ['sandbox-sleep', W.sandboxSleepN]]) {
		if (!ONLY.includes('sandbox'))
			break;
		for (const N of ns) {
			items.push({ workload: w, side: 'node', N,
			    jobs: W.sandboxJobs, key: `${w}/node/${N}`,
			    label: `Node sandboxed Worker c=${N}` });
			items.push({ workload: w, side: 'c', N, kind: 'pipe-node',
			    jobs: W.sandboxJobs, key: `${w}/c/${N}`,
			    label: `bullmq-master ${N} pipe: Node adapter` });
		}
		const N = ns[0];
		items.push({ workload: w, side: 'c-ref', N, kind: 'pipe-python',
		    jobs: W.sandboxJobs, key: `${w}/python/${N}`,
		    label: `bullmq-master ${N} pipe: Python` });
		items.push({ workload: w, side: 'c-ref', N, kind: w === 'sandbox' ?
		    'noop' : 'sleep', jobs: W.sandboxJobs, key: `${w}/builtin/${N}`,
		    label: `bullmq-master ${N} builtin (in-process C)` });
	}
	// the cost of TLS: the same children over plain TCP and over TLS
	for (const w of ['tls-drain', 'tls-sleep']) {
		if (!ONLY.includes('tls'))
			break;
		const N = w === 'tls-drain' ? W.tlsDrainN : W.tlsSleepN;
		const jobs = w === 'tls-drain' ? W.tlsDrainJobs : W.tlsSleepJobs;
		for (const t of ['tcp', 'tls'])
			items.push({ workload: w, side: 'c', N, transport: t, jobs,
			    key: `${w}/${t}/${N}`, label: `bullmq-master ${N} ` +
			    `children, ${t === 'tls' ? 'TLS (rediss://)' :
			    'plain TCP (redis://)'}` });
	}
	if (ONLY.includes('add'))
		items.push(...alt([
			{ kind: 'node-one', n: W.addOne,
			    label: 'Node Queue.add, awaited one by one' },
			{ kind: 'node-bulk', n: W.addBulk,
			    label: 'Node Queue.addBulk, 1,000 a call' },
		], [
			{ kind: 'cli-add', n: W.cliAdd,
			    label: '`bullmq add`, one process a job' },
			{ kind: 'cli-bulk', n: W.cliBulk,
			    label: '`bullmq add-bulk`, one process' },
		]).map((x) => ({ workload: 'add', side: x.kind.startsWith('node') ?
		    'node' : 'c', key: `add/${x.kind}`, jobs: x.n, ...x })));
	return items;
}

// Wait (up to 30 s, 5 s in quick mode) for a quiet machine: less than a quarter of a core
// busy over half a second, other than us and Redis.  Other people's builds
// on a shared machine change the figures more than anything else.
async function quiet() {
	const end = Date.now() + (QUICK ? 5000 : 30000);
	let cores;
	do {
		const b0 = machineBusy() - ownCpu() - sched(redisProc.pid).run;
		const t = Date.now();
		await sleep(500);
		cores = (machineBusy() - ownCpu() - sched(redisProc.pid).run - b0) /
		    ((Date.now() - t) / 1000);
	} while (cores > 0.25 && Date.now() < end);
	return cores;
}

// Run one item and return its result.
async function runItem(it) {
	const before = await quiet();
	if (it.workload === 'add')
		return { before, ...await addRun(it.kind, it.jobs) };
	if (it.workload === 'sandbox' || it.workload === 'sandbox-sleep') {
		const data = it.workload === 'sandbox' ? {} : { ms: 10 };
		const deep = async (side) => Object.assign(await side,
		    { deep: true });
		const start = it.side === 'node' ? () => deep(startNode(1, it.N,
		    'sandbox')) : () => deep(startMaster(it.N, it.kind));
		return { before, ...await workerRun(start, it.jobs, data,
		    SANDBOX_WARM * it.N) };
	}
	if (it.workload === 'tls-drain' || it.workload === 'tls-sleep') {
		const drain = it.workload === 'tls-drain';
		return { before, ...await workerRun(() => startMaster(it.N,
		    drain ? 'noop' : 'sleep', TLS[it.transport]), it.jobs,
		    drain ? {} : { ms: 10 }) };
	}
	const kind = it.workload === 'drain' ? 'noop' : 'sleep';
	const data = it.workload === 'drain' ? {} : { ms: 10 };
	const start = it.side === 'node' ? () => startNode(it.P, it.c, kind) :
	    () => startMaster(it.N, kind);
	return { before, ...await workerRun(start, it.jobs, data) };
}

// A master with 1,000 children: starts, drains, stops cleanly.
async function thousand() {
	say(`check: bullmq-master with ${THOUSAND} children, ` +
	    `${W.thousandJobs} jobs`);
	const r = await workerRun(() => startMaster(THOUSAND, 'noop'),
	    W.thousandJobs, {});
	const c = await finishedCounts();
	r.completed = c.completed;
	r.ok = r.stop.clean && c.completed === W.thousandJobs &&
	    c.failed === 0 && r.blocked >= THOUSAND;
	say(`  started in ${r.startMs} ms, ${Math.round(r.jobsPerSec)} jobs/s, ` +
	    `stopped in ${r.stop.ms} ms, exit ${JSON.stringify(r.stop.status)}, ` +
	    `${r.stop.leftovers} left over: ${r.ok ? 'ok' : 'NOT OK'}`);
	return r;
}

// Seconds a run is expected to take, from earlier runs where possible.
function estimate(it, done) {
	const same = done.filter((d) => d.key === it.key);
	if (same.length)
		return same.reduce((a, d) => a + d.wall, 0) / same.length;
	const guess = { 'node-one': 2000, 'node-bulk': 20000, 'cli-add': 100,
	    'cli-bulk': 40000 };
	if (it.workload === 'add')
		return 1 + it.jobs / guess[it.kind];
	const like = done.filter((d) => d.workload === it.workload &&
	    d.side === it.side);
	const perJob = like.length ? like.reduce((a, d) => a + d.wall / d.jobs,
	    0) / like.length : 1 / 4000;
	return 3 + it.jobs * perJob;
}

let stopping = false;

// Stop what we started and remove the temporary directory.
async function cleanup(keep) {
	stopping = true;
	// a shell's INT would not reach the command it waits for
	for (const p of spawned)
		if (p.shell)
			for (const k of childrenOf(p.pid))
				try {
					process.kill(k, 'SIGINT');
				} catch {
					/* gone meanwhile */
				}
	for (const p of spawned)
		p.kill('SIGINT');
	for (const p of spawned)
		if (await waitExit(p, 5000) === null)
			p.kill('SIGKILL');
	try {
		await queue?.close();
		redis?.disconnect();
	} catch {
		/* going away anyway */
	}
	if (redisProc && !redisProc.exited) {
		redisProc.kill('SIGTERM');
		await waitExit(redisProc, 5000);
	}
	tell('end');
	if (TMP && !keep)
		rmSync(TMP, { recursive: true, force: true });
}

// Run the whole benchmark and write the report.
async function main() {
	const items = plan();
	const total = items.length * ROUNDS;
	const results = {
		quick: QUICK, rounds: ROUNDS, started: new Date().toISOString(),
		machine: machineInfo(BUILD, HERE), workloads: W, runs: [],
	};
	say(`bench: ${QUICK ? 'quick mode, ' : ''}${ROUNDS} round(s) of ` +
	    `${items.length} runs; redis-server on a unix socket, no ` +
	    'persistence');
	if (results.machine.sanitizers)
		say('WARNING: bullmq-master is built with sanitizers: its CPU ' +
		    'and memory figures mean nothing');
	await redisStart();
	const done = [];
	let k = 0;
	for (let round = 1; round <= ROUNDS; round++) {
		for (const it of items) {
			k++;
			const t = Date.now();
			let r;
			try {
				r = await runItem(it);
			} catch (e) {
				r = { error: e.message };
				say(`  error: ${e.message}`);
			}
			const wall = (Date.now() - t) / 1000;
			done.push({ ...it, round, wall, ...r });
			results.runs.push({ key: it.key, workload: it.workload,
			    side: it.side, label: it.label, jobs: it.jobs, round,
			    ...r });
			let eta = 0;
			for (let i = k; i < total; i++)
				eta += estimate(items[i % items.length], done);
			if (ONLY.includes('thousand'))
				eta += estimate({ key: 'thousand', workload: 'drain',
				    side: 'c', jobs: W.thousandJobs }, done) + 10;
			const fig = r.error ? 'ERROR' : `${Math.round(
			    r.jobsPerSec)} jobs/s, Redis ${r.redisUsPerJob.toFixed(
			    1)} us/job, ${r.cmdsPerJob.toFixed(1)} cmds/job` +
			    (r.otherCores !== undefined ? `, other load ` +
			    `${r.otherCores.toFixed(2)} cores` : '');
			say(`[${k}/${total}] round ${round}/${ROUNDS} ${it.workload}` +
			    `: ${it.label}: ${fig} (${wall.toFixed(1)} s; ` +
			    `ETA ${dur(eta)})`);
		}
	}
	if (ONLY.includes('thousand')) {
		try {
			results.thousand = await thousand();
		} catch (e) {
			results.thousand = { ok: false, error: e.message };
			say(`  error: ${e.message}`);
		}
	}
	results.finished = new Date().toISOString();
	results.seconds = (Date.now() - T0) / 1000;
	mkdirSync(OUT, { recursive: true });
	writeFileSync(join(OUT, 'bench-results.json'),
	    JSON.stringify(results, null, 1) + '\n');
	const files = writeReport(results, OUT, HERE);
	say(`bench: done in ${dur(results.seconds)}; wrote ${files.join(', ')}`);
	const errors = results.runs.filter((r) => r.error).length +
	    (results.thousand && results.thousand.error ? 1 : 0);
	await cleanup(errors > 0);
	if (errors > 0)
		say(`bench: ${errors} run(s) failed; logs kept in ${TMP}`);
	return errors > 0 ? 1 : 0;
}

// The reader of the progress went away (| head, a closed terminal): stop
// as a signal would, rather than die and leave redis-server and the
// workers running.
let gone = false;
for (const s of [process.stdout, process.stderr])
	s.on('error', async (e) => {
		if (gone || e.code !== 'EPIPE')
			return;
		gone = true;
		await cleanup(false);
		process.exit(141);
	});
// A signal stops the run: the processes started go, then redis-server,
// and the exit status is the shell's for that signal.
for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143],
    ['SIGHUP', 129]])
	process.on(sig, async () => {
		if (!stopping)
			say(`bench: ${sig}: stopping, cleaning up`);
		await cleanup(false);
		process.exit(code);
	});
main().then((c) => process.exit(c), async (e) => {
	say(`bench: ${e.stack || e.message}`);
	await cleanup(true);
	process.exit(1);
});
