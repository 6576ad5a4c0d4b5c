// The deduplication modes on add, `bullmq add --opts` against Node's
// Queue.add on another queue, step by step: extend, replace (a delayed
// owner replaced, a waiting one kept), reschedule and keepLastIfActive
// (the last repeat added while the owner runs becomes the next job when
// a Node Worker finishes the owner).  The ids, the results, the events, the
// deduplication keys and their windows, and the jobs agree.
import { Queue, Worker } from 'bullmq';
import {
	connection, ok, same, until, qname, main, cli, redis, sleep,
} from './lib.mjs';

// Add one job to queue q from Node (side 'n') or our CLI (side 'c');
// returns the id the add answers.
async function add(side, q, data, opts) {
	if (side === 'n') {
		const j = await new Queue(q, { connection }).add('n', data,
		    opts);
		return j.id;
	}
	const r = cli(['--json', 'add', q, 'n', JSON.stringify(data),
	    '--opts', JSON.stringify(opts)]);
	if (r.status !== 0)
		return `exit ${r.status}: ${r.stderr}`;
	return JSON.parse(r.stdout).id;
}

// What Redis holds for queue q, times out.
async function state(r, q, did) {
	const ev = (await r.xrange(`bull:${q}:events`, '-', '+')).map((e) =>
	    e[1].filter((x, i) => e[1][i - 1] !== 'delay').join(' '));
	const jobs = {};
	for (const k of (await r.keys(`bull:${q}:[0-9]*`)).filter((x) =>
	    /:\d+$/.test(x)).sort()) {
		const h = await r.hgetall(k);
		jobs[k.split(':').pop()] = { data: h.data, delay: h.delay,
		    deid: h.deid, opts: JSON.parse(h.opts) };
	}
	const dn = await r.hgetall(`bull:${q}:dn:${did}`);
	if (dn.opts)
		dn.opts = JSON.parse(dn.opts);
	return {
		events: ev, jobs, owner: await r.get(`bull:${q}:de:${did}`),
		ttl: await r.pttl(`bull:${q}:de:${did}`) > 0,
		delayed: await r.zrange(`bull:${q}:delayed`, 0, -1),
		wait: await r.lrange(`bull:${q}:wait`, 0, -1), dn,
	};
}

// Run steps [data, opts, pause ms] on a fresh queue of each side.
async function both(r, what, steps, check) {
	const out = {};
	for (const side of ['n', 'c']) {
		const q = qname(`dd-${side}`);
		const ids = [];
		for (const [data, opts, pause] of steps) {
			ids.push(await add(side, q, data, opts));
			if (pause)
				await sleep(pause);
		}
		out[side] = { ids, ...(await state(r, q,
		    steps[0][1].deduplication.id)) };
		if (check)
			await check(q, out[side], side);
	}
	same(out.c, out.n, `${what}: as Node`);
	return out.c;
}

await main('16-dedup-modes', async () => {
	const r = redis();

	// extend: a repeat within the ttl restarts the window
	let s = await both(r, 'extend', [
		[{ a: 1 }, { deduplication: { id: 'e', ttl: 1500,
		    extend: true } }, 900],
		[{ a: 2 }, { deduplication: { id: 'e', ttl: 1500,
		    extend: true } }, 900],
	]);
	same(s.ids, ['1', '1'], 'extend: the repeat answers the owner');
	ok(s.ttl && s.owner === '1',
	    'extend: the window outlives its first ttl', s);

	// replace: a delayed owner gives way
	s = await both(r, 'replace delayed', [
		[{ a: 1 }, { delay: 5000, deduplication: { id: 'r',
		    replace: true } }],
		[{ a: 2 }, { delay: 5000, deduplication: { id: 'r',
		    replace: true } }],
	]);
	same([s.ids, s.owner, Object.keys(s.jobs)], [['1', '2'], '2', ['2']],
	    'replace: the second job replaces the delayed first');

	// replace with a ttl: the window keeps its ttl
	s = await both(r, 'replace delayed with ttl', [
		[{ a: 1 }, { delay: 5000, deduplication: { id: 't', ttl: 60000,
		    replace: true } }],
		[{ a: 2 }, { delay: 5000, deduplication: { id: 't', ttl: 60000,
		    replace: true } }],
	]);
	ok(s.ttl, 'replace: the window keeps its ttl', s);

	// replace: a waiting owner stays
	s = await both(r, 'replace waiting', [
		[{ a: 1 }, { deduplication: { id: 'w', replace: true } }],
		[{ a: 2 }, { deduplication: { id: 'w', replace: true } }],
	]);
	same(s.ids, ['1', '1'], 'replace: a waiting owner is kept');

	// reschedule: a delayed owner moves to the repeat's delay
	s = await both(r, 'reschedule', [
		[{ a: 1 }, { delay: 60000, deduplication: { id: 's',
		    reschedule: true } }],
		[{ a: 2 }, { delay: 100, deduplication: { id: 's',
		    reschedule: true } }],
	], async (q, st) => {
		const sc = Number(await r.zscore(`bull:${q}:delayed`, '1'));
		st.soon = sc / 4096 < Date.now() + 5000;
	});
	ok(s.soon && s.jobs['1'].delay === '100',
	    'reschedule: the owner is due with the new delay', s);

	// keepLastIfActive: repeats while the owner runs; the last one is
	// added when a Node Worker finishes the owner
	for (const side of ['n', 'c']) {
		const q = qname(`dk-${side}`);
		const seen = [];
		let release;
		const gate = new Promise((res) => { release = res; });
		const w = new Worker(q, async (job) => {
			seen.push([job.id, job.data]);
			if (job.data.a === 1)
				await gate;
		}, { connection, drainDelay: 1, stalledInterval: 60000 });
		const o = { deduplication: { id: 'k', keepLastIfActive: true } };
		await add(side, q, { a: 1 }, o);
		await until(() => seen.length === 1);
		const ids = [await add(side, q, { a: 2 }, o),
		    await add(side, q, { a: 3 }, o)];
		const st = await state(r, q, 'k');
		release();
		await until(() => seen.length === 2, 10000);
		await sleep(200);
		await w.close();
		side === 'n' ? (s = { ids, st, seen }) :
		    same({ ids, st, seen }, s, 'keepLastIfActive: as Node');
	}
	same(s.seen.map((x) => x[1]), [{ a: 1 }, { a: 3 }],
	    'keepLastIfActive: the last repeat runs after the owner');

	r.disconnect();
});
