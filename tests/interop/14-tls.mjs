// Over TLS, both ways, on one Redis whose TLS port requires a client
// certificate (run.sh's TLS mode): Node's Queue.add over ioredis's tls:
// -> bullmq-master on rediss:// completes the jobs, as Node reads them;
// `bullmq add` on rediss:// -> a Node Worker over TLS processes them, as
// `bullmq counts` reads them.  Every client is on the TLS port.
import { Queue, Worker } from 'bullmq';
import {
	connection, ok, same, until, qname, master, stopMaster, showLog, main,
	cli, redis, TLS,
} from './lib.mjs';

// The clients connected to the TLS port, from CLIENT LIST (unix socket).
async function onTls(r) {
	const list = await r.client('LIST');
	return list.split('\n').filter((l) =>
	    l.includes(`laddr=127.0.0.1:${TLS.port} `)).length;
}

await main('14-tls', async () => {
	if (!ok(TLS !== null, 'runs in the TLS mode of run.sh'))
		return;
	const r = redis();

	// Node -> C
	const n2c = qname('tls-n2c');
	const queue = new Queue(n2c, { connection });
	const ids = [];
	for (let i = 0; i < 20; i++)
		ids.push((await queue.add('n2c', { i, s: 'é😀' })).id);
	const m = master(n2c, 'builtin:echo', { workers: 2,
	    'drain-delay': 300 });
	const done = await until(async () =>
	    (await queue.getJobCounts('completed')).completed === 20, 20000, m);
	if (!ok(done, 'bullmq-master on rediss:// completes the 20 jobs Node ' +
	    'added over TLS'))
		showLog(m);
	const j = await queue.getJob(ids[7]);
	same(j && j.returnvalue, { i: 7, s: 'é😀' },
	    'Node reads the return value the C worker wrote');
	const n = await onTls(r);
	ok(n >= 4, `the Node queue, the master and its 2 children are on the ` +
	    `TLS port (${n} clients)`);
	await stopMaster(m);

	// C -> Node
	const c2n = qname('tls-c2n');
	let added = 0;
	for (let i = 0; i < 10; i++)
		if (cli(['add', c2n, 'c2n', JSON.stringify({ i })]).status === 0)
			added++;
	same(added, 10, 'bullmq add on rediss:// adds 10 jobs');
	const seen = [];
	const w = new Worker(c2n, async (job) => {
		seen.push(job.data.i);
		return job.data.i * 2;
	}, { connection });
	await until(() => seen.length === 10, 15000);
	same(seen.sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
	    'a Node Worker over TLS processes the jobs bullmq added');
	let counts = null;
	await until(async () => {
		const cc = cli(['--json', 'counts', c2n]);
		try {
			counts = JSON.parse(cc.stdout);
		} catch {
			return false;
		}
		return counts.completed === 10;
	}, 10000);
	same(counts && counts.completed, 10,
	    'bullmq counts on rediss:// reads them completed');
	await w.close();
	await queue.close();
	r.disconnect();
});
