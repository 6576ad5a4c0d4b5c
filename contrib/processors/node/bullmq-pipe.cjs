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
// The signal (the processor's third argument) aborts when the job is cut:
// past bullmq-master's job-timeout ({"type":"abort"}) or when the worker
// stops in the middle of it (stdin closed); the program then ends as soon
// as the processor returns or throws, within 1 s.
'use strict';

const path = require('path');
const { pathToFileURL } = require('url');

// The protocol owns stdout: what the processor prints goes to stderr.
// A line is one write; a promise only when the pipe is full.
const out = process.stdout.write.bind(process.stdout);
process.stdout.write = process.stderr.write.bind(process.stderr);
const send = (msg) => {
	if (out(JSON.stringify(msg) + '\n'))
		return undefined;
	return new Promise((resolve) => process.stdout.once('drain', resolve));
};

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

let current = null;	// { job, ended, abort } of the job running
let processor = null;
let closing = false;	// stdin closed: exit once the job settles

const STATE = Symbol('state');

// The job a processor gets, as bullmq 6.7's sandbox gives one: its fields,
// and its methods on the prototype (one object a job, no closures).
class Job {
	constructor(m, state) {
		this.id = m.id;
		this.name = m.name;
		this.data = m.data;
		this.opts = m.opts ?? {};
		this.attemptsMade = m.attemptsMade ?? 0;
		this.attemptsStarted = m.attemptsStarted ?? 0;
		this.timestamp = m.timestamp;
		this.processedOn = m.processedOn;
		this.delay = m.delay ?? 0;
		this.priority = m.priority ?? 0;
		this.progress = m.progress ?? 0;
		this.parent = m.parent;
		this.parentKey = m.parentKey;
		this.repeatJobKey = m.repeatJobKey;
		this.deduplicationId = m.deduplicationId;
		this.stacktrace = m.stacktrace ?? [];
		this.queueName = m.queue;
		this.prefix = m.prefix;
		this.queueQualifiedName = `${m.prefix}:${m.queue}`;
		this.token = m.token;
		this.returnValue = {};
		this[STATE] = state;
	}

	async updateProgress(progress) {
		this.progress = progress;
		await ask('progress', { progress });
	}

	async log(row) {
		await ask('log', { line: String(row) });
	}

	async updateData(data) {
		await ask('update', { data });
		this.data = data;
	}

	async moveToDelayed(timestamp) {
		this[STATE].ended = true;
		await send({ type: 'delay', until: Math.floor(timestamp) });
	}

	async moveToWait() {
		this[STATE].ended = true;
		await send({ type: 'wait' });
	}

	async moveToWaitingChildren(token, opts = {}) {
		const moved = await ask('wait-children', opts.child ?
		    { child: `${opts.child.queue}:${opts.child.id}` } : {});
		if (moved)
			this[STATE].ended = true;
		return moved;
	}

	getChildrenValues() {
		return ask('children-values');
	}

	getIgnoredChildrenFailures() {
		return ask('ignored-failures');
	}

	getFailedChildrenValues() {
		return ask('ignored-failures');
	}

	async getDependenciesCount(opts = {}) {
		const all = await ask('dependencies-count');
		const want = Object.keys(opts).filter((k) => opts[k]);
		if (want.length === 0)
			return all;
		const r = {};
		for (const k of want)
			r[k] = all[k] ?? 0;
		return r;
	}
}

async function run(m) {
	const st = { ended: false, abort: new AbortController(), job: null };
	st.job = new Job(m, st);
	current = st;
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
		if (closing)
			process.exit(0);
	}
}

function onLine(line) {
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
	} else if (m.type === 'abort') {
		// past job-timeout: the job's signal aborts; stdin closes next
		if (current)
			current.abort.abort();
	}
}

// Lines from stdin, split here (cheaper than readline for one short line
// a job).
let inbuf = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
	let start = 0;
	let nl;
	inbuf = inbuf.length === 0 ? chunk : inbuf + chunk;
	while ((nl = inbuf.indexOf('\n', start)) !== -1) {
		onLine(inbuf.slice(start, nl));
		start = nl + 1;
	}
	inbuf = start === inbuf.length ? '' : inbuf.slice(start);
});
process.stdin.on('end', () => {
	// EOF: the worker is stopping or cut the job: a running job is told
	// so, and the program ends when it settles (1 s at most)
	if (inbuf.length > 0) {
		onLine(inbuf);
		inbuf = '';
	}
	if (!current)
		process.exit(0);
	closing = true;
	current.abort.abort();
	setTimeout(() => process.exit(0), 1000).unref();
});
