// Option values as JavaScript reads them: jobs whose stored options hold
// fractional numbers, numeric strings, zero, negative numbers and values
// of other types, run once by Node's Worker (the reference) and once by
// bullmq-master, in the same run.  Both sides run one processor file
// (bullmq-master through the pipe: processor's Node adapter).  What they
// leave must agree: the jobs' states, attempts, events, retry delays,
// stack traces, logs, retention and retry order.  The table of what Node
// does with each value is in tests/interop/README.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue, Worker, FlowProducer } from 'bullmq';
import {
	connection, ok, same, until, qname, master, stopMaster, showLog, main,
	listen, perJob, redis, idTime, sleep, note, cli,
} from './lib.mjs';

const ADAPTER = join(process.env.INTEROP_TOP_SRCDIR,
    'contrib/processors/node/bullmq-pipe.cjs');

// The processor of both sides: write data.logs log lines, then fail
// when data.what is "fail".
const PROCESSOR = `
module.exports = async function (job) {
	for (let i = 0; i < (job.data.logs || 0); i++)
		await job.log('line ' + i);
	if (job.data.what === 'fail')
		throw new Error('no ' + job.name);
	return null;
};
`;
const FILE = join(process.cwd(), '12-processor.cjs');

const F = { what: 'fail' };
const K = { what: 'ok' };

// The jobs of the first phase, all in one queue per side: id, data, opts.
// Every one is kept (no retention), so that its hash can be compared.
const JOBS = [
	// attempts: Node retries while attemptsMade + 1 < attempts
	['att-str', F, { attempts: '3' }],
	['att-frac', F, { attempts: 2.5 }],
	['att-hex', F, { attempts: '0x2' }],
	['att-true', F, { attempts: true }],
	['att-neg', F, { attempts: -2 }],
	['att-obj', F, { attempts: {} }],
	// backoff: a fixed delay as stored, any truthy one; computed ones
	['bo-frac', F, { attempts: 2, backoff: 250.5 }],
	['bo-third', F, { attempts: 2,
	    backoff: { type: 'fixed', delay: 1000 / 3 } }],
	['bo-str', F, { attempts: 2,
	    backoff: { type: 'fixed', delay: '300' } }],
	['bo-zero', F, { attempts: 2, backoff: 0 }],
	['bo-zstr', F, { attempts: 2, backoff: { type: 'fixed', delay: '0' } }],
	['bo-neg', F, { attempts: 2, backoff: { type: 'fixed', delay: -100 } }],
	['bo-exps', F, { attempts: 3,
	    backoff: { type: 'exponential', delay: '150' } }],
	['bo-expf', F, { attempts: 2,
	    backoff: { type: 'exponential', delay: 100.5 } }],
	['bo-expn', F, { attempts: 2,
	    backoff: { type: 'exponential', delay: -100 } }],
	['bo-jits', F, { attempts: 2,
	    backoff: { type: 'fixed', delay: 300, jitter: '0.5' } }],
	// stackTraceLimit: slice(-limit) of the traces, 0 keeps none
	['st-str', F, { attempts: 3, stackTraceLimit: '2' }],
	['st-frac', F, { attempts: 3, stackTraceLimit: 1.5 }],
	['st-neg', F, { attempts: 3, stackTraceLimit: -1 }],
	['st-zstr', F, { attempts: 3, stackTraceLimit: '0' }],
	['st-zero', F, { attempts: 3, stackTraceLimit: 0 }],
	// keepLogs (stored as kl): given to the log script when truthy
	['kl-str', { logs: 4 }, { keepLogs: '2' }],
	['kl-neg', { logs: 4 }, { keepLogs: -1 }],
	['kl-zero', { logs: 3 }, { keepLogs: 0 }],
	['kl-frac', { logs: 3 }, { keepLogs: 2.5 }],
	// delay and priority: read from the hash fields, not from opts
	['dl-frac', K, { delay: 10.5 }],
	['dl-str', K, { delay: '100' }],
	['dl-neg', K, { delay: -5 }],
	['pr-neg', K, { priority: -1 }],
	['pr-zero', K, { priority: 0 }],
	// deduplication: the id a number; the window ends with the job
	['de-num', K, { deduplication: { id: 5 } }],
	// null: Queue.add leaves it out; stored by another producer (text)
	['nul-att', F, '{"attempts":null}'],
	['nul-bo', F, '{"attempts":2,"backoff":null}'],
	['nul-bod', F,
	    '{"attempts":2,"backoff":{"type":"fixed","delay":null}}'],
	['nul-st', F, '{"attempts":2,"stackTraceLimit":null}'],
	['nul-kl', { logs: 3 }, '{"kl":null}'],
	['nul-lifo', K, '{"lifo":null}'],
];

