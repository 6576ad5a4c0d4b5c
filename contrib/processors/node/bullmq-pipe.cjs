#!/usr/bin/env node
// bullmq-pipe.cjs: run an existing BullMQ sandboxed processor file under
// bullmq-master's pipe: processor, unchanged.
//
//   bullmq-master -q QUEUE -x 'pipe:/usr/bin/node /path/bullmq-pipe.cjs /path/processor.js'
//
// The processor file exports `async function (job, token, signal)` (as
// module.exports, exports.default, or an ES module's default export), as
// for `new Worker(queue, '/path/processor.js')`.  The job it gets has the
// fields and methods bullmq 6.7's sandbox gives one: id, name, data, opts,
// attemptsMade, attemptsStarted, timestamp, processedOn, progress, parent,
// parentKey, repeatJobKey, deduplicationId, queueName, prefix, token,
// updateProgress, log, updateData, moveToDelayed, moveToWait,
// moveToWaitingChildren, getChildrenValues, getIgnoredChildrenFailures,
// getFailedChildrenValues, getDependenciesCount.  Errors thrown map onto
// the protocol by name, as a Node worker reads them: UnrecoverableError
// fails without retry, RateLimitError sends the job back under the
// queue's rate limit, DelayedError, WaitingError and WaitingChildrenError
// end a job the matching move has already ended (thrown without the move,
// the job goes back to wait), any other error fails the job.  The
// protocol is bullmq-processor(7); this file needs nothing but Node.
// A custom backoff strategy (Node's settings.backoffStrategy) may be
// exported beside the processor as `backoffStrategy(attemptsMade, type,
// err, job)`: it is asked for the delay of a retry of a job whose
// opts.backoff.type is neither fixed nor exponential.
'use strict';

const fs = require('fs');
const path = require('path');
const readline = require('readline');
const { pathToFileURL } = require('url');

// The protocol owns stdout: what the processor prints goes to stderr.
const out = process.stdout.write.bind(process.stdout);
process.stdout.write = process.stderr.write.bind(process.stderr);
const send = (msg) => new Promise((resolve) => {
	if (out(JSON.stringify(msg) + '\n'))
		resolve();
	else
		process.stdout.once('drain', resolve);
});

const file = process.argv[2];
if (!file) {
	process.stderr.write('usage: bullmq-pipe.cjs PROCESSOR-FILE\n');
	process.exit(2);
}

let backoffStrategy = null;

async function load(f) {
	const abs = path.resolve(f);
	let mod;
	try {
		mod = require(abs);
	} catch (err) {
		if (err.code !== 'ERR_REQUIRE_ESM' &&
		    err.code !== 'ERR_REQUIRE_ASYNC_MODULE')
			throw err;
		mod = await import(pathToFileURL(abs).href);
	}
	const fn = typeof mod === 'function' ? mod :
	    typeof mod.default === 'function' ? mod.default :
	    mod.default && typeof mod.default.default === 'function' ?
	    mod.default.default : null;
	if (!fn)
		throw new Error(`${f} exports no processor function`);
	const bs = mod.backoffStrategy ?? mod.default?.backoffStrategy ??
	    fn.backoffStrategy;
	if (typeof bs === 'function')
		backoffStrategy = bs;
	return fn;
}

// Requests waiting for their answer, by number.
const pending = new Map();
let seq = 0;
function ask(type, fields = {}) {
	const req = ++seq;
	return new Promise((resolve, reject) => {
		pending.set(req, { resolve, reject });
		send({ type, req, ...fields });
	});
}

let current = null;	// { job, ended, abort }
let processor = null;

