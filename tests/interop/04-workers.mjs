// Node's Queue.getWorkers() lists the C workers while bullmq-master runs,
// next to a Node Worker, and forgets them when it stops.
import { Queue, Worker } from 'bullmq';
import {
	connection, ok, same, until, qname, master, stopMaster, showLog, main,
	cli,
} from './lib.mjs';

await main('04-workers', async () => {
	const name = qname('i4');
	const q = new Queue(name, { connection });
	const b64 = Buffer.from(name).toString('base64');
	const mine = (w) => w.name === name && (w.rawname === `bull:${b64}` ||
	    w.rawname.startsWith(`bull:${b64}:w:`));

	same(await q.getWorkers(), [], 'no workers before bullmq-master starts');
	const m = master(name, 'builtin:noop', { workers: 2 });
	const two = await until(async () =>
	    (await q.getWorkers()).length === 2, 15000, m);
	const ws = await q.getWorkers();
	ok(two, 'getWorkers() lists the 2 children of bullmq-master -w 2',
	    ws);
	ok(ws.length > 0 && ws.every(mine),
	    'each is named bull:<base64 queue> or bull:<base64 queue>:w:<name>',
	    ws.map((w) => w.rawname));
	same(await q.getWorkersCount(), 2, 'getWorkersCount() is 2');

	const w = new Worker(name, async () => null, { connection });
	await w.waitUntilReady();
	const three = await until(async () =>
	    (await q.getWorkers()).length === 3, 10000, m);
	ok(three, 'a Node Worker next to them: 3 workers');
	const r = cli(['--json', 'workers', name]);
	let n = -1;
	try {
		const out = r.stdout.trim();
		const v = JSON.parse(out.startsWith('[') ? out :
		    `[${out.split('\n').join(',')}]`);
		n = Array.isArray(v) ? v.length : -1;
	} catch {
		/* reported below */
	}
	ok(r.status === 0 && n === 3, 'bullmq workers agrees: 3', r);

	// A job still runs through both kinds.
	await q.add('x', {});
	ok(await until(async () => (await q.getCompletedCount()) === 1, 10000),
	    'a job is processed with both kinds of worker attached');

	const st = await stopMaster(m);
	ok(st.code === 0, 'bullmq-master exits 0 on TERM', st);
	const one = await until(async () =>
	    (await q.getWorkers()).length === 1, 10000);
	ok(one, 'after TERM only the Node Worker is listed',
	    await q.getWorkers());
	if (!two || st.code !== 0)
		showLog(m);
	await w.close();
	await q.close();
});