// Retry delays seen in a job's delayed events: due time - stream time.
function delays(rec, id) {
	return rec.list.filter((e) => e.ev === 'delayed' && e.jobId === id)
	    .map((e) => Number(e.delay) - idTime(e.id));
}

// What a job left: its state and the fields the options decide.
async function leftOf(q, r, id) {
	const h = await r.hgetall(`bull:${q.name}:${id}`);
	const logs = await r.lrange(`bull:${q.name}:${id}:logs`, 0, -1);
	let st = null;
	try {
		st = JSON.parse(h.stacktrace ?? 'null');
	} catch {
		st = 'bad';
	}
	return {
		state: await q.getJobState(id),
		atm: h.atm ?? null,
		delay: h.delay ?? null,
		traces: Array.isArray(st) ? st.length : st,
		logs,
	};
}

// Start the worker of one side on queue name: a Node Worker, or
// bullmq-master with the same processor file; returns stop().
function starter(side, name, settings = {}) {
	return async () => {
		if (side === 'node') {
			const { default: fn } = await import(FILE);
			const w = new Worker(name, fn, { connection,
			    ...settings.node });
			w.on('error', () => {});
			return () => w.close();
		}
		const m = master(name, `pipe:${process.execPath} ${ADAPTER} ` +
		    FILE, { workers: 1, 'drain-delay': 300, ...settings.c });
		return async () => {
			const st = await stopMaster(m);
			ok(st.code === 0, `bullmq-master on ${name} exits 0`,
			    st);
			if (st.code !== 0)
				showLog(m);
		};
	};
}

// Wait until no job of q waits, runs or is delayed.
async function settled(q, timeout = 30000) {
	return until(async () => {
		const c = await q.getJobCounts('waiting', 'active', 'delayed',
		    'prioritized');
		return Object.values(c).every((n) => n === 0);
	}, timeout);
}

// Phase 1: the jobs of JOBS on one side; returns what they left.
async function phase1(side, r) {
	const q = new Queue(qname(`o12${side[0]}`), { connection });
	const [qe, rec] = await listen(q.name);
	for (const [id, data, opts] of JOBS) {
		if (typeof opts !== 'string') {
			await q.add(id, data, { ...opts, jobId: id });
			continue;
		}
		/* no worker runs yet: the stored text is replaced */
		await q.add(id, data, { jobId: id });
		await r.hset(`bull:${q.name}:${id}`, 'opts', opts);
	}
	const stop = await starter(side, q.name)();
	const done = await settled(q);
	await stop();
	ok(done, `${side}: the option jobs settled`);
	const out = {};
	for (const [id] of JOBS)
		out[id] = { ...await leftOf(q, r, id),
		    delays: delays(rec, id) };
	out['de-num'].dedupKey = await r.exists(`bull:${q.name}:de:5`);
	const events = perJob(rec);
	await qe.close();
	await q.close();
	return { out, events };
}

// Retention cases: the option of job x, the data of both jobs, and
// whether x is added a second after its witness w finished (for ages).
const KEEP = [
	['count0', { removeOnComplete: { count: 0 } }, K],
	['age0', { removeOnComplete: { age: 0 } }, K],
	['minus1', { removeOnComplete: -1 }, K],
	['agehalf', { removeOnComplete: { age: 0.5 } }, K, true],
	['agestr', { removeOnComplete: { age: '1' } }, K, true],
	['count0age', { removeOnComplete: { count: 0, age: 3600 } }, K],
	['limit0', { removeOnComplete: { age: 0, limit: 0 } }, K],
	['str2', { removeOnComplete: '2' }, K],
	['empty', { removeOnComplete: '' }, K],
	['array', { removeOnComplete: [] }, K],
	['countneg', { removeOnComplete: { count: -1 } }, K],
	['fcount0', { removeOnFail: { count: 0 } }, F],
	['fage0', { removeOnFail: { age: 0 } }, F],
	['fminus1', { removeOnFail: -1 }, F],
];

// The state of job id, "gone" when removed.
async function stateOf(q, id) {
	const s = await q.getJobState(id);
	return s === 'unknown' ? 'gone' : s;
}

// Wait until job id of q is finished or gone.
async function finished(q, id) {
	return until(async () => ['completed', 'failed', 'gone']
	    .includes(await stateOf(q, id)), 20000);
}

// The worker settings of the same forms: Node's Worker option, the
// setting of bullmq-master; the job x has none of its own.
const WKEEP = [
	['w-age0', { removeOnComplete: { age: 0 } },
	    { 'remove-on-complete': 'age:0' }],
	['w-agehalf', { removeOnComplete: { age: 0.5 } },
	    { 'remove-on-complete': 'age:0.5' }, true],
	['w-count0', { removeOnFail: { count: 0 } },
	    { 'remove-on-fail': 'count:0' }],
];

