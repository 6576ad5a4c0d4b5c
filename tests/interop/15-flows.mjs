// Flows made by `bullmq flow add` against the same trees made by Node's
// FlowProducer.add on other queues: the job hashes, the :dependencies
// sets, the waiting-children sets, the id counters and the events agree
// (the random ids mapped by job name); Node's getDependencies reads ours as
// its own; a Node Worker runs our flows as Node's (children first, the
// parent completing after them with getChildrenValues, a child with
// failParentOnFailure failing its parent); and our refusals write nothing.
import { FlowProducer, Queue, Worker, Job } from 'bullmq';
import {
	connection, ok, same, until, qname, main, cli, redis,
} from './lib.mjs';

// The tree on queues a and b.
function tree(a, b, tag) {
	return {
		name: 'p', queueName: a, data: { x: 1 },
		opts: { removeOnComplete: false, attempts: 2 },
		children: [
			{ name: 'c1', queueName: b, data: { y: 1 },
			    opts: { failParentOnFailure: true, keepLogs: 3 } },
			{ name: 'c2', queueName: a,
			    opts: { delay: 300, attempts: 2,
			    jobId: `mine-${tag}` } },
			{ name: 'c3', queueName: b, opts: { priority: 3 },
			    children: [{ name: 'g', queueName: a,
			    data: 'str', opts: { ignoreDependencyOnFailure:
			    true } }] },
		],
	};
}

// Every key of queues qs: its type and value, ids of the jobs named by
// name (map id -> name), queue names by letter, times out.
async function dump(r, qs, names) {
	const out = {};
	const sub = (s) => {
		let t = String(s);
		for (const [id, n] of names)
			t = t.split(id).join(`<${n}>`);
		qs.forEach((q, i) => { t = t.split(`bull:${q}:`).join(
		    `bull:Q${i}:`).split(`bull:${q}"`).join(`bull:Q${i}"`); });
		return t;
	};
	for (const [i, q] of qs.entries()) {
		for (const k of await r.keys(`bull:${q}:*`)) {
			const ty = await r.type(k);
			let v;
			if (ty === 'hash') {
				v = await r.hgetall(k);
				delete v.timestamp;
				if (v.opts)
					v.opts = JSON.parse(sub(v.opts));
				if (v.parent)
					v.parent = JSON.parse(sub(v.parent));
			} else if (ty === 'zset') {
				v = await r.zrange(k, 0, -1);
			} else if (ty === 'list') {
				v = await r.lrange(k, 0, -1);
			} else if (ty === 'set') {
				v = (await r.smembers(k)).map(sub).sort();
			} else if (ty === 'stream') {
				v = (await r.xrange(k, '-', '+')).map((e) =>
				    e[1].filter((x, j) => e[1][j - 1] !==
				    'delay').join(' '));
			} else {
				v = await r.get(k);
			}
			out[sub(k).replace(`bull:${q}:`, `bull:Q${i}:`)] =
			    JSON.parse(sub(JSON.stringify(v)));
		}
	}
	return out;
}

// The ids of a tree of jobs by name.
function idsOf(t, m = new Map()) {
	m.set(t.id ?? t.job.id, t.name ?? t.job.name);
	for (const c of t.children ?? [])
		idsOf(c, m);
	return m;
}

// Run Node Workers on queues a and b until the parent p is finished;
// returns what each job saw and the parent's state.
async function runFlow(a, b, pid, failChild) {
	const seen = [];
	const proc = async (job) => {
		seen.push(job.name);
		if (job.name === failChild)
			throw new Error('child fails');
		if (job.name === 'p' || job.name === 'c3') {
			const v = await job.getChildrenValues();
			return Object.values(v).sort();
		}
		return `${job.name}-done`;
	};
	const wo = { connection, drainDelay: 1, stalledInterval: 60000 };
	const w1 = new Worker(a, proc, wo);
	const w2 = new Worker(b, proc, wo);
	const pq = new Queue(a, { connection });
	let st;
	await until(async () => {
		st = await pq.getJobState(pid);
		return st === 'completed' || st === 'failed';
	}, 20000);
	const job = await Job.fromId(pq, pid);
	await Promise.all([w1.close(), w2.close()]);
	await pq.close();
	return { state: st, rv: job?.returnvalue ?? null,
	    failed: job?.failedReason ?? null, seen: seen.sort() };
}

