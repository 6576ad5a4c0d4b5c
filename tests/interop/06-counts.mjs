// Node's getJobCounts() and isPaused() agree with `bullmq counts --json` at
// every step of a scenario: add, pause, process, fail, retry, clean, drain.
import { Queue } from 'bullmq';
import {
	connection, ok, same, until, qname, master, stopMaster, showLog, main,
	cli, normCounts,
} from './lib.mjs';

const ZERO = { active: 0, completed: 0, delayed: 0, failed: 0,
    prioritized: 0, waiting: 0, 'waiting-children': 0 };

await main('06-counts', async () => {
	const name = qname('i6');
	const q = new Queue(name, { connection });

	// Compare both views, and Node's with what the step should give.
	async function step(what, want, paused = false) {
		const node = await q.getJobCounts();
		const r = cli(['--json', 'counts', name]);
		let c = null;
		try {
			c = JSON.parse(r.stdout);
		} catch {
			/* reported below */
		}
		same(node, { ...ZERO, ...want }, `${what}: Node counts as expected`);
		ok(r.status === 0 && c, `${what}: bullmq counts --json works`, r);
		if (!c)
			return;
		same(normCounts(c), node, `${what}: bullmq counts = Node ` +
		    'getJobCounts');
		same([c.isPaused, await q.isPaused()], [paused, paused],
		    `${what}: paused state agrees`);
	}

	// Run bullmq-master with spec until cond holds; stop it.
	async function run(spec, cond, what) {
		const m = master(name, spec, { workers: 1 });
		const done = await until(cond, 15000, m);
		const st = await stopMaster(m);
		ok(done && st.code === 0, `${what} (${spec}), then TERM: exit 0`,
		    st);
		if (!done || st.code !== 0)
			showLog(m);
	}

	await step('empty queue', {});
	await q.add('a', { n: 1 });
	await q.add('b', { n: 2 });
	await q.add('later', { n: 3 }, { delay: 600000 });
	await q.add('p', { n: 4 }, { priority: 3 });
	await step('Node adds', { waiting: 2, delayed: 1, prioritized: 1 });
	cli(['add', name, 'c', '{"n":5}']);
	cli(['add', name, 'p2', '{"n":6}', '--priority', '1']);
	cli(['add', name, 'later2', '{"n":7}', '--delay', '600000']);
	await step('bullmq adds',
	    { waiting: 3, delayed: 2, prioritized: 2 });

	const rp = cli(['pause', name]);
	ok(rp.status === 0, 'bullmq pause: exit 0', rp);
	await step('paused by bullmq', { waiting: 3, delayed: 2,
	    prioritized: 2 }, true);
	await q.add('d', { n: 8 });
	await step('Node add while paused', { waiting: 4, delayed: 2,
	    prioritized: 2 }, true);
	await q.resume();
	await step('resumed by Node', { waiting: 4, delayed: 2,
	    prioritized: 2 });

	await run('builtin:echo', async () =>
	    (await q.getCompletedCount()) === 6, 'C worker completes 6 jobs');
	await step('processed', { completed: 6, delayed: 2 });

	await q.pause();
	await step('paused by Node', { completed: 6, delayed: 2 }, true);
	const rr = cli(['resume', name]);
	ok(rr.status === 0, 'bullmq resume: exit 0', rr);
	await step('resumed by bullmq', { completed: 6, delayed: 2 });

	await q.add('f1', { reason: 'no 1' });
	cli(['add', name, 'f2', '{"reason":"no 2"}']);
	await step('two more', { waiting: 2, completed: 6, delayed: 2 });
	await run('builtin:fail', async () =>
	    (await q.getFailedCount()) === 2, 'C worker fails 2 jobs');
	await step('failed', { completed: 6, failed: 2, delayed: 2 });

	const rt = cli(['retry', name]);
	ok(rt.status === 0, 'bullmq retry: exit 0', rt);
	await step('retried by bullmq', { waiting: 2, completed: 6,
	    delayed: 2 });
	await run('builtin:fail', async () =>
	    (await q.getFailedCount()) === 2, 'C worker fails them again');
	await step('failed again', { completed: 6, failed: 2, delayed: 2 });
	await q.retryJobs({ state: 'failed' });
	await step('retried by Node', { waiting: 2, completed: 6,
	    delayed: 2 });

	const rc = cli(['clean', name, 'completed', '--grace', '0']);
	ok(rc.status === 0, 'bullmq clean completed: exit 0', rc);
	await step('cleaned by bullmq', { waiting: 2, delayed: 2 });
	await q.clean(0, 1000, 'wait');
	await step('cleaned by Node', { delayed: 2 });
	const rd = cli(['drain', name, '--delayed']);
	ok(rd.status === 0, 'bullmq drain --delayed: exit 0', rd);
	await step('drained by bullmq', {});
	await q.close();
});