// Phase 2: for each retention case, a witness w (kept: removeOn* false)
// then x with the option, on a running worker of each side; the states of
// w and x once x finished.  settings: the workers' own.
async function phase2(cases, settings = {}) {
	const qs = { node: new Queue(qname('o12rn'), { connection }),
	    c: new Queue(qname('o12rc'), { connection }) };
	const stops = {};
	for (const side of ['node', 'c'])
		stops[side] = await starter(side, qs[side].name, settings)();
	const got = { node: {}, c: {} };
	for (const [name, opts, data, wait] of cases) {
		const w = `${name}-w`;
		const x = `${name}-x`;
		await Promise.all(Object.entries(qs).map(async ([, q]) => {
			await q.add(w, data, { jobId: w,
			    removeOnComplete: false, removeOnFail: false });
			await finished(q, w);
		}));
		if (wait)
			await sleep(1100);
		await Promise.all(Object.entries(qs).map(async ([side, q]) => {
			await q.add(x, data, { ...opts, jobId: x });
			await finished(q, x);
			got[side][name] = { w: await stateOf(q, w),
			    x: await stateOf(q, x) };
		}));
	}
	for (const side of ['node', 'c']) {
		await stops[side]();
		await qs[side].close();
	}
	return got;
}

// Phase 3: a retry goes to the front of the line when lifo is truthy;
// the order in which the jobs became active.
async function phase3(side) {
	const q = new Queue(qname(`o12l${side[0]}`), { connection });
	const [qe, rec] = await listen(q.name);
	await q.add('a', F, { jobId: 'a', attempts: 2, lifo: 'yes' });
	await q.add('b', K, { jobId: 'b' });
	await q.add('c', K, { jobId: 'c' });
	const stop = await starter(side, q.name)();
	ok(await settled(q), `${side}: the lifo jobs settled`);
	await stop();
	await sleep(200);
	const order = rec.list.filter((e) => e.ev === 'active')
	    .map((e) => e.jobId);
	await qe.close();
	await q.close();
	return order;
}

// The parent options of a failing child, as values other than true:
// Queue.add and FlowProducer store them in the child's parent field as
// true when truthy, and both workers read that field.
const PARENT_OPTS = [
	['fpof1', { failParentOnFailure: 1 }],
	['fpof0', { failParentOnFailure: 0 }],
	['idofs', { ignoreDependencyOnFailure: 'yes' }],
	['rdof1', { removeDependencyOnFailure: 1 }],
	['cpofs', { continueParentOnFailure: 'yes' }],
];

// Phase 5: a flow per case, its one child failing on the side's worker
// (the parents' queue has none); what each parent is left with.
async function phase5(side, r) {
	const pq = new Queue(qname(`o12p${side[0]}`), { connection });
	const kq = new Queue(qname(`o12k${side[0]}`), { connection });
	const flow = new FlowProducer({ connection });
	for (const [name, opts] of PARENT_OPTS)
		await flow.add({ name, queueName: pq.name, data: {},
		    opts: { jobId: name }, children: [{ name: `${name}-k`,
		    queueName: kq.name, data: F,
		    opts: { ...opts, jobId: `${name}-k` } }] });
	await flow.close();
	const stop = await starter(side, kq.name)();
	ok(await until(async () => (await kq.getJobCounts('failed')).failed ===
	    PARENT_OPTS.length, 20000), `${side}: the children failed`);
	await stop();
	const out = {};
	for (const [name] of PARENT_OPTS) {
		const pk = `bull:${pq.name}:${name}`;
		out[name] = {
			state: await pq.getJobState(name),
			defa: (await r.hget(pk, 'defa')) !== null,
			dependencies: await r.scard(`${pk}:dependencies`),
			unsuccessful: await r.zcard(`${pk}:unsuccessful`),
			failed: await r.hlen(`${pk}:failed`),
		};
	}
	await pq.close();
	await kq.close();
	return out;
}

