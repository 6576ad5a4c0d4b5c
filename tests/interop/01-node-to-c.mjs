// Node Queue.add -> C worker (builtin:echo) -> Node sees the results.
// The same jobs go to a second queue served by a Node Worker: the order of
// processing, the job hashes and the events must match.
import { Queue, Worker, Job } from 'bullmq';
import {
	connection, ok, same, note, until, qname, master, stopMaster, showLog,
	main, sleep, redis, listen, perJob,
} from './lib.mjs';

const unicode = {
	greek: 'Καλημέρα κόσμε',
	nested: { cjk: ['日本語', '中文', '한국어'], emoji: '😀🚀 e\u0301',
	    deeper: { rtl: 'שלום עולם', nul: 'a\u0000b',
	    esc: '"\\/\b\f\n\r\t' } },
	numbers: [0, -1, 1.5e300, 123456789012],
	flags: [true, false, null],
};
const big = {
	blob: 'x'.repeat(256 * 1024),
	list: Array.from({ length: 2000 }, (_, i) => ({ i, s: `item ${i}` })),
};

// Jobs in the order they are added: name, data, opts.
const JOBS = [
	['std-1', { n: 1 }, {}],
	['prio-5', { n: 3 }, { priority: 5 }],
	['std-2', { n: 4 }, {}],
	['custom', { n: 5 }, { jobId: 'custom-1' }],
	['prio-1', { n: 6 }, { priority: 1 }],
	['lifo', { n: 7 }, { lifo: true }],
	['string', 'a plain string payload', {}],
	['big', big, {}],
	['unicode', unicode, {}],
	['std-3', { n: 8 }, {}],
];

// The delayed job, added just before the queue is resumed, so that it is
// due only after the others ran.
const DELAYED = ['delayed', { n: 2 }, { delay: 1000 }];

// Add JOBS to a paused queue; returns id -> [name, data, opts].
async function fill(q) {
	const byId = {};
	await q.pause();
	for (const [name, data, opts] of JOBS) {
		const j = await q.add(name, data, opts);
		byId[j.id] = [name, data, opts];
	}
	return byId;
}

// Add the delayed job and resume the queue.
async function go(q, byId) {
	const j = await q.add(...DELAYED);
	byId[j.id] = DELAYED;
	await q.resume();
}

// Names in order of their "active" events.
function activeOrder(rec, byId) {
	return rec.list.filter((e) => e.ev === 'active').map((e) =>
	    byId[e.jobId] ? byId[e.jobId][0] : `?${e.jobId}`);
}

