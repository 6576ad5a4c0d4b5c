// Stalled jobs across implementations: a C worker killed mid-job (child and
// master, so nothing gives the job back) is recovered by Node's stalled
// checker; a Node worker killed mid-job is recovered by bullmq-master's.
import { spawn } from 'node:child_process';
import { Queue, Worker, Job } from 'bullmq';
import {
	connection, ok, same, until, qname, master, stopMaster, showLog, main,
	childrenOf, alive, sleep, listen, track, SOCKET, note,
} from './lib.mjs';

// Kill pid with SIGKILL and wait until it is gone.
async function kill9(pid) {
	try {
		process.kill(pid, 'SIGKILL');
	} catch {
		/* gone already */
	}
	return until(() => !alive(pid), 5000);
}

// C worker dies holding a job; a Node Worker's stalled checker recovers it.
async function cToNode() {
	const name = qname('i5c');
	const q = new Queue(name, { connection });
	const [qe, rec] = await listen(name);
	const job = await q.add('long', { ms: 60000, who: 'c' });
	const m = master(name, 'builtin:sleep', { workers: 1,
	    'lock-duration': 1000, 'stalled-interval': 500 });
	const active = await until(async () =>
	    (await job.getState()) === 'active', 15000, m);
	ok(active, 'C worker took the job');
	const kids = childrenOf(m.pid);
	ok(kids.length >= 1, 'bullmq-master has a child', kids);
	await kill9(m.pid);
	let dead = true;
	for (const k of kids)
		dead = (await kill9(k)) && dead;
	ok(dead && !alive(m.pid), 'master and child killed with SIGKILL');
	await m.done;
	same(await job.getState(), 'active',
	    'the job is left in active, nobody gave it back');

	const stalled = [];
	const w = new Worker(name, async (j) => `recovered by node ${j.id}`,
	    { connection, stalledInterval: 500, lockDuration: 1000 });
	w.on('stalled', (id) => stalled.push(id));
	const done = await until(async () =>
	    (await job.getState()) === 'completed', 15000);
	ok(done, 'Node recovers the job of the dead C worker and completes it');
	await w.close();
	same(stalled, [job.id], 'the Node Worker reported it stalled');
	ok(rec.list.some((e) => e.ev === 'stalled' && e.jobId === job.id),
	    'QueueEvents heard stalled');
	const j = await Job.fromId(q, job.id);
	same(j?.returnvalue, `recovered by node ${job.id}`,
	    'completed by the Node Worker');
	same([j?.stalledCounter, j?.attemptsMade, j?.attemptsStarted],
	    [1, 1, 2], 'stalledCounter 1, attemptsMade 1, attemptsStarted 2');
	same(rec.errors, [], 'QueueEvents emitted no error');
	if (!active || !done)
		showLog(m);
	await qe.close();
	await q.close();
}

// Node worker dies holding a job; bullmq-master's stalled checker recovers.
async function nodeToC() {
	const name = qname('i5n');
	const q = new Queue(name, { connection });
	const [qe, rec] = await listen(name);
	const data = { who: 'node', n: 42 };
	const job = await q.add('held', data);

	const p = spawn(process.execPath, ['node-worker.mjs', name, SOCKET],
	    { stdio: ['ignore', 'pipe', 'pipe'] });
	track(p);
	let out = '';
	p.stdout.on('data', (d) => { out += d; });
	p.stderr.on('data', (d) => { out += d; });
	const held = await until(() => out.includes(`active ${job.id}`),
	    15000);
	ok(held, 'a Node worker process took the job', out);
	await kill9(p.pid);
	ok(!alive(p.pid), 'the Node worker process killed with SIGKILL');
	same(await job.getState(), 'active', 'the job is left in active');

	const m = master(name, 'builtin:echo', { workers: 1,
	    'lock-duration': 1000, 'stalled-interval': 500 });
	const done = await until(async () =>
	    (await job.getState()) === 'completed', 15000, m);
	ok(done, 'bullmq-master recovers the job of the dead Node worker; ' +
	    'a C child completes it');
	ok(await until(() => rec.list.some((e) => e.ev === 'stalled' &&
	    e.jobId === job.id), 3000), 'QueueEvents heard stalled');
	const w = rec.list.filter((e) => e.ev === 'waiting' &&
	    e.jobId === job.id).map((e) => e.prev ?? null);
	same(w, [null, 'active'], 'waiting events: the add, then prev=active');
	const j = await Job.fromId(q, job.id);
	same(j?.returnvalue, data, 'returnvalue is the data (builtin:echo)');
	same([j?.stalledCounter, j?.attemptsMade, j?.attemptsStarted],
	    [1, 1, 2], 'stalledCounter 1, attemptsMade 1, attemptsStarted 2');
	same(rec.errors, [], 'QueueEvents emitted no error');
	const st = await stopMaster(m);
	ok(st.code === 0, 'bullmq-master exits 0 on TERM', st);
	if (!done || st.code !== 0)
		showLog(m);
	note(`node worker output: ${out.trim()}`);
	await qe.close();
	await q.close();
}

await main('05-stalled', async () => {
	await cToNode();
	await nodeToC();
	await sleep(10);
});
