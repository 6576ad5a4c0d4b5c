// bullmq jobs, logs, promote, retry-job and counts against Node: the pages
// of jobs and log lines must be those Node's getters give, and a job
// promoted or retried by the command line must look to Node (its state,
// its hash, the events QueueEvents hears, the lists it is in) as one
// promoted or retried by Node's Job.promote() and Job.retry() on a twin
// queue.
import { Queue, Worker, Job, FlowProducer } from 'bullmq';
import {
	connection, ok, same, until, qname, main, cli, redis, listen, perJob,
} from './lib.mjs';

// The objects of a --json output of one object a line.
function lines(r) {
	try {
		return r.stdout.trim() === '' ? [] :
		    r.stdout.trim().split('\n').map((l) => JSON.parse(l));
	} catch {
		return null;
	}
}

// Fill queue name with finished jobs (a worker runs them), then waiting,
// delayed, prioritized and waiting-children ones.
async function fill(q, name) {
	const w = new Worker(name, async (job) => {
		await job.log(`start ${job.name}`);
		for (let i = 0; i < 4; i++)
			await job.log(`line ${i}`);
		if (job.data.fail)
			throw new Error(`boom ${job.name}`);
		return { done: job.name };
	}, { connection });
	for (let i = 0; i < 4; i++) {
		await q.add(`c${i}`, { i });
		await q.add(`f${i}`, { i, fail: true }, { attempts: 2 });
	}
	await until(async () => (await q.getCompletedCount()) === 4 &&
	    (await q.getFailedCount()) === 4, 20000);
	await w.close();
	for (let i = 0; i < 5; i++)
		await q.add(`w${i}`, { i }, i === 2 ? { lifo: true } : {});
	for (const d of [50000, 20000, 90000, 70000])
		await q.add(`d${d}`, {}, { delay: d });
	for (const p of [5, 1, 3, 1])
		await q.add(`p${p}`, {}, { priority: p });
	const fp = new FlowProducer({ connection });
	for (let i = 0; i < 3; i++)
		await fp.add({ name: `parent${i}`, queueName: name,
		    children: [{ name: `child${i}`,
		    queueName: `${name}-kids` }] });
	await fp.close();
}

// Node's getter of each state, as bullmq jobs lists it by default.
const GETTERS = {
	wait: (q) => q.getWaiting(),
	delayed: (q) => q.getDelayed(),
	prioritized: (q) => q.getPrioritized(),
	completed: (q) => q.getCompleted(),
	failed: (q) => q.getFailed(),
	'waiting-children': (q) => q.getWaitingChildren(),
};

// jobs and logs: the same ids, order, fields and lines as Node's.
async function listing() {
	const name = qname('i15');
	const q = new Queue(name, { connection });
	const rc = redis();
	await fill(q, name);

	for (const [state, get] of Object.entries(GETTERS)) {
		const node = (await get(q)).map((j) => j.id);
		const r = cli(['--json', 'jobs', name, state, '--count', '0']);
		const got = lines(r);
		ok(r.status === 0 && got, `jobs ${state} exits 0 with JSON`, r);
		same(got && got.map((j) => j.id), node,
		    `jobs ${state}: the ids of Node's getter, in its order`);
		ok(node.length > 0, `there are ${state} jobs to list`);
		for (const [start, end, asc] of [[1, 2, true], [1, 2, false],
		    [0, 0, false], [2, 10, true]]) {
			const n = (await q.getJobs([state], start, end, asc))
			    .map((j) => j.id);
			const rr = cli(['--json', 'jobs', name, state,
			    '--start', String(start), '--count',
			    String(end - start + 1), asc ? '--asc' : '--desc']);
			same(lines(rr)?.map((j) => j.id), n, `jobs ${state} ` +
			    `--start ${start} --count ${end - start + 1} ` +
			    `--${asc ? 'asc' : 'desc'} = getJobs(${start}, ` +
			    `${end}, ${asc})`);
		}
		// Every field of the hash, JSON ones as Node reads them.
		let fields = true;
		for (const j of got ?? []) {
			const h = await rc.hgetall(`bull:${name}:${j.id}`);
			const nj = await Job.fromId(q, j.id);
			const { id, state: st, ...rest } = j;
			const want = state === 'wait' ? 'waiting' : state;
			fields &&= st === want &&
			    JSON.stringify(Object.keys(rest).sort()) ===
			    JSON.stringify(Object.keys(h).sort()) &&
			    rest.name === nj.name &&
			    JSON.stringify(rest.data) ===
			    JSON.stringify(nj.data) &&
			    rest.timestamp === nj.timestamp &&
			    (rest.atm ?? 0) === nj.attemptsMade;
			if (!fields)
				ok(false, `jobs ${state}: job ${id} as Node ` +
				    'reads it', { cli: j, hash: h });
		}
		ok(fields, `jobs ${state} --json: each job's hash fields, as ` +
		    'Node reads them');
	}

	const f = (await q.getFailed())[0];
	for (const [start, end, asc] of [[0, -1, true], [0, -1, false],
	    [1, 3, true], [1, 2, false], [7, 9, true], [0, 0, false]]) {
		const node = await q.getJobLogs(f.id, start, end, asc);
		const args = ['--json', 'logs', name, f.id, '--start',
		    String(start)];
		if (end >= 0)
			args.push('--count', String(end - start + 1));
		if (!asc)
			args.push('--desc');
		const r = cli(args);
		let got = null;
		try {
			got = JSON.parse(r.stdout);
		} catch {
			/* below */
		}
		same(got, node, `logs ${args.slice(4).join(' ')} = ` +
		    `getJobLogs(${start}, ${end}, ${asc})`);
	}
	ok(f.attemptsMade === 2, 'the failed job ran twice: 10 log lines');

	await q.close();
	rc.disconnect();
}

