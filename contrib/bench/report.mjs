// contrib/bench/report.mjs: turns the runs of bench.mjs into
// bench-results.md and bench-results.png (gnuplot).  Also a command, to
// write the report again from a saved bench-results.json:
//
//   node report.mjs bench-results.json OUTDIR
import { execFileSync, spawnSync } from 'node:child_process';
import {
	existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync,
} from 'node:fs';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The first line a command prints, or "unknown".
function firstLine(cmd, args, opts = {}) {
	try {
		const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
		const s = `${r.stdout || ''}${r.stderr || ''}`.trim();
		return s.split('\n')[0] || 'unknown';
	} catch {
		return 'unknown';
	}
}

// A package's version in the bench's node_modules.
function pkgVersion(here, name) {
	try {
		return JSON.parse(readFileSync(join(here, 'node_modules', name,
		    'package.json'), 'utf8')).version;
	} catch {
		return 'unknown';
	}
}

// What the figures were measured on: machine, system and versions.
export function machineInfo(build, here) {
	const info = {};
	const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
	info.cpu = (/^model name\s*:\s*(.*)$/m.exec(cpuinfo) || [])[1] ||
	    'unknown';
	info.cores = cpus().length;
	info.memGB = Math.round(totalmem() / 2 ** 30);
	info.kernel = release();
	try {
		info.os = (/^PRETTY_NAME="?([^"\n]*)/m.exec(readFileSync(
		    '/etc/os-release', 'utf8')) || [])[1];
	} catch {
		info.os = 'unknown';
	}
	info.node = process.version;
	info.bullmq = pkgVersion(here, 'bullmq');
	info.ioredis = pkgVersion(here, 'ioredis');
	info.redis = firstLine(process.env.REDIS_SERVER || 'redis-server',
	    ['--version']).replace(/^Redis server /, '');
	info.bullmqc = firstLine(join(build, 'bullmq'), ['--version']);
	const src = process.env.BENCH_SRC;
	if (src && existsSync(join(src, '.git'))) {
		info.commit = firstLine('git', ['-C', src, 'rev-parse', '--short',
		    'HEAD']);
		if (firstLine('git', ['-C', src, 'status', '--porcelain',
		    '--untracked-files=no', '--', 'src', 'lua']) !== 'unknown')
			info.commit += ' (with uncommitted changes)';
	}
	try {
		const mk = readFileSync(join(build, 'Makefile'), 'utf8');
		info.cflags = ['CFLAGS', 'WARN_CFLAGS'].map((v) =>
		    (new RegExp(`^${v} = (.*)$`, 'm').exec(mk) || [])[1] || '')
		    .join(' ').trim();
	} catch {
		info.cflags = 'unknown';
	}
	// what waking a process costs here (contrib/bench/wakecost.c)
	try {
		info.wake = JSON.parse(execFileSync(join(build, 'contrib',
		    'bench', 'wakecost'), { encoding: 'utf8' }));
	} catch {
		info.wake = null;
	}
	try {
		const ldd = execFileSync('ldd', [join(build, 'bullmq-master')],
		    { encoding: 'utf8' });
		info.sanitizers = /libasan|libubsan/.test(ldd);
	} catch {
		info.sanitizers = false;
	}
	return info;
}