await main('01-node-to-c', async () => {
	const qcName = qname('i1c');
	const qnName = qname('i1n');
	const qc = new Queue(qcName, { connection });
	const qn = new Queue(qnName, { connection });
	const [qec, recC] = await listen(qcName);
	const [qen, recN] = await listen(qnName);
	const idsC = await fill(qc);
	const idsN = await fill(qn);
	same(Object.keys(idsC), Object.keys(idsN), 'both queues got the same ids');
	const total = JOBS.length + 1;

	// The Node reference run.
	const w = new Worker(qnName, async (job) => job.data,
	    { connection, concurrency: 1 });
	await until(async () => (await qn.getWorkers()).length >= 1);
	await go(qn, idsN);
	await until(async () => (await qn.getCompletedCount()) === total, 20000);
	await w.close();

	// The C run.
	const m = master(qcName, 'builtin:echo', { workers: 1 });
	const seen = await until(async () =>
	    (await qc.getWorkers()).length >= 1, 15000, m);
	ok(seen, 'bullmq-master child registered as a worker');
	await go(qc, idsC);
	const done = await until(async () =>
	    (await qc.getCompletedCount()) === total, 20000, m);
	ok(done, `C worker completed all ${total} jobs`,
	    await qc.getJobCounts());

	// QueueEvents must go on after all of that: one more job.
	const fin = await qc.add('final', { last: true });
	const finDone = await until(() => recC.list.some((e) =>
	    e.ev === 'completed' && e.jobId === fin.id), 10000, m);
	ok(finDone, 'QueueEvents still hears completed events at the end');
	same(recC.errors, [], 'QueueEvents on the C queue emitted no error');
	same(recN.errors, [], 'QueueEvents on the Node queue emitted no error');

	const st = await stopMaster(m);
	ok(st.code === 0, 'bullmq-master exits 0 on TERM', st);
	if (!done || !seen || st.code !== 0)
		showLog(m);
	await sleep(200);

	// Order of processing.
	const orderN = activeOrder(recN, idsN);
	const orderC = activeOrder(recC, idsC).filter((n) => n !== '?' + fin.id);
	note(`node order: ${orderN.join(' ')}`);
	same(orderC, orderN, 'C worker processes in the order Node does');

	// Job by job, as Node reads it back.
	for (const id of Object.keys(idsC)) {
		const [name, data] = idsC[id];
		const jc = await Job.fromId(qc, id);
		const jn = await Job.fromId(qn, id);
		if (!ok(jc && jn, `job ${name}: readable with Job.fromId`))
			continue;
		const st1 = await jc.getState();
		ok(st1 === 'completed', `job ${name}: completed`, st1);
		same(jc.returnvalue, data,
		    `job ${name}: returnvalue is its data, unchanged`);
		same(jc.data, data, `job ${name}: data unchanged`);
		ok(typeof jc.finishedOn === 'number' &&
		    jc.finishedOn >= jc.processedOn &&
		    jc.processedOn >= jc.timestamp,
		    `job ${name}: timestamp <= processedOn <= finishedOn`,
		    { timestamp: jc.timestamp, processedOn: jc.processedOn,
		    finishedOn: jc.finishedOn });
		same([jc.attemptsMade, jc.attemptsStarted, jc.stalledCounter],
		    [jn.attemptsMade, jn.attemptsStarted, jn.stalledCounter],
		    `job ${name}: attemptsMade/attemptsStarted/stalledCounter ` +
		    'as with Node');
		if (jc.opts.delay)
			ok(jc.processedOn >= jc.timestamp + jc.opts.delay,
			    `job ${name}: not processed before its delay`);
		same(jc.failedReason, undefined, `job ${name}: no failedReason`);
	}

	// The job hashes have the same fields as Node's.
	const r = redis();
	const fieldsC = Object.keys(await r.hgetall(`bull:${qcName}:1`)).sort();
	const fieldsN = Object.keys(await r.hgetall(`bull:${qnName}:1`)).sort();
	same(fieldsC, fieldsN, 'completed job hash has the fields Node writes');
	r.disconnect();

	// The events, job by job.
	const evC = perJob(recC);
	const evN = perJob(recN);
	for (const id of Object.keys(idsN))
		same(evC[id], evN[id],
		    `job ${idsN[id][0]}: same events and fields as with Node`);
	const comp = recC.list.filter((e) => e.ev === 'completed');
	let good = comp.length === total + 1;
	for (const e of comp) {
		const want = e.jobId === fin.id ? { last: true } :
		    idsC[e.jobId]?.[1];
		if (!e.jobId || e.prev !== 'active' ||
		    !(JSON.stringify(e.returnvalue) === JSON.stringify(want)))
			good = false;
	}
	ok(good, 'QueueEvents completed: jobId, returnvalue (parsed), ' +
	    'prev=active for every job', comp.map((e) =>
	    ({ jobId: e.jobId, prev: e.prev })));
	const act = recC.list.filter((e) => e.ev === 'active');
	ok(act.length === total + 1 && act.every((e) => e.prev === 'waiting'),
	    'QueueEvents active: every job, prev=waiting', act.length);

	await Promise.all([qec.close(), qen.close(), qc.close(), qn.close()]);
});
