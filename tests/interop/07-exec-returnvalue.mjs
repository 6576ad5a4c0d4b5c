// Whatever an exec: processor prints, Node's QueueEvents must keep going:
// every returnvalue the C side stores is valid JSON (a bad one would stop
// QueueEvents for good), and output that is not JSON fails the job instead.
import { mkdtempSync, writeFileSync, chmodSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, Job } from 'bullmq';
import {
	connection, ok, same, until, qname, master, stopMaster, showLog, main,
	listen, redis,
} from './lib.mjs';

const SCRIPT = `#!/bin/sh
in=$(cat)
case $in in
*mode-object*) echo '{"ok":true,"u":"\u00fc \u65e5"}' ;;
*mode-number*) echo 42 ;;
*mode-string*) echo '"quoted"' ;;
*mode-empty*) ;;
*mode-plain*) printf 'hello world' ;;
*mode-broken*) printf '{"a":' ;;
*mode-lines*) printf 'line1\\nline2\\n' ;;
*mode-fail*) echo 'exec failure reason' >&2; exit 3 ;;
*) echo '"unknown"' ;;
esac
`;

// mode, what Node must read back: a value, or 'failed'.
const CASES = [
	['object', { ok: true, u: 'ü 日' }],
	['number', 42],
	['string', 'quoted'],
	['empty', null],
	['plain', 'failed'],
	['broken', 'failed'],
	['lines', 'failed'],
	['fail', 'failed'],
];

await main('07-exec-returnvalue', async () => {
	const dir = mkdtempSync(join(tmpdir(), 'bullmq-interop-'));
	const prog = join(dir, 'proc.sh');
	writeFileSync(prog, SCRIPT);
	chmodSync(prog, 0o755);
	const name = qname('i7');
	const q = new Queue(name, { connection });
	const [qe, rec] = await listen(name);
	const ids = {};
	for (const [mode] of CASES)
		ids[mode] = (await q.add(mode, { mode: `mode-${mode}` })).id;

	const m = master(name, `exec:${prog}`, { workers: 1 });
	const done = await until(async () => {
		const c = await q.getJobCounts('completed', 'failed');
		return c.completed + c.failed === CASES.length;
	}, 20000, m);
	ok(done, 'exec processor: every job finished', await q.getJobCounts());

	const r = redis();
	for (const [mode, want] of CASES) {
		const id = ids[mode];
		const j = await Job.fromId(q, id);
		const raw = await r.hget(`bull:${name}:${id}`, 'returnvalue');
		let valid = true;
		if (raw !== null) {
			try {
				JSON.parse(raw);
			} catch {
				valid = false;
			}
		}
		ok(valid, `${mode}: stored returnvalue is valid JSON`, raw);
		if (want === 'failed') {
			same(await j?.getState(), 'failed', `${mode}: job failed`);
			ok(typeof j?.failedReason === 'string' &&
			    j.failedReason.length > 0,
			    `${mode}: with a failedReason`, j?.failedReason);
		} else {
			same(await j?.getState(), 'completed',
			    `${mode}: job completed`);
			same(j?.returnvalue, want, `${mode}: returnvalue as printed`);
		}
	}
	const fr = (await Job.fromId(q, ids.fail))?.failedReason ?? '';
	ok(fr.includes('exec failure reason'),
	    'failing program: its stderr is the failedReason', fr);
	r.disconnect();

	// QueueEvents saw it all and is still alive.
	const last = await q.add('after', { mode: 'mode-object' });
	ok(await until(() => rec.list.some((e) => e.ev === 'completed' &&
	    e.jobId === last.id), 10000, m),
	    'QueueEvents still hears completed events after all of them');
	same(rec.errors, [], 'QueueEvents emitted no error');
	for (const [mode, want] of CASES) {
		const ev = rec.list.find((e) => e.jobId === ids[mode] &&
		    (e.ev === 'completed' || e.ev === 'failed'));
		if (want === 'failed')
			same(ev?.ev, 'failed', `${mode}: failed event`);
		else
			same([ev?.ev, ev?.returnvalue], ['completed', want],
			    `${mode}: completed event with the parsed value`);
	}

	const st = await stopMaster(m);
	ok(st.code === 0, 'bullmq-master exits 0 on TERM', st);
	if (!done || st.code !== 0)
		showLog(m);
	await qe.close();
	await q.close();
	rmSync(dir, { recursive: true, force: true });
});
