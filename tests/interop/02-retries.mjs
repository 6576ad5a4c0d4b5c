// A failing C processor (builtin:fail) with attempts and backoff: Node must
// see the same retries, delays, events and attemptsMade as with a Node Worker.
import { Queue, Worker, Job } from 'bullmq';
import {
	connection, ok, same, note, until, qname, master, stopMaster, showLog,
	main, sleep, listen, perJob, idTime, nearDelays,
} from './lib.mjs';

// name, data, opts, the backoff delays Node computes for each retry.
const JOBS = [
	['exp', { reason: 'boom exp' },
	    { attempts: 3, backoff: { type: 'exponential', delay: 300 } },
	    [300, 600]],
	['fixed', { reason: 'boom fixed' },
	    { attempts: 2, backoff: { type: 'fixed', delay: 250 } }, [250]],
	['now', { reason: 'boom now' }, { attempts: 2 }, []],
	['once', { reason: 'boom once' }, {}, []],
];

// Add the jobs to a paused queue; returns id -> JOBS entry.
async function fill(q) {
	const byId = {};
	await q.pause();
	for (const j of JOBS) {
		const job = await q.add(j[0], j[1], j[2]);
		byId[job.id] = j;
	}
	return byId;
}

// For each job: the due time of each delayed event minus its failure time.
function delays(rec) {
	const out = {};
	for (const e of rec.list)
		if (e.ev === 'delayed')
			(out[e.jobId] ??= []).push(e.delay - idTime(e.id));
	return out;
}

// For each job: the time from each delayed event to the next active.
function waits(rec) {
	const out = {};
	const last = {};
	for (const e of rec.list) {
		if (e.ev === 'delayed')
			last[e.jobId] = e;
		else if (e.ev === 'active' && last[e.jobId]) {
			(out[e.jobId] ??= []).push(idTime(e.id) -
			    last[e.jobId].delay);
			delete last[e.jobId];
		}
	}
	return out;
}

// Wait until every job of q failed for good.
async function allFailed(q, m) {
	return until(async () => (await q.getFailedCount()) === JOBS.length,
	    20000, m);
}

await main('02-retries', async () => {
	const qcName = qname('i2c');
	const qnName = qname('i2n');
	const qc = new Queue(qcName, { connection });
	const qn = new Queue(qnName, { connection });
	const [qec, recC] = await listen(qcName);
	const [qen, recN] = await listen(qnName);
	const idsC = await fill(qc);
	const idsN = await fill(qn);

	// Node reference.
	const w = new Worker(qnName, async (job) => {
		throw new Error(job.data.reason);
	}, { connection, concurrency: 1 });
	await until(async () => (await qn.getWorkers()).length >= 1);
	await qn.resume();
	ok(await allFailed(qn), 'Node worker: every job failed in the end');
	await w.close();

	// C.
	const m = master(qcName, 'builtin:fail', { workers: 1 });
	await until(async () => (await qc.getWorkers()).length >= 1, 15000, m);
	await qc.resume();
	const done = await allFailed(qc, m);
	ok(done, 'C worker: every job failed in the end',
	    await qc.getJobCounts());
	const st = await stopMaster(m);
	ok(st.code === 0, 'bullmq-master exits 0 on TERM', st);
	if (!done || st.code !== 0)
		showLog(m);
	await sleep(300);
	same(recC.errors, [], 'QueueEvents emitted no error');

	const evC = perJob(recC);
	const evN = perJob(recN);
	const dC = delays(recC);
	const dN = delays(recN);
	const wC = waits(recC);
	for (const id of Object.keys(idsN)) {
		const [name, data, opts, want] = idsN[id];
		same(evC[id], evN[id], `job ${name}: same events as with Node`);
		note(`job ${name}: delays node ${JSON.stringify(dN[id] ?? [])}` +
		    ` C ${JSON.stringify(dC[id] ?? [])}`);
		const near = (got) => nearDelays(got, want);
		ok(want.length === 0 ? dN[id] === undefined : near(dN[id]),
		    `job ${name}: Node's backoff delays are ${want}`, dN[id]);
		ok(want.length === 0 ? dC[id] === undefined : near(dC[id]),
		    `job ${name}: C backoff delays (due - failure) as Node's`,
		    dC[id]);
		ok((wC[id] ?? []).every((d) => d >= -20),
		    `job ${name}: C never runs a retry before it is due`, wC[id]);

		const jc = await Job.fromId(qc, id);
		const jn = await Job.fromId(qn, id);
		if (!ok(jc && jn, `job ${name}: readable with Job.fromId`))
			continue;
		same(jc.attemptsMade, opts.attempts ?? 1,
		    `job ${name}: attemptsMade is ${opts.attempts ?? 1}`);
		same([jc.attemptsMade, jc.attemptsStarted, jc.stalledCounter],
		    [jn.attemptsMade, jn.attemptsStarted, jn.stalledCounter],
		    `job ${name}: attempts counters as with Node`);
		same(jc.failedReason, data.reason,
		    `job ${name}: failedReason is data.reason`);
		ok(Array.isArray(jc.stacktrace) &&
		    jc.stacktrace.length === jn.stacktrace.length,
		    `job ${name}: stacktrace is an array as long as Node's`,
		    { c: jc.stacktrace, node: jn.stacktrace.length });
		ok(typeof jc.finishedOn === 'number' &&
		    jc.finishedOn >= jc.processedOn,
		    `job ${name}: finishedOn set`);
		same(await jc.getState(), 'failed', `job ${name}: state failed`);

		const fl = recC.list.filter((e) => e.ev === 'failed' &&
		    e.jobId === id);
		ok(fl.length === 1 && fl[0].failedReason === data.reason &&
		    fl[0].prev === 'active',
		    `job ${name}: one failed event with failedReason, ` +
		    'prev=active', fl);
		const rx = recC.list.filter((e) => e.ev === 'retries-exhausted' &&
		    e.jobId === id);
		ok(rx.length === 1 &&
		    rx[0].attemptsMade === String(opts.attempts ?? 1),
		    `job ${name}: retries-exhausted with attemptsMade`, rx);
	}
	await Promise.all([qec.close(), qen.close(), qc.close(), qn.close()]);
});