// jobs active: the jobs a Node worker holds, in the order Node lists them.
async function active() {
	const name = qname('i15act');
	const q = new Queue(name, { connection });
	let open;
	const gate = new Promise((r) => { open = r; });
	for (let i = 0; i < 4; i++)
		await q.add(`a${i}`, { i });
	const w = new Worker(name, async () => gate, { connection,
	    concurrency: 3 });
	await until(async () => (await q.getActiveCount()) === 3, 10000);
	const node = (await q.getActive()).map((j) => j.id);
	const r = cli(['--json', 'jobs', name, 'active']);
	same(lines(r)?.map((j) => j.id), node,
	    'jobs active: the ids of getActive(), in its order');
	ok(node.length === 3, 'three jobs are active', node);
	const n = (await q.getJobs(['active'], 0, 1, false)).map((j) => j.id);
	same(lines(cli(['--json', 'jobs', name, 'active', '--count', '2',
	    '--desc']))?.map((j) => j.id), n,
	    'jobs active --count 2 --desc = getJobs(0, 1, false)');
	open();
	await w.close();
	await q.close();
}

// A job's hash without what differs between twin queues by time.
async function hashOf(rc, name, id) {
	const h = await rc.hgetall(`bull:${name}:${id}`);
	for (const k of ['timestamp', 'processedOn', 'finishedOn'])
		if (k in h)
			h[k] = 'T';
	return h;
}

