// Custom backoff strategies: a Node Worker with settings.backoffStrategy
// and bullmq-master running the same strategy, exported beside the
// processor, through the pipe: processor's Node adapter: the same retries,
// delays and final states.  A strategy answering -1 fails the job at once.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue, Worker } from 'bullmq';
import {
	connection, ok, same, until, qname, master, stopMaster, showLog, main,
	listen, redis, cli,
} from './lib.mjs';

const ADAPTER = join(process.env.INTEROP_TOP_SRCDIR,
    'contrib/processors/node/bullmq-pipe.cjs');
const FILE = `
module.exports = async function (job) {
	throw new Error('try ' + job.attemptsMade);
};
module.exports.backoffStrategy = function (attemptsMade, type, err) {
	if (type === 'never')
		return -1;
	if (type === 'now')
		return 0;
	return attemptsMade * 150;
};
`;

await main('13-custom-backoff', async () => {
	const file = join(process.cwd(), 'backoff-processor.cjs');
	writeFileSync(file, FILE);
	const { default: proc } = await import(file);
	const r = redis();
	const out = {};
	for (const side of ['node', 'c']) {
		const name = qname(`i13${side}`);
		const q = new Queue(name, { connection });
		const [qe, rec] = await listen(name);
		const ids = {
			linear: (await q.add('j', {}, { attempts: 3,
			    backoff: { type: 'linear' } })).id,
			never: (await q.add('j', {}, { attempts: 3,
			    backoff: { type: 'never' } })).id,
			now: (await q.add('j', {}, { attempts: 2,
			    backoff: { type: 'now' } })).id,
		};
		// a custom type given to bullmq add, run by either worker
		const r0 = cli(['--json', 'add', name, 'j', '{}', '--attempts', '3',
		    '--backoff', 'linear:0']);
		ok(r0.status === 0, `${side}: bullmq add takes a custom backoff ` +
		    'type', r0);
		ids.cli = JSON.parse(r0.stdout || '{}').id;
		let w = null, m = null;
		if (side === 'node')
			w = new Worker(name, proc, { connection, settings:
			    { backoffStrategy: proc.backoffStrategy } });
		else
			m = master(name, `pipe:${process.execPath} ${ADAPTER} ` +
			    file, { workers: 1, 'drain-delay': 300 });
		ok(await until(async () => (await q.getJobCounts('failed'))
		    .failed === 4, 20000, `${side}: all failed`),
		    `${side}: the four jobs end failed`, m ? m.log :
		    await q.getJobCounts());
		if (w)
			await w.close();
		if (m && !(await stopMaster(m)))
			showLog(m);
		await new Promise((res) => setTimeout(res, 300));
		await qe.close();
		out[side] = {};
		for (const [k, id] of Object.entries(ids)) {
			const h = await r.hgetall(`bull:${name}:${id}`);
			out[side][k] = { atm: h.atm, delay: h.delay,
			    reason: h.failedReason,
			    events: rec.list.filter((e) => e.jobId === id)
			    .map((e) => e.ev + (e.delay ? '+' : '')) };
		}
		await q.obliterate({ force: true });
		await q.close();
	}
	same(out.node.linear.atm, '3', 'node: linear made 3 attempts');
	same(out.node.never.atm, '1', 'node: -1 failed at once');
	same(out.node.cli.atm, '3', 'node: the CLI-added linear job made 3 ' +
	    'attempts');
	for (const k of ['linear', 'never', 'now', 'cli'])
		same(out.c[k], out.node[k], `backoff type ${k}: attempts, the ` +
		    'last delay, reason and events as a Node Worker with the ' +
		    'same strategy');
});
