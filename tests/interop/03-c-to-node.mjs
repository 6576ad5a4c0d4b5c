// `bullmq add` / `bullmq add-bulk` -> a Node Worker processes every job with
// the data, name and options given.  The same jobs added with Node's
// Queue.add to a second queue are the reference.
import { isDeepStrictEqual } from 'node:util';
import { Queue, Worker, Job } from 'bullmq';
import {
	connection, ok, same, note, until, qname, cli, main, sleep, listen,
	idTime, nearDelays,
} from './lib.mjs';

// The longest custom id the C library takes.
const LONG = 'L'.repeat(3072);

const uni = { text: 'žluťoučký kůň – 日本 😀',
    deep: { list: ['é', { x: 'ß' }] } };

// name, data (undefined: none), CLI flags, the same as Node options.
const SINGLE = [
	['plain', { a: 1 }, [], {}],
	['nodata', undefined, [], {}],
	['delayed', { d: 1 }, ['--delay', '400'], { delay: 400 }],
	['prio', { p: 3 }, ['--priority', '3'], { priority: 3 }],
	['custom', { c: 1 }, ['--job-id', 'my-id-1'], { jobId: 'my-id-1' }],
	['long-id', { li: 1 }, ['--job-id', LONG], { jobId: LONG }],
	['lifo', { l: 1 }, ['--lifo'], { lifo: true }],
	['retry-fixed', { failTimes: 1 },
	    ['--attempts', '3', '--backoff', 'fixed:200'],
	    { attempts: 3, backoff: { type: 'fixed', delay: 200 } }],
	['retry-exp', { failTimes: 2 },
	    ['--attempts', '3', '--backoff', 'exponential:100'],
	    { attempts: 3, backoff: { type: 'exponential', delay: 100 } }],
	['roc', { gone: true }, ['--remove-on-complete', 'true'],
	    { removeOnComplete: true }],
	['unicode', uni, [], {}],
	['string', 'just a string', [], {}],
];
// add-bulk lines: name, data, opts.
const BULK = [
	['bulk-1', { i: 1 }, undefined],
	['bulk-2', { i: 2 }, { priority: 2 }],
	['bulk-3', 'bulk string', { delay: 300 }],
	['bulk-4', { i: 4, failTimes: 1 },
	    { attempts: 2, backoff: { type: 'fixed', delay: 100 },
	    jobId: 'bulk-custom' }],
	['bulk-5', { nested: { u: 'ü', arr: [1, [2, [3]]] } }, { lifo: true }],
	['bulk-6', { i: 6 }, { attempts: 4, priority: 1 }],
];
const ALL = [...SINGLE.map((j) => [j[0], j[1], j[3]]), ...BULK];

// What Node reads back of a job's options (the ones we gave).
function optsOf(job) {
	const o = job.opts;
	return {
		attempts: o.attempts, backoff: o.backoff, delay: o.delay || 0,
		priority: o.priority || 0, lifo: !!o.lifo,
		removeOnComplete: o.removeOnComplete,
	};
}

// Read every job of q by name.
async function byName(q, ids) {
	const out = {};
	for (const id of ids) {
		const j = await Job.fromId(q, id);
		if (j)
			out[j.name] = j;
	}
	return out;
}

// A Node processor that fails data.failTimes times, then echoes.
async function proc(job) {
	if (job.data && job.attemptsMade < (job.data.failTimes ?? 0))
		throw new Error(`planned failure ${job.attemptsMade + 1}`);
	return { name: job.name, data: job.data ?? null };
}

