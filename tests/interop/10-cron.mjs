// Cron patterns as bullmq 6.7's own parser (cron-parser, from npm, the
// version bullmq pins) reads them: `bullmq cron` must give the same next
// times, or refuse what it refuses; then job schedulers with "NL" and "#"
// patterns run by a C worker create the same next iterations as a Node
// Worker's.
import { Queue, Worker } from 'bullmq';
import { CronExpressionParser } from 'cron-parser';
import {
	connection, ok, same, until, qname, master, stopMaster, showLog, main,
	cli,
} from './lib.mjs';

// [pattern, tz, hashSeed]; each from several start times.
const PATTERNS = [
	['0 10 * * 6L'], ['0 0 * * 1#2'], ['0 0 * * 5L'], ['0 0 * * 0L'],
	['0 0 * * 7L'], ['30 8 * * 1,5L'], ['0 0 * * 1-3L'], ['0 0 * * mon#1'],
	['0 0 * * 5#5'], ['0 0 * * *#3'], ['0 12 L * *'], ['0 0 15L * *'],
	['0 0 1,L * *'], ['0 0 L 2 *'], ['0 0 13 * 5L'], ['0 0 L * 6L'],
	['0 9 * * 6L', 'Europe/Berlin'], ['0 2 * * 0#5', 'America/New_York'],
	['30 1 * * 0L', 'Europe/London'],
	['H * * * *', null, 'seed-1'], ['H H * * *', null, 'abc'],
	['H/15 * * * *', null, 'job-x'], ['0 H(8-17) * * *', null, 'k'],
	['H(0-29)/10 * * * *', null, 'zz'], ['0 0 H * *', null, 'month'],
	['0 0 * * H', null, 'dow'], ['H H H * * *', null, 'sec'],
	['0 0 * H *', null, 'mon'],
	// refused by cron-parser, so by us
	['0 0 * * L'], ['0 0 1W * *'], ['0 0 * * 1#6'], ['0 0 * * 1#2,3'],
	['0 0 1,1 * *'], ['0 0 * * 0,7'], ['0 0 * * 1-2#2'], ['H * * * *'],
	['0 0 LW * *'], ['0 0 * * 1#0'], ['* * * * * * *'], ['0 0 32 * *'],
	['0 0 * * 8'], ['*/0 * * * *'], ['0 0 L-3 * *'],
	// the usual ones stay right
	['*/5 * * * *'], ['0 9 * * 1-5'], ['0 0 29 2 *'], ['15,45 */2 * * *'],
	['@weekly'], ['0 0 12 ? * wed'], ['0 0 * * 5-7'], ['1-10/3 * * * *'],
];
const STARTS = [1700000000123, 1711846800000, 1735689599000, 1709164800000];

// Node's next n times, or null when cron-parser refuses the pattern.
function nodeNext(pattern, tz, seed, after, n) {
	let it;
	try {
		const o = { currentDate: new Date(after) };
		if (tz)
			o.tz = tz;
		if (seed)
			o.hashSeed = seed;
		it = CronExpressionParser.parse(pattern, o);
	} catch {
		return null;
	}
	const out = [];
	for (let i = 0; i < n; i++) {
		try {
			out.push(it.next().getTime());
		} catch {
			break;
		}
	}
	return out;
}

// Ours, from `bullmq --json cron`, or null when it refuses the pattern.
function cNext(pattern, tz, seed, after, n) {
	const args = ['--json', 'cron', pattern, '--after', String(after),
	    '-n', String(n)];
	if (tz)
		args.push('--tz', tz);
	if (seed)
		args.push('--seed', seed);
	const r = cli(args);
	if (r.status !== 0)
		return { refused: true, stderr: r.stderr };
	return { times: r.stdout.trim().split('\n').filter((l) => l !== '')
	    .map(Number) };
}