// The median of a list of numbers.
function median(xs) {
	const s = [...xs].sort((a, b) => a - b);
	if (s.length === 0)
		return null;
	const m = s.length >> 1;
	return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

// Median, min and max over the rounds of one figure.
function stat(runs, get) {
	const xs = runs.map(get).filter((x) => x !== null && x !== undefined &&
	    Number.isFinite(x));
	if (xs.length === 0)
		return null;
	return { med: median(xs), min: Math.min(...xs), max: Math.max(...xs),
	    n: xs.length };
}

// Every configuration with the statistics of its good runs.
function aggregate(results) {
	const by = new Map();
	for (const r of results.runs) {
		if (!by.has(r.key))
			by.set(r.key, { key: r.key, workload: r.workload,
			    side: r.side, label: r.label, runs: [], errors: [] });
		const g = by.get(r.key);
		if (r.error)
			g.errors.push(r.error);
		else
			g.runs.push(r);
	}
	for (const g of by.values()) {
		const R = g.runs;
		g.rate = stat(R, (r) => r.jobsPerSec);
		g.redisUs = stat(R, (r) => r.redisUsPerJob);
		g.cmds = stat(R, (r) => r.cmdsPerJob);
		g.scriptUs = stat(R, (r) => r.scriptUsPerJob);
		g.reads = stat(R, (r) => r.readsPerJob);
		g.scripts = stat(R, (r) => r.scriptsPerJob);
		g.pops = stat(R, (r) => r.popsPerJob);
		g.workerUs = stat(R, (r) => r.workerUsPerJob);
		g.masterUs = stat(R, (r) => r.masterUsPerJob);
		g.cores = stat(R, (r) => r.workerCores);
		g.other = stat(R, (r) => r.otherCores);
		g.rwait = stat(R, (r) => r.redisWait);
		g.idle = stat(R, (r) => r.idle?.workers.mean);
		g.idleMax = stat(R, (r) => r.idle?.workers.max);
		g.load = stat(R, (r) => r.load?.workers.mean);
		g.ownIdle = stat(R, (r) => r.idle?.own?.mean);
		g.ownLoad = stat(R, (r) => r.load?.own?.mean);
		g.loadMax = stat(R, (r) => r.load?.workers.max);
		g.mIdle = stat(R, (r) => r.idle?.master);
		g.mLoad = stat(R, (r) => r.load?.master);
		g.notes = [...new Set(R.map((r) => r.note).filter(Boolean)
		    .concat(R.filter((r) => r.stop && !r.stop.clean).map((r) =>
		    `did not stop cleanly: ${JSON.stringify(r.stop.status)}, ` +
		    `${r.stop.leftovers} left over`)))];
	}
	return by;
}

// A number with thousands separators and d decimals.
function num(x, d = 0) {
	if (x === null || x === undefined || !Number.isFinite(x))
		return '–';
	return x.toLocaleString('en-US', { minimumFractionDigits: d,
	    maximumFractionDigits: d });
}

// "median (min–max)".
function range(s, d = 0) {
	if (!s)
		return '–';
	return s.n > 1 ? `${num(s.med, d)} (${num(s.min, d)}–${num(s.max, d)})` :
	    num(s.med, d);
}

// The median of a statistic, or null.
const med = (s) => (s ? s.med : null);

// One workload's table.
function table(groups, memory) {
	const head = ['configuration', 'jobs/s: median (range)',
	    'Redis CPU µs/job (in scripts)',
	    'Redis cmds/job (scripts, blocking pops)', 'Redis reads/job',
	    'worker CPU µs/job', 'worker cores busy'];
	if (memory)
		head.push('Redis waiting for a CPU');
	if (memory)
		head.push('PSS KB/process idle (max)',
		    'PSS KB/process under load (max)', 'master PSS KB idle / load');
	const rows = [`| ${head.join(' | ')} |`,
	    `|${head.map((h, i) => (i ? '---:' : '---')).join('|')}|`];
	for (const g of groups) {
		const cells = [g.label + (g.errors.length ?
		    ` (${g.errors.length} failed run(s))` : ''),
		    range(g.rate), `${num(med(g.redisUs), 1)} ` +
		    `(${num(med(g.scriptUs), 1)})`,
		    `${num(med(g.cmds), 1)} (${num(med(g.scripts), 2)}, ` +
		    `${num(med(g.pops), 2)})`, num(med(g.reads), 2), num(med(g.workerUs), 1) +
		    (g.side === 'c' && med(g.masterUs) !== null ?
		    ` (master ${num(med(g.masterUs), 1)})` : ''),
		    num(med(g.cores), 2)];
		if (memory)
			cells.push(med(g.rwait) === null ? '–' :
			    `${num(100 * med(g.rwait))} %`);
		if (memory)
			cells.push(`${num(med(g.idle))} (${num(med(g.idleMax))})`,
			    `${num(med(g.load))} (${num(med(g.loadMax))})`,
			    g.side === 'c' ? `${num(med(g.mIdle))} / ` +
			    `${num(med(g.mLoad))}` : '–');
		rows.push(`| ${cells.join(' | ')} |`);
	}
	const notes = groups.flatMap((g) => g.notes.map((n) =>
	    `${g.label}: ${n}`).concat(g.errors.map((e) =>
	    `${g.label}: failed run: ${e}`)));
	return rows.join('\n') + '\n' + (notes.length ? '\nNotes:\n' +
	    notes.map((n) => `- ${n}`).join('\n') + '\n' : '');
}

// The most jobs a second N children can finish when each job sleeps
// 10 ms: a child runs one job at a time.
const ceiling = (N) => N * 100;

// The number of workers in a configuration's key: N of "sleep/c/N", P of
// "drain/node/PxC".
const workersOf = (g) => Number(g.key.split('/').pop().split('x')[0]);

// The bars of issue #4, each measured, with its target and result.
function bars(by, results) {
	const out = [];
	const get = (k) => by.get(k);
	const bar = (what, measured, target, pass) => out.push({ what,
	    measured, target, pass });
	const ofSide = (w, side) => [...by.values()].filter((g) =>
	    g.workload === w && g.side === side && g.rate);
	const best = (gs) => gs.reduce((a, g) => (!a || g.rate.med >
	    a.rate.med ? g : a), null);
	const ratio = (a, b) => (a && b ? a / b : null);
	const bc = best(ofSide('drain', 'c'));
	const bn = best(ofSide('drain', 'node'));
	if (bc && bn) {
		const x = ratio(bc.rate.med, bn.rate.med);
		bar('drain: best bullmq-master against best Node',
		    `${num(bc.rate.med)} (${bc.label}) / ${num(bn.rate.med)} ` +
		    `(${bn.label}) = ${num(x, 2)}×`, '≥ 1.5×', x >= 1.5);
		const rx = ratio(med(bc.redisUs), med(bn.redisUs));
		bar('drain: Redis CPU per job, fastest against fastest',
		    `${num(med(bc.redisUs), 1)} / ${num(med(bn.redisUs), 1)} µs ` +
		    `= ${num(rx, 2)}×`, '≤ 0.75×', rx !== null && rx <= 0.75);
	}
	for (const P of [1, 2, 4, 8]) {
		const c = get(`drain/c/${P}`), n = get(`drain/node/${P}x1`);
		if (!c?.rate || !n?.rate)
			continue;
		const x = ratio(c.rate.med, n.rate.med);
		bar(`drain: ${P} child${P > 1 ? 'ren' : ''} against ${P} Node ` +
		    `process${P > 1 ? 'es' : ''} at concurrency 1`,
		    `${num(c.rate.med)} / ${num(n.rate.med)} = ${num(x, 2)}×`,
		    '≥ 2×', x >= 2);
		const rx = ratio(med(c.redisUs), med(n.redisUs));
		bar(`drain: Redis CPU per job, ${P} against ${P}`,
		    `${num(med(c.redisUs), 1)} / ${num(med(n.redisUs), 1)} µs ` +
		    `= ${num(rx, 2)}×`, '≤ 0.75×', rx !== null && rx <= 0.75);
	}
	const s256 = get('sleep/c/256'), s500 = get('sleep/node/1x500');
	if (s256?.rate && s500?.rate) {
		const x = ratio(s256.rate.med, s500.rate.med);
		const need = 1.5 * s500.rate.med;
		bar('10 ms jobs: 256 children against Node c=500',
		    `${num(s256.rate.med)} / ${num(s500.rate.med)} = ` +
		    `${num(x, 2)}×; 256 children can finish at most ` +
		    `${num(ceiling(256))} jobs/s, 1.5× Node is ` +
		    `${num(100 * need / ceiling(256))} % of that`, '≥ 1.5×',
		    x >= 1.5);
		const rx = ratio(med(s256.redisUs), med(s500.redisUs));
		bar('10 ms jobs: Redis CPU per job, 256 children against c=500',
		    `${num(med(s256.redisUs), 1)} / ${num(med(s500.redisUs), 1)} ` +
		    `µs = ${num(rx, 2)}×`, '≤ 0.75×', rx !== null && rx <= 0.75);
	}
	// issue 16: the Node adapter against Node's own sandboxed Worker
	for (const w of ['sandbox', 'sandbox-sleep']) {
		for (const N of [1, 4, 8]) {
			const c = get(`${w}/c/${N}`), n = get(`${w}/node/${N}`);
			if (!c?.rate || !n?.rate)
				continue;
			const x = ratio(c.rate.med, n.rate.med);
			bar(`${w === 'sandbox' ? 'sandboxed processor' :
			    'sandboxed processor, 10 ms jobs'}: ${N} children ` +
			    `(pipe:, Node adapter) against Node's sandboxed ` +
			    `Worker at concurrency ${N}`, `${num(c.rate.med)} / ` +
			    `${num(n.rate.med)} = ${num(x, 2)}×`, '≥ 2×', x >= 2);
		}
	}
	const cb = get('add/cli-bulk'), nb = get('add/node-bulk');
	if (cb?.rate && nb?.rate) {
		const x = ratio(cb.rate.med, nb.rate.med);
		bar('adding: `bullmq add-bulk` against Node addBulk',
		    `${num(cb.rate.med)} / ${num(nb.rate.med)} = ${num(x, 2)}×`,
		    '≥ 2×', x >= 2);
	}
	// a child's own PSS: in the sandbox workloads, without its program
	const cs = [...by.values()].filter((g) => g.side === 'c' &&
	    g.workload !== 'add').map((g) => g.workload.startsWith('sandbox') ?
	    { ...g, idle: g.ownIdle, load: g.ownLoad } : g);
	const worst = (f) => cs.reduce((a, g) => {
		const v = med(g[f]);
		return v !== null && (!a || v > a.v) ? { v, g } : a;
	}, null);
	for (const [f, lim, what] of [['idle', 512, 'idle'],
	    ['load', 1024, 'under load']]) {
		const w = worst(f);
		if (w)
			bar(`PSS per child ${what} (mean per run, worst ` +
			    'configuration)', `${num(w.v)} KB (${w.g.workload}, ` +
			    `${w.g.label})`, `≤ ${lim} KB`, w.v <= lim);
	}
	const m512 = get('sleep/c/512');
	if (m512?.mLoad) {
		const v = Math.max(med(m512.mLoad), med(m512.mIdle) ?? 0);
		bar('master PSS with 512 children (idle and under load)',
		    `${num(med(m512.mIdle))} / ${num(med(m512.mLoad))} KB`,
		    '≤ 4,096 KB', v <= 4096);
	}
	const t = results.thousand;
	if (t)
		bar('a master with 1,000 children starts, drains and stops ' +
		    'cleanly', t.error ? `error: ${t.error}` :
		    `started in ${num(t.startMs)} ms, ${num(t.completed)} jobs ` +
		    `at ${num(t.jobsPerSec)} jobs/s, stopped in ` +
		    `${num(t.stop.ms)} ms with ${JSON.stringify(t.stop.status)}` +
		    `, ${t.stop.leftovers} process(es) left`, 'clean', t.ok);
	return out;
}

// Write the chart's data files and run gnuplot; returns whether it did.
function chart(by, results, out, here) {
	const dir = mkdtempSync(join(tmpdir(), 'bullmq-bench-chart.'));
	const line = (x, s) => (s ? `${x} ${s.med} ${s.min} ${s.max}\n` : '');
	const write = (f, s) => writeFileSync(join(dir, f), s || 'NaN NaN ' +
	    'NaN NaN\n');
	const pick = (re) => [...by.values()].filter((g) => re.test(g.key))
	    .map((g) => [workersOf(g), g])
	    .sort((a, b) => a[0] - b[0]);
	write('drain-c.dat', pick(/^drain\/c\//).map(([x, g]) =>
	    line(x, g.rate)).join(''));
	write('drain-node-p.dat', pick(/^drain\/node\/\d+x1$/).map(([x, g]) =>
	    line(x, g.rate)).join(''));
	write('drain-node-c500.dat', line(1, by.get('drain/node/1x500')?.rate));
	write('drain-node-c50.dat', line(1, by.get('drain/node/1x50')?.rate));
	write('sleep-c.dat', pick(/^sleep\/c\//).map(([x, g]) =>
	    line(x, g.rate)).join(''));
	const s = by.get('sleep/node/1x500')?.rate;
	write('sleep-node.dat', s ? line(48, s) + line(700, s) : '');
	const flat = (v) => ({ med: v, min: v, max: v });
	// drawn up to 300 children, past the bar's 256: further up it would
	// flatten the measured lines
	write('sleep-ceiling.dat', line(48, flat(ceiling(48))) +
	    line(300, flat(ceiling(300))));
	// a workload left out (--only), or whose runs all failed, gets no
	// panel: gnuplot stops on a plot with no points
	const has = (re) => [...by.values()].some((g) => re.test(g.key) &&
	    g.rate) ? 1 : 0;
	const hasDrain = has(/^drain\//), hasSleep = has(/^sleep\//);
	if (!hasDrain && !hasSleep) {
		rmSync(dir, { recursive: true, force: true });
		return false;
	}
	const png = join(out, 'bench-results.png');
	const gp = join(here, 'chart.gp');
	const r = spawnSync('gnuplot', ['-e', `dir='${dir}'; out='${png}'; ` +
	    `hasdrain=${hasDrain}; hassleep=${hasSleep}; ` +
	    `drainjobs=${results.workloads.drainJobs}; ` +
	    `sleepjobs=${results.workloads.sleepJobs}; ` +
	    `rounds=${results.rounds}`, gp], { encoding: 'utf8' });
	rmSync(dir, { recursive: true, force: true });
	if (r.status !== 0) {
		process.stderr.write(`gnuplot failed: ${r.error?.message ??
		    r.stderr}\n`);
		return false;
	}
	return true;
}

// The wakecost line: what one request in flight pays twice a job.
function wakeText(w) {
	if (!w)
		return 'not measured (contrib/bench/wakecost is not built)';
	const us = (v) => v === null || v === undefined ? '?' : num(v, 1);
	return `a round trip between two processes over a unix socket takes ` +
	    `${us(w.cross_us)} µs across CPUs (${us(w.cross_cpu_us)} µs CPU ` +
	    `on one side) and ${us(w.same_us)} µs on one CPU ` +
	    `(${us(w.same_cpu_us)} µs CPU); a 1 µs sleep costs ` +
	    `${us(w.sleep_cpu_us)} µs CPU; a system call ` +
	    `${us(w.syscall_us)} µs (contrib/bench/wakecost)`;
}

// Write bench-results.md (and the chart) into out; returns the files.
export function writeReport(results, out, here) {
	const by = aggregate(results);
	const m = results.machine;
	const W = results.workloads;
	const groups = (w) => [...by.values()].filter((g) => g.workload === w);
	const L = [];
	L.push('# bullmq-c benchmark: bullmq-master against Node bullmq', '');
	L.push(`Run on ${results.started.replace('T', ' ').replace(/\..*/,
	    '')} UTC, ${Math.round(results.seconds / 60)} minutes, ` +
	    `${results.rounds} round(s)` + (results.quick ? ', **quick mode: ' +
	    'fewer jobs and configurations, a smoke test, not the ' +
	    'benchmark**' : '') + '. Each figure is the median over the ' +
	    'rounds, the range is min–max; Node and bullmq-master runs ' +
	    'alternate. See README in contrib/bench for the method and what ' +
	    'the figures do and do not mean.', '');
	if (m.sanitizers)
		L.push('**bullmq-master was built with sanitizers: its CPU and ' +
		    'memory figures are not representative.**', '');
	L.push('| machine and versions | |', '|---|---|',
	    `| CPU | ${m.cpu}, ${m.cores} cores (shared by Redis, the workers ` +
	    'and the benchmark) |',
	    `| memory | ${m.memGB} GB |`, `| system | ${m.os}, Linux ${m.kernel} |`,
	    `| Redis | ${m.redis}, unix socket, no persistence |`,
	    `| Node | ${m.node}, bullmq ${m.bullmq}, ioredis ${m.ioredis} |`,
	    `| bullmq-c | ${m.bullmqc}${m.commit ? `, commit ${m.commit}` :
	    ''} |`, `| C flags | \`${m.cflags || 'unknown'}\` |`,
	    `| waking a process | ${wakeText(m.wake)} |`, '');
	const other = stat(results.runs.filter((r) => !r.error), (r) =>
	    r.otherCores);
	if (other)
		L.push(`Other load on the machine during the worker runs (CPU ` +
		    `not used by Redis or the workers, in cores): median ` +
		    `${num(other.med, 2)}, largest ${num(other.max, 2)}.`, '');
	const B = bars(by, results);
	L.push('## Bars (issue #4)', '', '| bar | measured | target | |',
	    '|---|---|---|---|');
	for (const b of B)
		L.push(`| ${b.what} | ${b.measured} | ${b.target} | ` +
		    `${b.pass ? 'met' : '**missed**'} |`);
	L.push('');
	L.push(`## 1. Drain: ${num(W.drainJobs)} jobs pre-filled, the ` +
	    'processor returns at once', '', table(groups('drain'), true));
	L.push(`## 2. 10 ms jobs: ${num(W.sleepJobs)} jobs that sleep ` +
	    '10 ms', '', table(groups('sleep'), true));
	const reach = groups('sleep').filter((g) => g.side === 'c' && g.rate)
	    .sort((a, b) => workersOf(a) - workersOf(b)).map((g) =>
	    `${num(workersOf(g))} children ${num(100 * g.rate.med /
	    ceiling(workersOf(g)))} % of ${num(ceiling(workersOf(g)))}`);
	if (reach.length)
		L.push('A child runs one job at a time, so N children can ' +
		    'finish at most N × 100 of these jobs a second, with no ' +
		    'time at all spent outside the sleep. The medians reached: ' +
		    `${reach.join(', ')}.`, '');
	for (const [w, what] of [['sandbox', 'return at once'],
	    ['sandbox-sleep', 'sleep 10 ms']]) {
		const gs = groups(w);
		if (gs.length === 0)
			continue;
		L.push(`## ${w === 'sandbox' ? '2a' : '2b'}. A sandboxed ` +
		    `processor file: ${num(W.sandboxJobs)} jobs that ${what}`, '',
		    'One processor file under Node\'s sandboxed Worker (its ' +
		    'concurrency is that many processes) and, unchanged, under ' +
		    'bullmq-master\'s pipe: processor with the Node adapter (a ' +
		    'child and its Node program each); Python and the builtin ' +
		    'for reference. Worker CPU and PSS count every process: the ' +
		    'worker with its sandbox processes, the child with its ' +
		    'program.', '', table(gs, true));
		const pipe = gs.find((g) => g.key.startsWith(`${w}/c/`) &&
		    med(g.workerUs) !== null);
		const inproc = gs.find((g) => g.key.startsWith(`${w}/builtin/`));
		const same = pipe && inproc && gs.find((g) => g.key ===
		    `${w}/c/${workersOf(inproc)}`);
		if (same && med(inproc.workerUs) !== null)
			L.push(`The pipe's cost a job over in-process C ` +
			    `(${inproc.label}): ${num(med(same.workerUs) -
			    med(inproc.workerUs), 1)} µs of CPU (child and ` +
			    'program against the child alone).', '');
	}
	for (const [w, what] of [['tls-drain', `${num(W.tlsDrainJobs)} jobs ` +
	    'that return at once'], ['tls-sleep', `${num(W.tlsSleepJobs)} ` +
	    'jobs that sleep 10 ms']]) {
		const gs = groups(w);
		if (gs.length === 0)
			continue;
		L.push(`## ${w === 'tls-drain' ? '2c' : '2d'}. TLS against ` +
		    `plain TCP: ${what}`, '', 'The same children on the same ' +
		    'Redis, through its plain TCP port and through its TLS port ' +
		    '(TLS 1.3, server certificate only), both on 127.0.0.1.', '',
		    table(gs, true));
		const tcp = gs.find((g) => g.key.includes('/tcp/'));
		const tls = gs.find((g) => g.key.includes('/tls/'));
		if (tcp && tls && tcp.rate && tls.rate &&
		    med(tcp.workerUs) !== null && med(tls.workerUs) !== null)
			L.push(`TLS costs ${num(med(tls.workerUs) -
			    med(tcp.workerUs), 1)} µs of child CPU and ` +
			    `${num(med(tls.redisUs) - med(tcp.redisUs), 1)} µs of ` +
			    `Redis CPU a job; the rate is ${num(100 * tls.rate.med /
			    tcp.rate.med)} % of plain TCP's.`, '');
	}
	L.push('## 3. Adding jobs', '', 'Node figures time the adding alone ' +
	    '(after Node started and connected); `bullmq` figures time the ' +
	    'whole command, start included, and `bullmq add` is one process ' +
	    'per job. Worker CPU here is the producer\'s CPU.', '',
	    table(groups('add').map((g) => ({ ...g, label: `${g.label}, ` +
	    `${num(g.runs[0]?.jobs)} jobs` })), false));
	const t = results.thousand;
	if (t) {
		L.push('## 4. A master with 1,000 children', '');
		if (t.error)
			L.push(`Failed: ${t.error}`, '');
		else
			L.push(`${num(W.thousandJobs)} jobs that return at once. ` +
			    `All 1,000 children up in ${num(t.startMs)} ms ` +
			    `(${num(t.blocked)} connections blocked waiting), drained ` +
			    `at ${num(t.jobsPerSec)} jobs/s, ${num(t.completed)} ` +
			    `completed, ${num(t.failed)} failed; TERM stopped it in ` +
			    `${num(t.stop.ms)} ms with ${JSON.stringify(
			    t.stop.status)} and ${t.stop.leftovers} process(es) ` +
			    `left. PSS: master ${num(t.idle.master)} KB idle, ` +
			    `${num(t.load.master)} KB under load; children ` +
			    `${num(t.idle.workers.mean)} KB idle, ` +
			    `${num(t.load.workers.mean)} KB under load (mean). ` +
			    `Result: ${t.ok ? 'clean' : '**not clean**'}.`, '');
	}
	const files = [join(out, 'bench-results.md')];
	if (chart(by, results, out, here)) {
		L.push('## Chart', '', '![jobs/s against workers]' +
		    '(bench-results.png)', '');
		files.push(join(out, 'bench-results.png'));
	}
	L.push('## Columns', '',
	    '- jobs/s: jobs divided by the time from resuming the pre-filled ' +
	    'queue to the last job\'s finishedOn (adding: from the first add ' +
	    'to the last reply).',
	    '- Redis CPU µs/job: used_cpu_user + used_cpu_sys of INFO cpu ' +
	    'over the run, per job; in brackets the part spent running ' +
	    'scripts (usec of EVALSHA in INFO commandstats), the rest is ' +
	    'reading, parsing, replying and the event loop.',
	    '- Redis cmds/job: INFO commandstats calls after CONFIG RESETSTAT, ' +
	    'per job, counting the commands run inside Lua scripts, without ' +
	    'the benchmark\'s own polling; in brackets the EVALSHA calls ' +
	    '(round trips running a script) and the blocking pops per job.',
	    '- Redis reads/job: total_reads_processed of INFO stats per job: ' +
	    'below 1 when a client sends several requests in one write ' +
	    '(pipelining), as one Node process with many jobs in flight does.',
	    '- worker CPU µs/job, worker cores busy: user + system time of ' +
	    'the worker processes (for bullmq-master the master and all its ' +
	    'children) from /proc/PID/schedstat over the run.',
	    '- Redis waiting for a CPU: the time redis-server was runnable ' +
	    'but not running (/proc/PID/schedstat), as a share of the run: ' +
	    'how much the workers crowd Redis out of the two cores.',
	    '- PSS: /proc/PID/smaps_rollup of each worker process (Node: each ' +
	    'Node process; C: each child), mean over the processes and the ' +
	    'largest, idle before the run and once half the jobs are done.',
	    '');
	writeFileSync(files[0], L.join('\n'));
	return files;
}

// As a command: node report.mjs bench-results.json OUTDIR.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
	const [json, out] = process.argv.slice(2);
	if (!json || !out) {
		console.error('usage: node report.mjs bench-results.json OUTDIR');
		process.exit(2);
	}
	mkdirSync(out, { recursive: true });
	const files = writeReport(JSON.parse(readFileSync(json, 'utf8')), out,
	    dirname(fileURLToPath(import.meta.url)));
	console.log(files.join('\n'));
}
