// Shared helpers of the interop tests: TAP output, the Redis connection
// given by run.sh, and running our binaries (bullmq, bullmq-master).
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { isDeepStrictEqual, inspect } from 'node:util';
import IORedis from 'ioredis';
import { QueueEvents } from 'bullmq';

const env = process.env;

// Where run.sh put things; a missing one is a failure, never a skip.
export const SOCKET = env.INTEROP_REDIS_SOCKET;
export const URL = env.INTEROP_REDIS_URL;
export const CLI = env.INTEROP_BULLMQ;
export const MASTER = env.INTEROP_BULLMQ_MASTER;
if (!SOCKET || !URL || !CLI || !MASTER) {
	console.log('not ok - INTEROP_* environment not set (run via run.sh)');
	process.exit(1);
}

// run.sh's TLS mode: the server's TLS port (a client certificate
// required) and the certificates of tests/tls-certs.sh; else null.
export const TLS = env.INTEROP_TLS_PORT ? {
	port: Number(env.INTEROP_TLS_PORT), dir: env.INTEROP_TLS_DIR,
} : null;

// Options for every bullmq Queue/Worker/QueueEvents of the tests: over TLS
// in the TLS mode (ioredis's tls: options), else on the unix socket.
export const connection = TLS ? {
	host: '127.0.0.1', port: TLS.port, maxRetriesPerRequest: null,
	tls: {
		ca: readFileSync(`${TLS.dir}/ca.crt`),
		cert: readFileSync(`${TLS.dir}/client.crt`),
		key: readFileSync(`${TLS.dir}/client.key`),
		servername: 'localhost',
	},
} : { path: SOCKET, maxRetriesPerRequest: null };

let failures = 0;

// Print one TAP line; diag is shown on failure.
export function ok(cond, what, diag) {
	if (cond) {
		console.log(`ok - ${what}`);
	} else {
		failures++;
		console.log(`not ok - ${what}`);
		if (diag !== undefined) {
			for (const l of (typeof diag === 'string' ? diag :
			    inspect(diag, { depth: 6 })).split('\n'))
				console.log(`#   ${l}`);
		}
	}
	return !!cond;
}

// Deep equality as a TAP line.
export function same(got, want, what) {
	return ok(isDeepStrictEqual(got, want), what,
	    `got:  ${inspect(got, { depth: 6 })}\nwant: ${inspect(want,
	    { depth: 6 })}`);
}

// A comment line.
export function note(msg) {
	for (const l of String(msg).split('\n'))
		console.log(`# ${l}`);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Poll fn until it returns a truthy value or timeout ms pass; give up at
// once when the master m (if given) has exited.
export async function until(fn, timeout = 15000, m = null) {
	const end = Date.now() + timeout;
	let v;
	for (;;) {
		v = await fn();
		if (v || Date.now() > end || (m && m.exited))
			return v;
		await sleep(50);
	}
}

// A queue name nobody else uses in this Redis.
let qseq = 0;
export function qname(tag) {
	return `${tag}-${process.pid}-${++qseq}`;
}

// A plain ioredis client on the test server.
export function redis() {
	return new IORedis({ path: SOCKET, maxRetriesPerRequest: null });
}

// The environment for our binaries: no BULLMQ_* settings leak in but the
// certificates of the TLS mode.
function binEnv() {
	const e = {};
	for (const [k, v] of Object.entries(env))
		if (!k.startsWith('BULLMQ_'))
			e[k] = v;
	if (TLS) {
		e.BULLMQ_TLS_CA_FILE = `${TLS.dir}/ca.crt`;
		e.BULLMQ_TLS_CERT = `${TLS.dir}/client.crt`;
		e.BULLMQ_TLS_KEY = `${TLS.dir}/client.key`;
	}
	return e;
}

// Run the bullmq command line synchronously; returns {status, stdout, stderr}.
export function cli(args, input) {
	const r = spawnSync(CLI, ['-r', URL, ...args], {
		input: input ?? '', env: binEnv(), encoding: 'utf8',
		timeout: 30000, maxBuffer: 64 << 20,
	});
	if (r.error)
		return { status: -1, stdout: '', stderr: String(r.error) };
	scan(`bullmq ${args[0]}`, r.stderr);
	return { status: r.status, signal: r.signal, stdout: r.stdout,
	    stderr: r.stderr };
}

// Every process we started, killed on exit whatever happens.
const started = new Set();

// Sanitizer reports seen in the output of our binaries.
const SANITIZER =
    /runtime error:|AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer/;
const reports = [];

// Remember the lines of text that are sanitizer reports.
function scan(what, text) {
	for (const l of String(text).split('\n'))
		if (SANITIZER.test(l))
			reports.push(`${what}: ${l}`);
}

// The direct children of pid, from /proc.
export function childrenOf(pid) {
	const out = [];
	for (const d of readdirSync('/proc')) {
		if (!/^\d+$/.test(d))
			continue;
		try {
			const st = readFileSync(`/proc/${d}/stat`, 'utf8');
			const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
			if (Number(f[1]) === pid)
				out.push(Number(d));
		} catch {
			/* gone */
		}
	}
	return out;
}

// Whether pid is alive and not a zombie.
export function alive(pid) {
	try {
		const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
		return st.slice(st.lastIndexOf(')') + 2)[0] !== 'Z';
	} catch {
		return false;
	}
}

// Start bullmq-master in the foreground; stderr is kept for diagnostics.
export function master(queue, spec, opts = {}) {
	// no control socket in the machine's /run: one of the test's own
	const args = ['-r', URL, '-q', queue, '-w', String(opts.workers ?? 1),
	    '-x', spec];
	if (!('control-socket' in opts))
		args.push('--control-socket', 'none');
	for (const [k, v] of Object.entries(opts))
		if (k !== 'workers')
			args.push(`--${k}`, String(v));
	const p = spawn(MASTER, args, { env: binEnv(),
	    stdio: ['ignore', 'pipe', 'pipe'] });
	const m = { proc: p, pid: p.pid, log: '', exited: null };
	started.add(p);
	p.stdout.on('data', (d) => { m.log += d; });
	p.stderr.on('data', (d) => { m.log += d; });
	m.done = new Promise((resolve) => {
		/* 'close': after the exit and the end of its output. */
		p.on('close', (code, sig) => {
			scan('bullmq-master', m.log);
			m.exited = { code, sig };
			resolve(m.exited);
		});
		p.on('error', (err) => {
			m.log += `spawn: ${err}\n`;
			m.exited = { code: -1, sig: null };
			resolve(m.exited);
		});
	});
	return m;
}

// Send TERM and wait for the master to exit; returns {code, sig}.
export async function stopMaster(m, timeout = 20000) {
	if (m.exited)
		return m.exited;
	m.proc.kill('SIGTERM');
	const r = await Promise.race([m.done, sleep(timeout).then(() => null)]);
	if (r === null) {
		for (const c of childrenOf(m.pid))
			killQuiet(c, 'SIGKILL');
		m.proc.kill('SIGKILL');
		await m.done;
		return { code: null, sig: 'timeout' };
	}
	return r;
}

// Show the tail of a master's log as TAP comments.
export function showLog(m, lines = 30) {
	const l = m.log.trimEnd().split('\n');
	note(`bullmq-master log (last ${lines} lines):`);
	note(l.slice(-lines).join('\n'));
}

function killQuiet(pid, sig) {
	try {
		process.kill(pid, sig);
	} catch {
		/* gone */
	}
}

// Kill everything still running that we started, and its children.
export function killAll() {
	for (const p of started) {
		if (p.exitCode !== null || p.signalCode !== null)
			continue;
		for (const c of childrenOf(p.pid))
			killQuiet(c, 'SIGKILL');
		killQuiet(p.pid, 'SIGKILL');
	}
}

// Track a process started elsewhere so that killAll covers it.
export function track(p) {
	started.add(p);
}

process.on('exit', killAll);
for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
	process.on(s, () => {
		killAll();
		process.exit(1);
	});
}