await main('10-cron', async () => {
	let n = 0;
	for (const [pattern, tz, seed] of PATTERNS) {
		for (const after of STARTS) {
			const want = nodeNext(pattern, tz, seed, after, 6);
			const got = cNext(pattern, tz, seed, after, 6);
			const what = `cron "${pattern}"${tz ? ' tz ' + tz : ''}` +
			    `${seed ? ' seed ' + seed : ''} after ${after}`;
			if (/H/.test(pattern) && !seed) {
				// random in cron-parser: we refuse it, saying so
				ok(got.refused && /hashSeed/.test(got.stderr),
				    `${what}: refused (H is random without a ` +
				    'seed)', got);
			} else if (want === null) {
				ok(got.refused && /cron/.test(got.stderr),
				    `${what}: refused as cron-parser refuses it`,
				    got);
			} else {
				same(got.times, want, `${what}: next times as ` +
				    'cron-parser');
			}
			n++;
		}
	}
	ok(n === PATTERNS.length * STARTS.length, `${n} pattern checks ran`);

	// A scheduler whose pattern is "NL" or "#": the C worker makes the
	// next iteration as a Node worker does, month after month.
	for (const rep of [{ pattern: '0 10 * * 6L' },
	    { pattern: '0 0 * * 1#2' },
	    { pattern: 'H H * * *', hashSeed: 'tick-seed' }]) {
		const pattern = rep.pattern;
		const runs = {};
		for (const side of ['node', 'c']) {
			const name = qname(`i10${side}`);
			const q = new Queue(name, { connection });
			await q.upsertJobScheduler('s', rep,
			    { name: 'tick', data: { side } });
			const seen = [];
			let w = null, m = null;
			if (side === 'node')
				w = new Worker(name, async () => null,
				    { connection });
			else
				m = master(name, 'builtin:noop', { workers: 1 });
			// three iterations: each promoted, processed, and
			// replaced by the next
			for (let i = 0; i < 3; i++) {
				let j = null;
				await until(async () => {
					const d = await q.getDelayed();
					j = d.find((x) => !seen.includes(x.id));
					return j;
				}, 15000, `${side} ${pattern}: iteration ${i}`);
				seen.push(j.id);
				await j.promote();
				await until(async () =>
				    (await q.getJobState(j.id)) === 'completed',
				    15000, `${side} ${pattern}: ${j.id} done`);
			}
			await until(async () => (await q.getDelayed()).some(
			    (x) => !seen.includes(x.id)), 15000,
			    `${side} ${pattern}: a 4th iteration`);
			const d = await q.getDelayed();
			seen.push(d.find((x) => !seen.includes(x.id)).id);
			runs[side] = seen.map((id) => id.split(':').pop());
			if (w)
				await w.close();
			if (m && !(await stopMaster(m)))
				showLog(m);
			await q.obliterate({ force: true });
			await q.close();
		}
		ok(runs.c.length === 4, `"${pattern}": the C worker made 3 ` +
		    'successors', runs);
		same(runs.c, runs.node, `"${pattern}": the C worker's ` +
		    'iterations are at the times a Node worker gives');
	}

	// A pattern Node takes but we cannot follow (H with no seed is
	// random there): the C worker says so, naming the scheduler.
	{
		const name = qname('i10h');
		const q = new Queue(name, { connection });
		await q.upsertJobScheduler('nightly', { pattern: 'H 3 * * *' },
		    { name: 'tick' });
		const [j] = await q.getDelayed();
		await j.promote();
		const m = master(name, 'builtin:noop', { workers: 1 });
		await until(async () =>
		    (await q.getJobState(j.id)) === 'completed', 15000,
		    'H 3 * * *: first iteration done');
		await until(() => /scheduler nightly: no next iteration/
		    .test(m.log), 5000, 'the warning').catch(() => {});
		ok(/job repeat:nightly:\d+: scheduler nightly: no next /
		    .test(m.log) && /hashSeed/.test(m.log), 'an unreadable ' +
		    'pattern is logged with the job and the scheduler', m.log);
		if (!(await stopMaster(m)))
			showLog(m);
		await q.obliterate({ force: true });
		await q.close();
	}
});