function jobFor(m) {
	const state = { ended: false, abort: new AbortController() };
	const end = (msg) => {
		state.ended = true;
		return send(msg);
	};
	const job = {
		id: m.id, name: m.name, data: m.data, opts: m.opts ?? {},
		attemptsMade: m.attemptsMade ?? 0,
		attemptsStarted: m.attemptsStarted ?? 0,
		timestamp: m.timestamp, processedOn: m.processedOn,
		delay: m.delay ?? 0, priority: m.priority ?? 0,
		progress: m.progress ?? 0, parent: m.parent,
		parentKey: m.parentKey, repeatJobKey: m.repeatJobKey,
		deduplicationId: m.deduplicationId, stacktrace: m.stacktrace ?? [],
		queueName: m.queue, prefix: m.prefix,
		queueQualifiedName: `${m.prefix}:${m.queue}`, token: m.token,
		returnValue: {},
		async updateProgress(progress) {
			this.progress = progress;
			await ask('progress', { progress });
		},
		async log(row) {
			await ask('log', { line: String(row) });
		},
		async updateData(data) {
			await ask('update', { data });
			job.data = data;
		},
		async moveToDelayed(timestamp) {
			await end({ type: 'delay', until: Math.floor(timestamp) });
		},
		async moveToWait() {
			await end({ type: 'wait' });
		},
		async moveToWaitingChildren(token, opts = {}) {
			const moved = await ask('wait-children',
			    opts.child ? { child: `${opts.child.queue}:${opts.child.id}` }
			    : {});
			if (moved)
				state.ended = true;
			return moved;
		},
		getChildrenValues: () => ask('children-values'),
		getIgnoredChildrenFailures: () => ask('ignored-failures'),
		getFailedChildrenValues: () => ask('ignored-failures'),
		async getDependenciesCount(opts = {}) {
			const all = await ask('dependencies-count');
			const want = Object.keys(opts).filter((k) => opts[k]);
			if (want.length === 0)
				return all;
			const r = {};
			for (const k of want)
				r[k] = all[k] ?? 0;
			return r;
		},
	};
	state.job = job;
	return state;
}

async function run(m) {
	current = jobFor(m);
	const st = current;
	try {
		const result = await processor(st.job, m.token, st.abort.signal);
		if (!st.ended)
			await send({ type: 'done', result: result === undefined ?
			    null : result });
	} catch (err) {
		if (st.ended)
			return;
		const name = err && err.name;
		const msg = err && err.message ? err.message : String(err);
		if (name === 'UnrecoverableError')
			await send({ type: 'fail', reason: msg,
			    unrecoverable: true });
		else if (name === 'RateLimitError' ||
		    msg === 'bullmq:rateLimitExceeded')
			await send({ type: 'rate-limit' });
		else if (name === 'DelayedError' || name === 'WaitingError' ||
		    name === 'WaitingChildrenError')
			await send({ type: 'wait' });
		else
			await send({ type: 'fail', reason: msg });
	} finally {
		current = null;
	}
}

const rl = readline.createInterface({ input: process.stdin,
    crlfDelay: Infinity });
rl.on('line', (line) => {
	let m;
	try {
		m = JSON.parse(line);
	} catch {
		process.stderr.write(`bullmq-pipe: not JSON: ${line}\n`);
		process.exit(1);
	}
	if (m.type === 'hello') {
		load(file).then((fn) => {
			processor = fn;
			send({ type: 'hello', protocol: 1 });
		}, (err) => {
			process.stderr.write(`bullmq-pipe: ${err.stack || err}\n`);
			process.exit(1);
		});
	} else if (m.type === 'job') {
		run(m);
	} else if (m.type === 'backoff') {
		let delay = 0;
		try {
			if (!backoffStrategy)
				throw new Error('no backoffStrategy exported for ' +
				    `backoff type ${m.backoffType}`);
			const err = new Error(m.reason);
			delay = Number(backoffStrategy(m.attemptsMade, m.backoffType,
			    err, { id: m.id, opts: m.opts,
			    attemptsMade: m.attemptsMade })) || 0;
		} catch (err) {
			process.stderr.write(`bullmq-pipe: ${err.message}\n`);
		}
		send({ type: 'answer', req: m.req, result: Math.round(delay) });
	} else if (m.type === 'answer') {
		const p = pending.get(m.req);
		if (!p)
			return;
		pending.delete(m.req);
		if ('error' in m)
			p.reject(new Error(m.error));
		else
			p.resolve(m.result);
	}
});
rl.on('close', () => {
	// EOF: the worker is stopping; a running job is told so
	if (current)
		current.abort.abort();
	setTimeout(() => process.exit(0), current ? 1000 : 0).unref();
});
