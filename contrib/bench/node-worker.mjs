// contrib/bench/node-worker.mjs: one Node process running one bullmq Worker,
// the Node side of the benchmark.  Prints "ready" once both its connections
// are up; closes the worker (letting running jobs finish) on SIGTERM.
//
//   node node-worker.mjs SOCKET QUEUE CONCURRENCY noop|sleep|sandbox
//
// sandbox runs sandbox-processor.cjs as a sandboxed processor: in child
// processes (not worker threads), CONCURRENCY of them.
import { Worker } from 'bullmq';
import { join } from 'node:path';

const [socket, queue, conc, kind] = process.argv.slice(2);
const concurrency = Number(conc);
if (!socket || !queue || !(concurrency >= 1) ||
    (kind !== 'noop' && kind !== 'sleep' && kind !== 'sandbox')) {
	console.error('usage: node-worker.mjs SOCKET QUEUE CONCURRENCY ' +
	    'noop|sleep|sandbox');
	process.exit(2);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The processor: return at once, or sleep data.ms (default 10) first, as
// bullmq-master's builtin:noop and builtin:sleep do.
const processor = kind === 'sandbox' ?
	join(process.cwd(), 'sandbox-processor.cjs') :
	kind === 'noop' ? async () => null :
	async (job) => {
		const ms = Number(job.data?.ms ?? 10);
		await sleep(Number.isFinite(ms) ? ms : 10);
		return null;
	};

const worker = new Worker(queue, processor, {
	connection: { path: socket, maxRetriesPerRequest: null },
	concurrency,
	useWorkerThreads: false,
});
worker.on('error', (e) => console.error(`node-worker: ${e.message}`));
worker.on('failed', (job, e) =>
    console.error(`node-worker: job ${job?.id} failed: ${e.message}`));
worker.once('ready', () => console.log('ready'));

let closing = false;
process.on('SIGTERM', async () => {
	if (closing)
		return;
	closing = true;
	try {
		await worker.close();
		process.exit(0);
	} catch (e) {
		console.error(`node-worker: close: ${e.message}`);
		process.exit(1);
	}
});
