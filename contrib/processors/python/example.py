#!/usr/bin/env python3
"""An example pipe: handler: doubles data.n, fails jobs without it, and
postpones jobs whose data asks for it.

    bullmq-master -q numbers -x 'pipe:/usr/bin/python3 /path/example.py'
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bullmq_processor import run, Unrecoverable  # noqa: E402


def handle(job):
    print("job", job.id, "attempt", job.attempts_made + 1)
    if job.data.get("later_ms"):
        job.delay(time.time() * 1000 + job.data["later_ms"])
    if "n" not in job.data:
        raise Unrecoverable("data.n is missing")
    job.progress(100)
    return {"doubled": job.data["n"] * 2}


run(handle)
