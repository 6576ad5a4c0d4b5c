/*
 * fuzz_bulk.c: libFuzzer target for the line format of bullmq add-bulk:
 * the input is its standard input, read by bulk_read as the first pass
 * reads it, checking each line and sending nothing.  Lines are JSON
 * objects with name, data and opts.  src/cli/add.c is included for its
 * static functions.
 */
#include "add.c"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cli		 cli;
	struct bulk_state	 st;
	FILE			*in;

	if (size == 0 || (in = fmemopen((void *)data, size, "r")) == NULL)
		return 0;
	memset(&cli, 0, sizeof(cli));
	memset(&st, 0, sizeof(st));
	st.batch = BULK_BATCH;
	if (bulk_read(&cli, &st, in, NULL, 0) == -1)
		abort();	/* only reading or the connection fail */
	fclose(in);
	return 0;
}
