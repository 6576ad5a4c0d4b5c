// contrib/bench/node-add.mjs: the Node producer of the benchmark.  Adds N
// jobs named "bench" with Queue.add awaited one by one ("one") or with
// Queue.addBulk in calls of BATCH jobs ("bulk"), then prints one JSON line
// {"n":N,"ms":M,"cpuMs":C}: M and C are the time and the CPU time of the
// adding alone, without the start of Node and the connection.  Data is DATA (JSON) when given, else {"n":i}.
//
//   node node-add.mjs SOCKET QUEUE one|bulk N [BATCH [DATA]]
import { Queue } from 'bullmq';

const [socket, name, mode, ns, bs, ds] = process.argv.slice(2);
const n = Number(ns);
const batch = Number(bs ?? 1000);
if (!socket || !name || (mode !== 'one' && mode !== 'bulk') ||
    !(n >= 0) || !(batch >= 1)) {
	console.error('usage: node-add.mjs SOCKET QUEUE one|bulk N ' +
	    '[BATCH [DATA]]');
	process.exit(2);
}
const fixed = ds !== undefined ? JSON.parse(ds) : null;
const data = (i) => fixed ?? { n: i };

const queue = new Queue(name, {
	connection: { path: socket, maxRetriesPerRequest: null },
});
await queue.waitUntilReady();
const t0 = process.hrtime.bigint();
const cpu0 = process.cpuUsage();
if (mode === 'one') {
	for (let i = 0; i < n; i++)
		await queue.add('bench', data(i));
} else {
	for (let i = 0; i < n; i += batch) {
		const jobs = [];
		for (let j = i; j < Math.min(n, i + batch); j++)
			jobs.push({ name: 'bench', data: data(j) });
		await queue.addBulk(jobs);
	}
}
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
const cpu = process.cpuUsage(cpu0);
console.log(JSON.stringify({ n, ms, cpuMs: (cpu.user + cpu.system) / 1000 }));
await queue.close();
