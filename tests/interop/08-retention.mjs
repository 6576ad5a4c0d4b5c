// removeOnComplete / removeOnFail given by Node producers are honoured by
// the C worker as by a Node Worker: the same jobs are kept, in the same sets.
import { Queue, Worker } from 'bullmq';
import {
	connection, ok, same, until, qname, master, stopMaster, showLog, main,
} from './lib.mjs';

// Phase 1 (all complete) and phase 2 (all fail): name, opts.
const OK = [
	['c1', { removeOnComplete: 2 }],
	['c2', { removeOnComplete: 2 }],
	['c3', { removeOnComplete: 2 }],
	['c4', { removeOnComplete: 2 }],
	['k1', { removeOnComplete: true }],
	['k2', {}],
	['a1', { removeOnComplete: { age: 3600 } }],
	['k3', { removeOnComplete: false }],
];
const BAD = [
	['f2', { removeOnFail: 1 }],
	['f1', { removeOnFail: true }],
	['f3', { removeOnFail: true, attempts: 2 }],
	['f4', { removeOnFail: false }],
	['f5', {}],
	['f6', { removeOnFail: { count: 3 } }],
];

// Add jobs to q and wait until processor run finished them all.  The job
// ids are the names: jobs finished in the same millisecond are ordered by
// id, and the names sort in the order the jobs run.
async function phase(q, jobs, run) {
	for (const [name, opts] of jobs)
		await q.add(name, { reason: `no ${name}` },
		    { ...opts, jobId: name });
	const stop = await run();
	const done = await until(async () => {
		const c = await q.getJobCounts('waiting', 'active', 'delayed',
		    'prioritized');
		return Object.values(c).every((n) => n === 0);
	}, 15000);
	await stop();
	return done;
}

// Names of the jobs kept in the completed and failed sets.
async function kept(q) {
	const names = async (s) => (await q.getJobs([s])).map((j) => j.name)
	    .sort();
	return { completed: await names('completed'),
	    failed: await names('failed') };
}

await main('08-retention', async () => {
	const qcName = qname('i8c');
	const qnName = qname('i8n');
	const qc = new Queue(qcName, { connection });
	const qn = new Queue(qnName, { connection });

	const nodeRun = (fn) => async () => {
		const w = new Worker(qnName, fn, { connection });
		return () => w.close();
	};
	const cRun = (spec) => async () => {
		const m = master(qcName, spec, { workers: 1 });
		return async () => {
			const st = await stopMaster(m);
			ok(st.code === 0, `bullmq-master (${spec}) exits 0`, st);
			if (st.code !== 0)
				showLog(m);
		};
	};
	ok(await phase(qn, OK, nodeRun(async (j) => j.data)),
	    'Node Worker processed the first jobs');
	ok(await phase(qc, OK, cRun('builtin:echo')),
	    'C worker processed the first jobs');
	same(await kept(qc), await kept(qn),
	    'removeOnComplete: the C worker keeps the jobs Node keeps');
	ok(await phase(qn, BAD, nodeRun(async (j) => {
		throw new Error(j.data.reason);
	})), 'Node Worker failed the other jobs');
	ok(await phase(qc, BAD, cRun('builtin:fail')),
	    'C worker failed the other jobs');
	const kc = await kept(qc);
	same(kc, await kept(qn),
	    'removeOnFail: the C worker keeps the jobs Node keeps');
	same(kc, { completed: ['a1', 'c3', 'c4', 'k2', 'k3'],
	    failed: ['f4', 'f5', 'f6'] }, 'the jobs kept are the expected ones');
	await qc.close();
	await qn.close();
});
