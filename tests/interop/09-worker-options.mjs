// The worker options of a Node Worker, given to bullmq-master as settings,
// do what they do in Node on the same jobs: removeOnComplete and
// removeOnFail (worker defaults, a job's own wins), metrics (read back with
// Queue.getMetrics), limiter and maxStartedAttempts.
import { Queue, Worker } from 'bullmq';
import {
	connection, ok, same, until, qname, master, stopMaster, showLog, main,
	redis,
} from './lib.mjs';

// Jobs of the retention phase: name, opts; ok/fail in the data.
const JOBS = [
	['a1', {}, 'ok'],
	['a2', { removeOnComplete: false }, 'ok'],
	['a3', {}, 'ok'],
	['a4', {}, 'ok'],
	['a5', { removeOnComplete: true }, 'ok'],
	['a6', {}, 'ok'],
	['b1', {}, 'fail'],
	['b2', { removeOnFail: false }, 'fail'],
	['b3', {}, 'fail'],
];

// Node's names for the options bullmq-master takes as settings (a Node
// Worker takes only the object forms: {count: 0} is a job's true).
const NODE_OPTS = {
	removeOnComplete: { count: 2 },
	removeOnFail: { count: 0 },
	metrics: { maxDataPoints: 10 },
};
const C_OPTS = {
	'remove-on-complete': 'count:2',
	'remove-on-fail': 'true',
	metrics: 10,
};

// Wait until queue q has no job waiting or active.
async function settled(q, timeout = 15000) {
	return until(async () => {
		const c = await q.getJobCounts('waiting', 'active', 'delayed',
		    'prioritized');
		return Object.values(c).every((n) => n === 0);
	}, timeout);
}

// Run the jobs one after the other through a worker started by start().
async function phase(q, jobs, start) {
	for (const [name, opts, what] of jobs)
		await q.add(name, { what }, { ...opts, jobId: name });
	const stop = await start();
	const done = await settled(q);
	await stop();
	return done;
}

// What a worker left behind: the jobs kept, the metrics counts.
async function leftBehind(q) {
	const names = async (s) => (await q.getJobs([s])).map((j) => j.name)
	    .sort();
	const mc = await q.getMetrics('completed');
	const mf = await q.getMetrics('failed');
	return {
		completed: await names('completed'),
		failed: await names('failed'),
		metricsCompleted: mc.meta.count,
		metricsFailed: mf.meta.count,
	};
}

// The processor of both sides: complete or fail as the data says.
async function nodeProcess(job) {
	if (job.data.what === 'fail')
		throw new Error('failed');
	return null;
}

// Start a Node worker with opts on queue name.
const nodeStart = (name, opts) => async () => {
	const w = new Worker(name, nodeProcess, { connection, concurrency: 1,
	    ...opts });
	return () => w.close();
};

// Start bullmq-master with settings on queue name (an exec program that
// fails jobs whose data says so).
const cStart = (name, settings, workers = 1) => async () => {
	const m = master(name, `exec:${process.cwd()}/09-proc.sh`,
	    { workers, ...settings });
	return async () => {
		const st = await stopMaster(m);
		ok(st.code === 0, `bullmq-master on ${name} exits 0`, st);
		if (st.code !== 0)
			showLog(m);
	};
};

await main('09-worker-options', async () => {
	const { writeFileSync, chmodSync } = await import('node:fs');
	writeFileSync('09-proc.sh', '#!/bin/sh\n' +
	    'if grep -q \'"what":"fail"\'; then echo failed >&2; exit 1; fi\n' +
	    'echo null\n');
	chmodSync('09-proc.sh', 0o755);

	// Retention and metrics.
	const nq = new Queue(qname('w9n'), { connection });
	const cq = new Queue(qname('w9c'), { connection });
	ok(await phase(nq, JOBS, nodeStart(nq.name, NODE_OPTS)),
	    'Node Worker finished the jobs');
	ok(await phase(cq, JOBS, cStart(cq.name, C_OPTS)),
	    'bullmq-master finished the jobs');
	const ln = await leftBehind(nq);
	const lc = await leftBehind(cq);
	same(lc, ln, 'retention and metrics: bullmq-master leaves what Node ' +
	    'leaves');
	ok(ln.completed.length < 6 && ln.failed.length < 3,
	    'the worker defaults removed jobs (the test sees a difference)', ln);
	same(lc.metricsCompleted, 6, 'the completed metrics count every job');

	// limiter: 6 jobs, 2 workers, at most 2 started a second.
	const spread = async (q) => {
		const jobs = await q.getJobs(['completed']);
		const t = jobs.map((j) => j.processedOn);
		return { n: jobs.length, ms: Math.max(...t) - Math.min(...t) };
	};
	const six = [1, 2, 3, 4, 5, 6].map((i) => [`l${i}`, {}, 'ok']);
	const ln2 = new Queue(qname('w9ln'), { connection });
	const lc2 = new Queue(qname('w9lc'), { connection });
	ok(await phase(ln2, six, nodeStart(ln2.name,
	    { limiter: { max: 2, duration: 1000 }, concurrency: 2 })),
	    'limiter: Node Worker finished the jobs');
	ok(await phase(lc2, six, cStart(lc2.name, { limiter: '2/1000' }, 2)),
	    'limiter: bullmq-master finished the jobs');
	const sn = await spread(ln2);
	const sc = await spread(lc2);
	ok(sn.n === 6 && sn.ms >= 1800, 'limiter: Node starts 6 jobs over ' +
	    'two windows or more', sn);
	ok(sc.n === 6 && sc.ms >= 1800, 'limiter: bullmq-master starts 6 ' +
	    'jobs over two windows or more, as Node', sc);

	// maxStartedAttempts: a job started once before (its ats is 1).
	const r = redis();
	const started = async (q) => {
		await q.add('s1', { what: 'ok' }, { jobId: 's1' });
		await r.hset(`bull:${q.name}:s1`, 'ats', 1);
	};
	const sn3 = new Queue(qname('w9sn'), { connection });
	const sc3 = new Queue(qname('w9sc'), { connection });
	await started(sn3);
	await started(sc3);
	let stop = await nodeStart(sn3.name, { maxStartedAttempts: 1 })();
	ok(await settled(sn3), 'maxStartedAttempts: Node Worker took the job');
	await stop();
	stop = await cStart(sc3.name, { 'max-started-attempts': 1 })();
	ok(await settled(sc3), 'maxStartedAttempts: bullmq-master took ' +
	    'the job');
	await stop();
	const why = async (q) => {
		const j = await q.getJob('s1');
		return { state: await j.getState(), reason: j.failedReason,
		    attemptsMade: j.attemptsMade, ran: j.returnvalue };
	};
	const wn = await why(sn3);
	same(await why(sc3), wn, 'maxStartedAttempts: the job ends as in Node');
	same(wn.state, 'failed', 'maxStartedAttempts: failed, not run');
	r.disconnect();
	for (const q of [nq, cq, ln2, lc2, sn3, sc3])
		await q.close();
});
