// Job schedulers made by `bullmq scheduler` against the same ones made by
// Node's Queue.upsertJobScheduler on another queue: the Q:repeat zset, the
// scheduler hashes, the first iteration jobs (their times normalised), the
// id counter and the events agree; getJobSchedulers reads ours as it
// reads Node's; a Node Worker runs the iterations of ours as of Node's;
// and each side updates and removes the other's.
import { Queue, Worker } from 'bullmq';
import {
	connection, ok, same, until, qname, main, cli, redis, sleep,
} from './lib.mjs';

const HOUR = 3600000;

// [id, Node's repeat options, Node's template, our upsert options]
function cases() {
	const end = Date.now() + 5 * HOUR;
	return [
		['ev', { every: 2000 },
		    { name: 'tick', data: { a: 1, s: 'x' },
		    opts: { attempts: 3, keepLogs: 5, removeOnComplete: 10,
		    backoff: { type: 'fixed', delay: 100 } } },
		    ['--every', '2000', '--name', 'tick', '--data',
		    '{"a":1,"s":"x"}', '--opts', '{"attempts":3,"keepLogs":5,' +
		    '"removeOnComplete":10,"backoff":{"type":"fixed",' +
		    '"delay":100}}']],
		['off', { every: HOUR, offset: 1234, endDate: end },
		    undefined,
		    ['--every', String(HOUR), '--offset', '1234', '--end-date',
		    String(end)]],
		['pat', { pattern: '0 0 1 1 *', tz: 'Europe/Berlin', limit: 7 },
		    { name: 'cr', data: { n: [1, 2] },
		    opts: { priority: 5 } },
		    ['--pattern', '0 0 1 1 *', '--tz', 'Europe/Berlin',
		    '--limit', '7', '--name', 'cr', '--data', '{"n":[1,2]}',
		    '--opts', '{"priority":5}']],
		['hs', { pattern: '0 H * * *', hashSeed: 'seed-1' },
		    { name: 'h' },
		    ['--pattern', '0 H * * *', '--hash-seed', 'seed-1',
		    '--name', 'h']],
		['ps', { pattern: '0 */10 * * * *', startDate: end - HOUR },
		    { data: { b: true } },
		    ['--pattern', '0 */10 * * * *', '--start-date',
		    String(end - HOUR), '--data', '{"b":true}']],
	];
}

// What Redis holds for scheduler id of queue q.
async function snapshot(r, q, id) {
	const next = await r.zscore(`bull:${q}:repeat`, id);
	const hash = await r.hgetall(`bull:${q}:repeat:${id}`);
	const job = await r.hgetall(`bull:${q}:repeat:${id}:${next}`);
	if (job.opts)
		job.opts = JSON.parse(job.opts);
	if (job.data)
		job.data = JSON.parse(job.data);
	if (hash.opts)
		hash.opts = JSON.parse(hash.opts);
	return { next: Number(next), hash, job };
}

// The snapshot with its times taken out, after checking how they relate:
// what depends on the moment of the call is not expected to agree.
function normal(s, every, fresh = true) {
	const n = structuredClone(s);
	const t = Number(n.job.timestamp);
	ok(n.job.opts && n.job.opts.jobId === `repeat:${n.job.rjk}:${n.next}`,
	    `${n.job.rjk}: job id is repeat:<id>:<next>`, n.job.opts);
	ok(Number(n.job.delay) === Math.max(0, n.next - t) &&
	    n.job.opts.delay === Number(n.job.delay),
	    `${n.job.rjk}: delay is next - timestamp`, n.job);
	if (every && n.hash.offset !== undefined && !n.job.opts.repeat.offset) {
		/* an update keeps the offset of the first */
		if (fresh)
			ok(Number(n.hash.offset) === n.next % every,
			    `${n.job.rjk}: the stored offset is next % every`,
			    n);
		delete n.hash.offset;
	}
	if (n.job.opts.prevMillis !== undefined) {
		ok(n.job.opts.prevMillis === n.next,
		    `${n.job.rjk}: prevMillis is next`, n.job.opts);
		delete n.job.opts.prevMillis;
	}
	if (every && !n.job.opts.repeat.offset && !n.hash.startDate)
		delete n.next;
	delete n.job.timestamp;
	delete n.job.delay;
	delete n.job.opts.timestamp;
	delete n.job.opts.delay;
	delete n.job.opts.jobId;
	return n;
}

// The events of queue q, their fields without times.
async function events(r, q) {
	const out = [];
	for (const [, f] of await r.xrange(`bull:${q}:events`, '-', '+')) {
		const e = {};
		for (let i = 0; i < f.length; i += 2)
			e[f[i]] = f[i + 1];
		if (e.jobId)
			e.jobId = e.jobId.replace(/:\d+$/, ':T');
		delete e.delay;
		out.push(e);
	}
	return out;
}

