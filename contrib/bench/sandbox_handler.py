"""contrib/bench/sandbox_handler.py: the sandbox workload's handler in
Python, through contrib/processors/python: returns None at once, or after
data["ms"] milliseconds."""
import os
import sys
import time

sys.path.insert(0, os.environ["BENCH_PY_MODULE_DIR"])
from bullmq_processor import run  # noqa: E402


def handle(job):
    ms = (job.data or {}).get("ms")
    if ms:
        time.sleep(ms / 1000)
    return None


run(handle)