// Twin queues: promote and retry by the command line on one, by Node on
// the other.
async function moves() {
	const names = [qname('i15cli'), qname('i15node')];
	const rc = redis();
	const qs = [];
	const recs = [];
	for (const name of names) {
		const q = new Queue(name, { connection });
		await q.pause();
		qs.push(q);
		await q.add('d', {}, { delay: 600000 });		// 1
		await q.add('dp', {}, { delay: 600000,
		    priority: 4 });					// 2
		await q.add('f', { fail: true }, { attempts: 2 });	// 3
		await q.add('fl', { fail: true }, { lifo: true });	// 4
		await q.add('fp', { fail: true }, { priority: 2 });	// 5
		await q.add('c', {});				// 6
		await q.add('w', {});				// 7
		await q.resume();
		const w = new Worker(name, async (job) => {
			if (job.data.fail)
				throw new Error('boom');
			return 'ok';
		}, { connection });
		await until(async () => (await q.getFailedCount()) === 3 &&
		    (await q.getCompletedCount()) === 2, 20000);
		await w.close();
		// 7 is done too: add one that stays waiting
		await q.pause();
		await q.add('stay', {});				// 8
		const [qe, rec] = await listen(name);
		recs.push([qe, rec]);
	}
	// what the queues' streams hold already is not what the steps wrote
	const marks = [];
	for (const name of names) {
		const last = await rc.xrevrange(`bull:${name}:events`, '+', '-',
		    'COUNT', 1);
		marks.push(last.length ? last[0][0] : '0-0');
	}
	const after = (id, mark) => {
		const [a, b] = id.split('-').map(Number);
		const [c, d] = mark.split('-').map(Number);
		return a > c || (a === c && b > d);
	};
	const fresh = (i) => recs[i][1].list.filter((e) => after(e.id,
	    marks[i]));

	const [cq, nq] = qs;
	const steps = [
		['promote', '1'], ['promote', '2'], ['retry-job', '3'],
		['retry-job', '4'], ['retry-job', '5'], ['retry-job', '6'],
	];
	for (const [cmd, id] of steps) {
		const r = cli([cmd, names[0], id]);
		ok(r.status === 0, `bullmq ${cmd} ${id} exits 0`, r);
		const job = await Job.fromId(nq, id);
		if (cmd === 'promote')
			await job.promote();
		else
			await job.retry(id === '6' ? 'completed' : 'failed');
	}
	// refusals: both sides refuse, and nothing changes
	for (const [cmd, id] of [['promote', '8'], ['retry-job', '8'],
	    ['promote', '3'], ['retry-job', '1']]) {
		const r = cli([cmd, names[0], id]);
		ok(r.status === 1 && /not (delayed|failed)/.test(r.stderr),
		    `bullmq ${cmd} ${id} (not in its state) exits 1 saying so`,
		    r);
		const job = await Job.fromId(nq, id);
		let threw = false;
		try {
			if (cmd === 'promote')
				await job.promote();
			else
				await job.retry('failed');
		} catch {
			threw = true;
		}
		ok(threw, `Node refuses ${cmd} of job ${id} too`);
	}

	for (const id of ['1', '2', '3', '4', '5', '6', '8']) {
		same(await cq.getJobState(id), await nq.getJobState(id),
		    `job ${id}: the same state after the command line as ` +
		    'after Node');
		same(await hashOf(rc, names[0], id),
		    await hashOf(rc, names[1], id),
		    `job ${id}: the same hash (attempts, reasons, delay)`);
		const [cj, nj] = [await Job.fromId(cq, id),
		    await Job.fromId(nq, id)];
		same([cj.attemptsMade, cj.attemptsStarted, cj.failedReason,
		    cj.finishedOn, cj.processedOn],
		    [nj.attemptsMade, nj.attemptsStarted, nj.failedReason,
		    nj.finishedOn, nj.processedOn],
		    `job ${id}: Node reads the same attempts and times`);
	}
	same(await rc.lrange(`bull:${names[0]}:wait`, 0, -1),
	    await rc.lrange(`bull:${names[1]}:wait`, 0, -1),
	    'the same wait list, in the same order (lifo at the far end)');
	same(await rc.zrange(`bull:${names[0]}:prioritized`, 0, -1,
	    'WITHSCORES'), await rc.zrange(`bull:${names[1]}:prioritized`, 0,
	    -1, 'WITHSCORES'), 'the same prioritized set and scores');
	same(await rc.zrange(`bull:${names[0]}:marker`, 0, -1),
	    await rc.zrange(`bull:${names[1]}:marker`, 0, -1),
	    'the same marker (the queue is paused: none)');

	await until(async () => [0, 1].every((i) => fresh(i).length >=
	    steps.length), 5000);
	const heard = [0, 1].map((i) => perJob({ list: fresh(i) }));
	same(heard[0], heard[1], 'QueueEvents hears the same events for ' +
	    'each job');
	same(heard[0]['1'], ['waiting:delayed(prev)'],
	    'a promoted job: waiting from delayed');
	same(heard[0]['3'], ['waiting:failed(prev)'],
	    'a retried job: waiting from failed');

	// On a running queue the marker is written as Node writes it.
	await cq.resume();
	await nq.resume();
	for (const [i, q] of qs.entries()) {
		await q.add('later', {}, { delay: 600000 });	// 9
		await rc.del(`bull:${names[i]}:marker`);
	}
	ok(cli(['promote', names[0], '9']).status === 0, 'promote 9');
	await (await Job.fromId(nq, '9')).promote();
	same(await rc.zscore(`bull:${names[0]}:marker`, '0'),
	    await rc.zscore(`bull:${names[1]}:marker`, '0'),
	    'a promote on a running queue marks it as Node');
	ok(await rc.zscore(`bull:${names[0]}:marker`, '0') === '0',
	    'that is, with a "0" member');

	for (const [qe] of recs)
		await qe.close();
	for (const q of qs)
		await q.close();
	rc.disconnect();
}

// counts: a queue nobody used does not exist; one Node made does.
async function counts() {
	const name = qname('i15none');
	const r = cli(['counts', name]);
	ok(r.status === 1 && /does not exist/.test(r.stderr),
	    'counts of a queue nobody used exits 1 saying so', r);
	const q = new Queue(name, { connection });
	await q.waitUntilReady();
	await until(async () => cli(['counts', name]).status === 0, 5000);
	const r2 = cli(['--json', 'counts', name]);
	ok(r2.status === 0, 'counts of a queue Node made, still empty, ' +
	    'exits 0', r2);
	await q.close();
}

await main('15-cli-ops', async () => {
	await listing();
	await active();
	await moves();
	await counts();
});
