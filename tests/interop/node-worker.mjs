// Helper of 05-stalled.mjs (not a test): a Node Worker on queue argv[2]
// with short locks that prints "active <id>" and then holds its job
// forever, waiting to be killed.
import { Worker } from 'bullmq';

const [queue, sock] = process.argv.slice(2);
const connection = { path: sock, maxRetriesPerRequest: null };
const w = new Worker(queue, async (job) => {
	console.log(`active ${job.id}`);
	await new Promise(() => {});
}, { connection, lockDuration: 1000, stalledInterval: 500 });
w.on('error', (err) => console.error(String(err)));
await w.waitUntilReady();
console.log('ready');