await main('15-flows', async () => {
	const r = redis();
	const [na, nb, ca, cb] = ['flow-na', 'flow-nb', 'flow-ca',
	    'flow-cb'].map(qname);
	const fp = new FlowProducer({ connection });

	// 1. the same tree both ways: Redis agrees
	const nt = await fp.add(tree(na, nb, 'x'));
	const c = cli(['--json', 'flow', 'add'],
	    JSON.stringify(tree(ca, cb, 'x')));
	ok(c.status === 0, 'flow add runs', c);
	const ct = c.status === 0 ? JSON.parse(c.stdout) : { children: [] };
	same([...idsOf(ct).values()].sort(), ['c1', 'c2', 'c3', 'g', 'p'],
	    'flow add prints the tree of ids');
	ok([...idsOf(ct).keys()].filter((id) => id !== 'mine-x').every((id) =>
	    /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
	    .test(id)), 'ids are random UUIDs as Node makes them', ct);
	same(await dump(r, [ca, cb], idsOf(ct)),
	    await dump(r, [na, nb], idsOf(nt)),
	    'job hashes, dependencies, waiting-children, counters and events ' +
	    'as Node\'s');

	// 2. Node reads ours
	const pc = await Job.fromId(new Queue(ca, { connection }), ct.id);
	const pn = await Job.fromId(new Queue(na, { connection }), nt.job.id);
	const deps = async (j, names) => {
		const d = await j.getDependencies();
		return { unprocessed: (d.unprocessed ?? []).map((k) =>
		    names.get(k.split(':').pop())).sort(),
		    processed: Object.keys(d.processed ?? {}).length };
	};
	same(await deps(pc, idsOf(ct)), await deps(pn, idsOf(nt)),
	    'getDependencies reads ours as Node\'s');
	same(await pc.getState(), 'waiting-children',
	    'our parent waits for its children');
	same((await pc.getDependenciesCount()),
	    await pn.getDependenciesCount(), 'getDependenciesCount as Node\'s');

	// 3. a Node Worker runs ours as Node's
	const [rn, rc] = await Promise.all([runFlow(na, nb, nt.job.id),
	    runFlow(ca, cb, ct.id)]);
	same(rc, rn, 'a Node Worker runs our flow as Node\'s');
	same(rc.state, 'completed', 'our parent completes');
	same(rc.rv, ['c1-done', 'c2-done', ['g-done']],
	    'getChildrenValues in our parent');
	const pc2 = await Job.fromId(new Queue(ca, { connection }), ct.id);
	const kids = await Promise.all([...idsOf(ct).entries()].filter(
	    ([, n]) => n !== 'p' && n !== 'g').map(async ([id, n]) => {
		const j = await Job.fromId(new Queue(n === 'c2' ? ca : cb,
		    { connection }), id);
		return j.finishedOn;
	}));
	ok(kids.every((t) => t <= pc2.finishedOn),
	    'our parent finishes after its children', { kids, p:
	    pc2.finishedOn });

	// 4. failParentOnFailure: a failing child fails our parent too
	const [fa, fb, ga, gb] = ['fl-fa', 'fl-fb', 'fl-ga', 'fl-gb']
	    .map(qname);
	const nt2 = await fp.add({ ...tree(fa, fb, 'y'), opts: {} });
	const c2 = cli(['--json', 'flow', 'add'],
	    JSON.stringify({ ...tree(ga, gb, 'y'), opts: {} }));
	ok(c2.status === 0, 'flow add of a second tree runs', c2);
	const ct2 = c2.status === 0 ? JSON.parse(c2.stdout) : {};
	const [fn, fc] = await Promise.all([runFlow(fa, fb, nt2.job.id, 'c1'),
	    runFlow(ga, gb, ct2.id, 'c1')]);
	const norm = (res, names, qs) => {
		let t = String(res.failed);
		for (const [id, n] of names)
			t = t.split(id).join(`<${n}>`);
		qs.forEach((q, i) => { t = t.split(q).join(`Q${i}`); });
		return { state: res.state, failed: t };
	};
	same(norm(fc, idsOf(ct2), [ga, gb]), norm(fn, idsOf(nt2), [fa, fb]),
	    'failParentOnFailure: our parent fails as Node\'s');
	same(fc.state, 'failed', 'our parent failed');

	// 5. a flow under a parent outside it, and refusals
	const c3 = cli(['flow', 'add'], JSON.stringify({ name: 'sub',
	    queueName: ca, opts: { parent: { id: 'nope', queue:
	    `bull:${ca}` } }, children: [{ name: 'k', queueName: ca }] }));
	ok(c3.status === 1 && /parent/.test(c3.stderr),
	    'a missing outside parent is refused', c3);
	const before = await r.dbsize();
	for (const [bad, why] of [
		[{ name: 'x' }, 'no queueName'],
		[{ name: 'x', queueName: ca, opts: { jobId: 'mine-x' } },
		    'an id taken'],
		[{ name: 'x', queueName: 'a:b' }, 'a queue name with :'],
		[{ name: 'x', queueName: ca, children: [{ name: 'y',
		    queueName: ca, opts: { failParentOnFailure: true,
		    ignoreDependencyOnFailure: true } }] },
		    'two parent flags'],
		[{ name: 'x', queueName: ca, children: [{ name: 'y',
		    queueName: ca, opts: { nope: 1 } }] }, 'an unknown option'],
	]) {
		const e = cli(['flow', 'add'], JSON.stringify(bad));
		ok(e.status === 1, `refused: ${why}`, e);
	}
	same(await r.dbsize(), before, 'the refusals wrote nothing');

	// a flow under an outside parent that exists: Node's parent waits
	const holder = await fp.add({ name: 'holder', queueName: na,
	    children: [{ name: 'h1', queueName: na, opts: { delay: 60000 } }] });
	const c4 = cli(['--json', 'flow', 'add'], JSON.stringify({
	    name: 'sub', queueName: ca, opts: { parent: { id: holder.job.id,
	    queue: `bull:${na}` } } }));
	ok(c4.status === 0, 'a flow under Node\'s parent is added', c4);
	const sub = c4.status === 0 ? JSON.parse(c4.stdout).id : 'none';
	const hj = await Job.fromId(new Queue(na, { connection }),
	    holder.job.id);
	same((await hj.getDependencies()).unprocessed.sort(),
	    [`bull:${na}:${holder.children[0].job.id}`, `bull:${ca}:${sub}`]
	    .sort(), 'Node\'s parent lists our job as its child');

	await fp.close();
	r.disconnect();
});