await main('03-c-to-node', async () => {
	const qcName = qname('i3c');
	const qnName = qname('i3n');
	const qc = new Queue(qcName, { connection });
	const qn = new Queue(qnName, { connection });
	const [qec, recC] = await listen(qcName);
	const [qen, recN] = await listen(qnName);
	await qc.pause();
	await qn.pause();

	// C producer.
	const idsC = [];
	for (const [name, data, flags] of SINGLE) {
		const args = ['add', qcName, name];
		if (data !== undefined)
			args.push(JSON.stringify(data));
		const r = cli([...args, ...flags]);
		const id = r.stdout.trim();
		const shown = flags.map((f) => f.length > 40 ?
		    `${f.slice(0, 8)}...(${f.length} bytes)` : f);
		ok(r.status === 0 && id !== '', `bullmq add ${name} ` +
		    `${shown.join(' ')}: exit 0, prints the id`, r);
		idsC.push(id);
	}
	const nd = BULK.map(([name, data, opts]) => JSON.stringify(
	    opts ? { name, data, opts } : { name, data })).join('\n') + '\n';
	const rb = cli(['--json', 'add-bulk', qcName], nd);
	let sum = null;
	try {
		sum = JSON.parse(rb.stdout);
	} catch {
		/* reported below */
	}
	ok(rb.status === 0 && sum && sum.added === BULK.length,
	    `bullmq add-bulk: ${BULK.length} jobs added`, rb);
	const dup = cli(['add', qcName, 'custom', '{"c":2}', '--job-id',
	    'my-id-1']);
	same(dup.stdout.trim(), 'my-id-1',
	    'bullmq add of an existing custom id prints that id');

	// Node producer, same jobs.
	const idsN = [];
	for (const [name, data, opts] of ALL)
		idsN.push((await qn.add(name, data, opts)).id);
	await qn.add('custom', { c: 2 }, { jobId: 'my-id-1' });

	// Ids: printed ids are the real ones; counters advance alike.
	same(idsC, idsN.slice(0, SINGLE.length),
	    'bullmq add prints the ids Node would assign');
	const allIds = [...idsN];
	const jc = await byName(qc, allIds);
	const jn = await byName(qn, allIds);
	same(Object.keys(jc).sort(), ALL.map((j) => j[0]).sort(),
	    'Node reads every job added by the command line');
	for (const [name, data] of ALL) {
		const c = jc[name];
		const n = jn[name];
		if (!c || !n)
			continue;
		same(c.data, data ?? {}, `${name}: data as given`);
		same(c.id, n.id, `${name}: id as Node's`);
		same(optsOf(c), optsOf(n), `${name}: options as Node's`);
		same([c.delay, c.priority], [n.delay, n.priority],
		    `${name}: delay and priority fields as Node's`);
		same(await c.getState(), await n.getState(),
		    `${name}: state as Node's`);
		if (!isDeepStrictEqual(c.opts, n.opts))
			note(`${name}: opts C ${JSON.stringify(c.opts)} ` +
			    `node ${JSON.stringify(n.opts)}`);
	}
	same((await Job.fromId(qc, 'my-id-1'))?.data, { c: 1 },
	    'a duplicate custom id does not overwrite the job');
	same(await qc.getJobCounts(), await qn.getJobCounts(),
	    'getJobCounts as for the Node-added queue');

	// Node Workers process both queues.
	const wc = new Worker(qcName, proc, { connection });
	const wn = new Worker(qnName, proc, { connection });
	await until(async () => (await qc.getWorkers()).length >= 1 &&
	    (await qn.getWorkers()).length >= 1);
	await qc.resume();
	await qn.resume();
	const want = ALL.length;	/* roc is removed, the rest complete */
	const done = await until(async () =>
	    (await qc.getCompletedCount()) === want - 1 &&
	    (await qn.getCompletedCount()) === want - 1, 20000);
	ok(done, 'Node Worker completes every job added by the command line',
	    { c: await qc.getJobCounts(), node: await qn.getJobCounts() });
	await Promise.all([wc.close(), wn.close()]);
	await sleep(200);

	// First activation order, but for the delayed jobs (their turn
	// depends on how long the adds took).
	const order = (rec) => {
		const seen = new Set(ALL.filter((x) => x[2]?.delay)
		    .map((x) => jn[x[0]]?.id));
		const out = [];
		for (const e of rec.list)
			if (e.ev === 'active' && !seen.has(e.jobId)) {
				seen.add(e.jobId);
				out.push(e.jobId);
			}
		return out;
	};
	same(order(recC), order(recN),
	    'Node Worker takes the jobs in the same order as Node-added ones ' +
	    '(but for the delayed ones)');

	const after = await byName(qc, allIds);
	for (const [name, data, opts] of ALL) {
		const j = after[name];
		if (name === 'roc') {
			ok(!j, 'roc: removed on completion');
			continue;
		}
		if (!ok(j, `${name}: still there after processing`))
			continue;
		same(j.returnvalue, { name, data: data ?? {} },
		    `${name}: processed by Node with its name and data`);
		same(j.attemptsMade, (data?.failTimes ?? 0) + 1,
		    `${name}: attemptsMade ${(data?.failTimes ?? 0) + 1}`);
		if (opts?.delay)
			ok(j.processedOn >= j.timestamp + opts.delay,
			    `${name}: not processed before its delay`);
	}

	// Backoff delays as given on the command line.
	const rel = {};
	for (const e of recC.list)
		if (e.ev === 'delayed')
			(rel[e.jobId] ??= []).push(e.delay - idTime(e.id));
	const near = nearDelays;
	ok(near(rel[after['retry-fixed']?.id], [200]),
	    'retry-fixed: Node retries after the fixed 200 ms backoff',
	    rel[after['retry-fixed']?.id]);
	ok(near(rel[after['retry-exp']?.id], [100, 200]),
	    'retry-exp: Node retries after 100 then 200 ms',
	    rel[after['retry-exp']?.id]);
	ok(near(rel['bulk-custom'], [100]),
	    'bulk-4: Node retries after the fixed 100 ms backoff',
	    rel['bulk-custom']);
	same(recC.errors, [], 'QueueEvents emitted no error');
	const dups = (rec) => rec.list.filter((e) => e.ev === 'duplicated')
	    .map((e) => e.jobId);
	same(dups(recC), dups(recN), 'duplicated events as with Node');
	ok(recC.list.some((e) => e.ev === 'waiting' && e.jobId === 'my-id-1'),
	    'QueueEvents heard the command line adds');
	await Promise.all([qec.close(), qen.close(), qc.close(), qn.close()]);
});
