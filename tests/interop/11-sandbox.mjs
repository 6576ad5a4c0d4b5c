// One BullMQ sandboxed processor file, run by Node's own sandboxed Worker
// and by bullmq-master through the pipe: processor's Node adapter, on the
// same jobs: the job hashes, logs and the events Node's QueueEvents hears
// must agree.  The file uses the whole vocabulary: return values,
// progress, logs, updateData, errors, UnrecoverableError, moveToDelayed +
// DelayedError, moveToWait + WaitingError, queue.rateLimit +
// RateLimitError, and moveToWaitingChildren + WaitingChildrenError with
// getChildrenValues and getDependenciesCount in a flow.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue, Worker, FlowProducer } from 'bullmq';
import {
	connection, ok, same, until, qname, master, stopMaster, showLog, main,
	listen, perJob, redis, SOCKET,
} from './lib.mjs';

const ADAPTER = join(process.env.INTEROP_TOP_SRCDIR,
    'contrib/processors/node/bullmq-pipe.cjs');

const PROCESSOR = `
const { Queue, UnrecoverableError, DelayedError, WaitingError,
    WaitingChildrenError, RateLimitError } = require('bullmq');
module.exports = async function (job, token, signal) {
	switch (job.name) {
	case 'ret':
		await job.updateProgress({ p: 1 });
		await job.log('first line');
		await job.log('second line');
		await job.updateData({ ...job.data, seen: true });
		return { n: job.data.n * 2, token: typeof token,
		    signal: typeof signal };
	case 'fail':
		throw new Error('bad thing ' + job.attemptsMade);
	case 'unrec':
		throw new UnrecoverableError('give up');
	case 'delay':
		await job.moveToDelayed(Date.now() + 3600000, token);
		throw new DelayedError();
	case 'wait':
		if (job.attemptsStarted < 2) {
			await job.moveToWait(token);
			throw new WaitingError();
		}
		return 'second time';
	case 'limit':
		if (job.attemptsStarted < 2) {
			const q = new Queue(job.queueName, { connection:
			    { path: process.env.INTEROP_REDIS_SOCKET } });
			await q.rateLimit(300);
			await q.close();
			throw new RateLimitError();
		}
		return 'after the limit';
	case 'parent': {
		const moved = await job.moveToWaitingChildren(token);
		if (moved)
			throw new WaitingChildrenError();
		const vals = await job.getChildrenValues();
		const deps = await job.getDependenciesCount();
		return { vals: Object.values(vals), deps };
	}
	default:
		return null;
	}
};
`;

const JOBS = [
	['ret', { n: 21 }, {}],
	['fail', {}, { attempts: 2 }],
	['unrec', {}, { attempts: 3 }],
	['delay', {}, { attempts: 2 }],
	['wait', {}, {}],
	['limit', {}, {}],
];

// What a job hash says, without times and tokens.
function norm(h) {
	const o = { ...h };
	for (const k of ['timestamp', 'processedOn', 'finishedOn', 'pb'])
		delete o[k];
	if (o.delay !== undefined)
		o.delay = Number(o.delay) > 3000000 ? 'about 1 h' : o.delay;
	if (o.stacktrace)
		o.stacktrace = JSON.parse(o.stacktrace).map((s) =>
		    s.split('\n')[0]);
	return o;
}

await main('11-sandbox', async () => {
	const file = join(process.cwd(), 'sandbox-processor.cjs');
	writeFileSync(file, PROCESSOR);
	const r = redis();
	const result = {};
	for (const side of ['node', 'c']) {
		const name = qname(`i11${side}`);
		const kids = qname(`i11k${side}`);
		const q = new Queue(name, { connection });
		const [qe, rec] = await listen(name);
		const ids = {};
		for (const [jn, data, opts] of JOBS)
			ids[jn] = (await q.add(jn, data, opts)).id;
		const flow = new FlowProducer({ connection });
		const tree = await flow.add({ name: 'parent', queueName: name,
		    data: {}, children: [{ name: 'kid', queueName: kids,
		    data: { v: 7 } }] });
		await flow.close();
		ids.parent = tree.job.id;

		let w = null, m = null;
		if (side === 'node')
			w = new Worker(name, file, { connection,
			    useWorkerThreads: false });
		else
			m = master(name, `pipe:${process.execPath} ${ADAPTER} ` +
			    file, { workers: 1, 'drain-delay': 300 });
		// the parent waits for its child, done by a plain Node worker
		const settled = async () => {
			const c = await q.getJobCounts('completed', 'failed',
			    'delayed', 'waiting-children');
			return c.completed === 3 && c.failed === 2 &&
			    c.delayed === 1 && c['waiting-children'] === 1;
		};
		ok(await until(settled, 30000, `${side}: the parent waits`),
		    `${side}: every job settled, the parent waiting`,
		    m ? m.log : await q.getJobCounts());
		const kw = new Worker(kids, async (j) => ({ kid: j.data.v }),
		    { connection });
		ok(await until(async () => (await q.getJobState(ids.parent)) ===
		    'completed', 30000, `${side}: parent done`),
		    `${side}: the parent completes after its child`,
		    m ? m.log : await q.getJobCounts());
		await kw.close();
		if (w)
			await w.close();
		if (m && !(await stopMaster(m)))
			showLog(m);
		await new Promise((res) => setTimeout(res, 300));
		await qe.close();
		const jobs = {};
		for (const [jn, id] of Object.entries(ids)) {
			const h = await r.hgetall(`bull:${name}:${id}`);
			if (h.parentKey)
				h.parentKey = 'the parent';
			jobs[jn] = { hash: norm(h), state: await q.getJobState(id),
			    logs: (await q.getJobLogs(id)).logs };
		}
		const ev = perJob(rec);
		result[side] = { jobs, events: Object.fromEntries(
		    Object.entries(ids).map(([jn, id]) => [jn, ev[id]])) };
		ok(rec.errors.length === 0, `${side}: QueueEvents saw no error`,
		    rec.errors);
		await q.obliterate({ force: true });
		await q.close();
		const kq = new Queue(kids, { connection });
		await kq.obliterate({ force: true });
		await kq.close();
	}
	for (const [jn] of [...JOBS, ['parent']]) {
		same(result.c.jobs[jn], result.node.jobs[jn],
		    `job "${jn}": the same hash, state and logs as under Node's ` +
		    'sandbox');
		ok(Array.isArray(result.node.events[jn]) &&
		    result.node.events[jn].length >= 2, `job "${jn}": Node's ` +
		    'QueueEvents heard it', result.node.events[jn]);
		same(result.c.events[jn], result.node.events[jn],
		    `job "${jn}": the same events as under Node's sandbox`);
	}
	same([result.c.jobs.limit.state, result.c.jobs.wait.hash.returnvalue,
	    result.c.jobs.delay.state, result.c.jobs.unrec.hash.atm,
	    result.c.jobs.fail.hash.atm, result.c.jobs.parent.hash.returnvalue],
	    ['completed', '"second time"', 'delayed', '1', '2',
	    '{"vals":[{"kid":7}],"deps":{"processed":1,"unprocessed":0,' +
	    '"ignored":0,"failed":0}}'],
	    'the moves did what they say (C side)');
	same(result.c.jobs.ret.hash.returnvalue,
	    '{"n":42,"token":"string","signal":"object"}',
	    'the processor got a token and a signal');
});