// getJobSchedulers with the times that depend on the call taken out.
async function listed(queue) {
	const l = await queue.getJobSchedulers(0, -1, true);
	for (const s of l) {
		if (s.every && s.offset !== 1234 && !s.startDate) {
			ok(s.offset === s.next % s.every,
			    `getJobSchedulers: ${s.key} offset is next % every`, s);
			delete s.offset;
			delete s.next;
		}
	}
	return l.sort((a, b) => a.key < b.key ? -1 : 1);
}

// Run a Node Worker on q until it has seen n jobs; their ids and data.
async function runWorker(q, n) {
	const seen = [];
	const w = new Worker(q, async (job) => {
		seen.push({ id: job.id, name: job.name, data: job.data,
		    count: job.opts.repeat.count });
		return 'ok';
	}, { connection, drainDelay: 1, stalledInterval: 60000 });
	await until(() => seen.length >= n, 20000);
	await sleep(400);	/* an extra one would show now */
	await w.close();
	return seen;
}

await main('14-schedulers', async () => {
	const r = redis();
	const qn = qname('sched-node');
	const qc = qname('sched-cli');
	const nq = new Queue(qn, { connection });
	const cq = new Queue(qc, { connection });

	// 1. made on both sides: Redis agrees
	for (const [id, ro, tpl, args] of cases()) {
		await nq.upsertJobScheduler(id, ro, tpl);
		const c = cli(['scheduler', 'upsert', qc, id, ...args]);
		ok(c.status === 0 && c.stdout.includes(`job repeat:${id}:`),
		    `scheduler upsert ${id} runs`, c);
	}
	for (const [id, ro] of cases()) {
		const a = await snapshot(r, qn, id);
		const b = await snapshot(r, qc, id);
		same(normal(b, ro.every), normal(a, ro.every),
		    `${id}: scheduler hash and first job as Node's`);
	}
	same(await r.get(`bull:${qc}:id`), await r.get(`bull:${qn}:id`),
	    'the id counter moves as with Node');
	same(await events(r, qc), await events(r, qn), 'events as Node\'s');
	for (const k of ['delayed', 'prioritized', 'wait'])
		same((await r.zrange(`bull:${qc}:${k}`, 0, -1).catch(() =>
		    r.lrange(`bull:${qc}:${k}`, 0, -1))).map((x) =>
		    x.replace(/:\d+$/, ':T')).sort(),
		    (await r.zrange(`bull:${qn}:${k}`, 0, -1).catch(() =>
		    r.lrange(`bull:${qn}:${k}`, 0, -1))).map((x) =>
		    x.replace(/:\d+$/, ':T')).sort(), `${k}: the same jobs`);

	// 2. Node reads ours as its own
	same(await listed(cq), await listed(nq),
	    'getJobSchedulers reads ours as Node\'s');
	same(await cq.getJobScheduler('pat'), await nq.getJobScheduler('pat'),
	    'getJobScheduler reads ours as Node\'s');
	same(await cq.getJobSchedulersCount(), 5, 'getJobSchedulersCount: 5');

	// 3. updates on both sides agree
	await nq.upsertJobScheduler('pat', { pattern: '0 0 1 6 *', limit: 3 },
	    { name: 'cr2', data: { v: 2 } });
	let c = cli(['scheduler', 'upsert', qc, 'pat', '--pattern',
	    '0 0 1 6 *', '--limit', '3', '--name', 'cr2', '--data', '{"v":2}']);
	ok(c.status === 0, 'scheduler upsert pat again runs', c);
	same(normal(await snapshot(r, qc, 'pat')),
	    normal(await snapshot(r, qn, 'pat')), 'pat updated as by Node');
	same((await cq.getDelayed()).map((j) => j.id).sort(),
	    (await nq.getDelayed()).map((j) => j.id).sort(),
	    'the old iteration is replaced as by Node');

	// an "every" one waiting: replaced in its slot, then a new every
	await nq.upsertJobScheduler('ev', { every: 2000 },
	    { name: 'tick2', data: { a: 2 } });
	c = cli(['scheduler', 'upsert', qc, 'ev', '--every', '2000', '--name',
	    'tick2', '--data', '{"a":2}']);
	ok(c.status === 0, 'scheduler upsert ev again runs', c);
	same(normal(await snapshot(r, qc, 'ev'), 2000, false),
	    normal(await snapshot(r, qn, 'ev'), 2000, false),
	    'ev updated as by Node');
	await nq.upsertJobScheduler('ev', { every: 5000 }, { name: 'tick3' });
	c = cli(['scheduler', 'upsert', qc, 'ev', '--every', '5000', '--name',
	    'tick3']);
	ok(c.status === 0, 'scheduler upsert ev with a new every runs', c);
	same(normal(await snapshot(r, qc, 'ev'), 5000, false),
	    normal(await snapshot(r, qn, 'ev'), 5000, false),
	    'ev with a new every as by Node');
	same((await r.lrange(`bull:${qc}:wait`, 0, -1)).length,
	    (await r.lrange(`bull:${qn}:wait`, 0, -1)).length,
	    'as many waiting iterations as with Node');
	same(await r.get(`bull:${qc}:id`), await r.get(`bull:${qn}:id`),
	    'the id counter after the updates as with Node');

	// 4. our list and get read Node's as ours
	const ln = cli(['--json', 'scheduler', 'list', qn, '--asc']);
	const lc = cli(['--json', 'scheduler', 'list', qc, '--asc']);
	ok(ln.status === 0 && lc.status === 0, 'scheduler list runs', [ln, lc]);
	const strip = (l) => JSON.parse(l).map((s) => {
		delete s.next;
		delete s.offset;
		return s;
	}).sort((a, b) => a.key < b.key ? -1 : 1);
	same(strip(lc.stdout), strip(ln.stdout),
	    'scheduler list of Node\'s as of ours');
	same(JSON.parse(ln.stdout).map((s) => s.key).sort(),
	    ['ev', 'hs', 'off', 'pat', 'ps'],
	    'scheduler list names Node\'s five');
	const g = cli(['--json', 'scheduler', 'get', qn, 'pat']);
	const gs = g.status === 0 ? JSON.parse(g.stdout) : {};
	same([gs.key, gs.name, gs.pattern, gs.limit, gs.template],
	    ['pat', 'cr2', '0 0 1 6 *', 3, { data: { v: 2 } }],
	    'scheduler get reads Node\'s pat');
	ok(cli(['scheduler', 'get', qn, 'nope']).status === 1,
	    'scheduler get of a missing one exits 1');

	// 5. each side removes the other's
	const pn = await snapshot(r, qn, 'ps');
	c = cli(['--json', 'scheduler', 'remove', qn, 'ps']);
	same(c.status === 0 && JSON.parse(c.stdout),
	    { key: 'ps', removed: true }, 'scheduler remove of Node\'s ps');
	same(await nq.getJobScheduler('ps'), undefined,
	    'Node no longer sees ps');
	same(await r.exists(`bull:${qn}:repeat:ps:${pn.next}`), 0,
	    'its delayed iteration is gone');
	const ev = await r.xrevrange(`bull:${qn}:events`, '+', '-', 'COUNT', 1);
	same(ev[0][1], ['event', 'removed', 'jobId', `repeat:ps:${pn.next}`,
	    'prev', 'delayed'], 'a removed event as Node writes it');
	same(await nq.removeJobScheduler('ps'), false,
	    'Node: removing it again says false');
	c = cli(['--json', 'scheduler', 'remove', qn, 'ps']);
	same(c.status === 0 && JSON.parse(c.stdout),
	    { key: 'ps', removed: false }, 'scheduler remove again: false');
	same(await cq.removeJobScheduler('off'), true,
	    'Node removes our off');
	same(await cq.getJobScheduler('off'), undefined, 'our off is gone');
	same(await r.exists(`bull:${qc}:repeat:off`), 0,
	    'with its hash');

	// 6. a Node Worker runs ours as Node's: the iterations and their ids
	const wn = qname('sched-wn');
	const wc = qname('sched-wc');
	const wnq = new Queue(wn, { connection });
	await wnq.upsertJobScheduler('fast', { every: 300, limit: 4 },
	    { name: 'f', data: { k: 1 } });
	c = cli(['scheduler', 'upsert', wc, 'fast', '--every', '300',
	    '--limit', '4', '--name', 'f', '--data', '{"k":1}']);
	ok(c.status === 0, 'scheduler upsert fast runs', c);
	const [sn, sc] = await Promise.all([runWorker(wn, 4),
	    runWorker(wc, 4)]);
	const shape = (seen) => {
		const t0 = Number(seen[0].id.split(':')[2]);
		return seen.map((s) => ({ ...s, id: s.id.replace(/:\d+$/,
		    (m) => `:+${Number(m.slice(1)) - t0}`) }));
	};
	same(shape(sc), shape(sn),
	    'every: a Node Worker runs our iterations as Node\'s');
	same(sc.length, 4, 'every: the limit of 4 holds');
	same((await r.hget(`bull:${wc}:repeat:fast`, 'ic')),
	    await r.hget(`bull:${wn}:repeat:fast`, 'ic'),
	    'every: the iteration count as Node\'s');

	const pn2 = qname('sched-pn');
	const pc2 = qname('sched-pc');
	const pnq = new Queue(pn2, { connection });
	await pnq.upsertJobScheduler('sec', { pattern: '* * * * * *',
	    limit: 3 }, { name: 's' });
	c = cli(['scheduler', 'upsert', pc2, 'sec', '--pattern',
	    '* * * * * *', '--limit', '3', '--name', 's']);
	ok(c.status === 0, 'scheduler upsert sec runs', c);
	const [tn, tc] = await Promise.all([runWorker(pn2, 3),
	    runWorker(pc2, 3)]);
	same(shape(tc), shape(tn),
	    'pattern: a Node Worker runs our iterations as Node\'s');
	ok(tc.every((s) => Number(s.id.split(':')[2]) % 1000 === 0),
	    'pattern: iterations on whole seconds', tc);

	await Promise.all([nq.close(), cq.close(), wnq.close(),
	    pnq.close()]);
	r.disconnect();
});