// Run main(); an exception is a failed test; exit 1 on any failure.
export async function main(name, fn) {
	try {
		await fn();
	} catch (err) {
		ok(false, `${name}: no exception`, err && err.stack ? err.stack :
		    String(err));
	}
	killAll();
	ok(reports.length === 0,
	    'no sanitizer report from bullmq or bullmq-master', reports.join('\n'));
	process.exit(failures ? 1 : 0);
}

// The ms timestamp of a stream entry id.
export function idTime(id) {
	return Number(String(id).split('-')[0]);
}

// Map our CLI's counts keys (whatever their spelling) to Node's names.
export function normCounts(c) {
	const alias = {
		wait: 'waiting', waiting: 'waiting', active: 'active',
		delayed: 'delayed', prioritized: 'prioritized',
		completed: 'completed', failed: 'failed',
		'waiting-children': 'waiting-children',
		waiting_children: 'waiting-children',
		waitingChildren: 'waiting-children',
	};
	const out = {};
	for (const [k, v] of Object.entries(c))
		if (alias[k])
			out[alias[k]] = Number(v);
	return out;
}

// Record every event of a queue, in stream order.  The QueueEvents must
// read from '0-0' (the queues are new): from '$' it would miss what is
// written before its first XREAD.
export function recorder(qe) {
	const rec = { list: [], errors: [] };
	const names = ['waiting', 'delayed', 'active', 'completed', 'failed',
	    'stalled', 'retries-exhausted', 'removed', 'progress',
	    'duplicated'];
	for (const ev of names)
		qe.on(ev, (args, id) => rec.list.push({ ev, id, ...args }));
	qe.on('error', (err) => rec.errors.push(String(err)));
	return rec;
}

// Per job: its events as "event(field,...)" with prev values.
export function perJob(rec) {
	const out = {};
	for (const e of rec.list) {
		const { ev, id, jobId, ...rest } = e;
		const keys = Object.keys(rest).sort();
		const prev = rest.prev ? `:${rest.prev}` : '';
		(out[jobId] ??= []).push(`${ev}${prev}(${keys.join(',')})`);
	}
	return out;
}

// A QueueEvents on queue name with a recorder; returns [qe, rec].
export async function listen(name) {
	const qe = new QueueEvents(name, { connection, lastEventId: '0-0' });
	const rec = recorder(qe);
	await qe.waitUntilReady();
	return [qe, rec];
}

// Backoff delays measured as (due time - stream time of the delayed event):
// the writer takes its clock before the script runs, so a measured delay
// is at most the configured one and less by however long that took.
export function nearDelays(got, want) {
	return Array.isArray(got) && got.length === want.length &&
	    got.every((d, i) => d <= want[i] + 50 && d >= want[i] - 250);
}