// What bullmq add stores for flags, against Queue.add with the same
// options: flags, Node's options.
const CLI_ADDS = [
	[['--priority', '0'], { priority: 0 }],
	[['--delay', '0'], { delay: 0 }],
	[['--delay', '0', '--priority', '0', '--attempts', '3', '--backoff',
	    'fixed:500', '--lifo', '--remove-on-complete', 'true',
	    '--remove-on-fail', '5'], { delay: 0, priority: 0, attempts: 3,
	    backoff: { type: 'fixed', delay: 500 }, lifo: true,
	    removeOnComplete: true, removeOnFail: 5 }],
	[['--backoff', 'exponential:100', '--remove-on-complete',
	    'age:60,count:3'], { backoff: { type: 'exponential', delay: 100 },
	    removeOnComplete: { age: 60, count: 3 } }],
	[['--remove-on-fail', 'count:3'], { removeOnFail: { count: 3 } }],
	[['--opts', '{"lifo":false,"priority":0,"delay":0,' +
	    '"stackTraceLimit":0,"backoff":0}'], { lifo: false, priority: 0,
	    delay: 0, stackTraceLimit: 0, backoff: 0 }],
];

// Phase 4: the stored opts and the delay and priority fields.
async function phase4(r) {
	const q = new Queue(qname('o12a'), { connection });
	const stored = async (id) => {
		const h = await r.hgetall(`bull:${q.name}:${id}`);
		return { opts: JSON.parse(h.opts), delay: h.delay,
		    priority: h.priority };
	};
	for (const [flags, opts] of CLI_ADDS) {
		const j = await q.add('n', {}, opts);
		const res = cli(['add', ...flags, q.name, 'n', '{}']);
		if (!ok(res.status === 0, `bullmq add ${flags.join(' ')} ` +
		    'exits 0', res.stderr))
			continue;
		same(await stored(res.stdout.trim()), await stored(j.id),
		    `bullmq add ${flags.join(' ')}: stored as Queue.add ` +
		    `${JSON.stringify(opts)} stores it`);
	}
	await q.obliterate({ force: true });
	await q.close();
}

await main('12-option-values', async () => {
	writeFileSync(FILE, PROCESSOR);
	const r = redis();

	// 1: attempts, backoff, stackTraceLimit, keepLogs, delay, priority
	const n = await phase1('node', r);
	const c = await phase1('c', r);
	for (const [id, , opts] of JOBS) {
		const a = { ...c.out[id] };
		const b = { ...n.out[id] };
		const dn = b.delays;
		const dc = a.delays;
		delete a.delays;
		delete b.delays;
		if (id === 'bo-jits')
			a.delay = b.delay = 'random';
		const what = typeof opts === 'string' ? opts :
		    JSON.stringify(opts);
		same(a, b, `${id} ${what}: bullmq-master ` +
		    'leaves the job as Node does');
		same(c.events[id], n.events[id], `${id}: the same events`);
		ok(dc.length === dn.length && dc.every((d, i) =>
		    Math.abs(d - dn[i]) <= (id === 'bo-jits' ? 200 : 120)),
		    `${id}: the same retry delays`, { c: dc, node: dn });
	}
	// the test sees what it claims: Node waits on these, not on those
	ok(['bo-frac', 'bo-third', 'bo-str', 'bo-exps', 'bo-expf']
	    .every((id) => n.out[id].delays.length > 0 &&
	    n.out[id].delays[0] > 50), 'Node waits before these retries',
	    n.out);
	same(n.out['att-str'].atm, '3', 'Node makes 3 attempts of "3"');

	// 2: removeOnComplete / removeOnFail in every form
	const k = await phase2(KEEP);
	for (const [name, opts] of KEEP)
		same(k.c[name], k.node[name],
		    `retention ${JSON.stringify(opts)}: bullmq-master keeps ` +
		    'and removes what Node does');
	same(k.node.count0, { w: 'completed', x: 'gone' },
	    'Node removes a job with {count: 0} as it finishes');
	for (const [name, node, c, wait] of WKEEP) {
		const data = c['remove-on-fail'] ? F : K;
		const kw = await phase2([[name, {}, data, wait]], { node, c });
		same(kw.c[name], kw.node[name],
		    `worker ${JSON.stringify(node)}: bullmq-master with ` +
		    `${JSON.stringify(c)} keeps and removes what Node does`);
	}

	// 3: lifo
	const ln = await phase3('node');
	const lc = await phase3('c');
	same(lc, ln, 'lifo "yes": retried in the same order as Node');
	same(ln, ['a', 'a', 'b', 'c'], 'Node retries a lifo job first');
	note(`lifo order: ${ln.join(' ')}`);

	// 5: the parent options of a child
	const pn = await phase5('node', r);
	const pc = await phase5('c', r);
	for (const [name, opts] of PARENT_OPTS)
		same(pc[name], pn[name], `child ${JSON.stringify(opts)}: its ` +
		    'parent is left as Node leaves it');
	same(pn.fpof1.defa, true,
	    'Node fails the parent of failParentOnFailure 1');

	// 4: bullmq add
	await phase4(r);
	r.disconnect();
});
