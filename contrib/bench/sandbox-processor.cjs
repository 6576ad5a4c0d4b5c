// contrib/bench/sandbox-processor.cjs: the processor file of the sandbox
// workload, run by Node's sandboxed Worker and, unchanged, by
// bullmq-master's pipe: processor with contrib/processors/node: it returns
// null at once, or after data.ms milliseconds.
module.exports = async function (job) {
	const ms = Number(job.data && job.data.ms);
	if (ms > 0)
		await new Promise((r) => setTimeout(r, ms));
	return null;
};
