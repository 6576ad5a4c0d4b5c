"""bullmq_processor: write bullmq-master pipe: handlers in Python 3.

A handler is a function of one argument, the job; what it returns (any
JSON value) completes the job, what it raises fails it:

    from bullmq_processor import run, Unrecoverable

    def handle(job):
        job.progress(10)
        job.log("sending to %s" % job.data["to"])
        if not job.data.get("to"):
            raise Unrecoverable("no recipient")
        return {"sent": True}

    run(handle)

and the master runs it with

    bullmq-master -q emails -x 'pipe:/usr/bin/python3 /app/handler.py'

The job has id, name, data, opts, attempts_made, attempts_started,
timestamp, token, queue, prefix, parent_key and the raw line as `fields`;
progress(), log(), update_data(), add(), children_values(),
ignored_failures(), dependencies_count(); and the moves that end a job
other than by returning: delay(until_ms), wait(), rate_limit(ms) and
wait_children() (True when it moved the job: the handler should then
return at once).  The protocol is bullmq-processor(7); print() goes to
stderr, which the master logs.
"""

import json
import sys
import traceback

PROTOCOL = 1


class Unrecoverable(Exception):
    """Raise to fail a job without retrying it."""


class _Ended(Exception):
    """The job has ended by a move; nothing more is sent for it."""


class Job:
    """One job, as the child describes it."""

    def __init__(self, conn, fields):
        self._conn = conn
        self.fields = fields
        self.id = fields.get("id")
        self.name = fields.get("name")
        self.data = fields.get("data")
        self.opts = fields.get("opts") or {}
        self.attempts_made = fields.get("attemptsMade", 0)
        self.attempts_started = fields.get("attemptsStarted", 0)
        self.timestamp = fields.get("timestamp")
        self.token = fields.get("token")
        self.queue = fields.get("queue")
        self.prefix = fields.get("prefix")
        self.parent_key = fields.get("parentKey")
        self.ended = False

    def progress(self, value):
        self._conn.send({"type": "progress", "progress": value})

    def log(self, line):
        self._conn.send({"type": "log", "line": str(line)})

    def update_data(self, data):
        self._conn.ask("update", data=data)
        self.data = data

    def add(self, name, data=None, opts=None, queue=None):
        """Add a job (to this queue unless queue is given); its id."""
        msg = {"name": name, "data": {} if data is None else data}
        if opts is not None:
            msg["opts"] = opts
        if queue is not None:
            msg["queue"] = queue
        return self._conn.ask("add", **msg)

    def children_values(self):
        return self._conn.ask("children-values")

    def ignored_failures(self):
        return self._conn.ask("ignored-failures")

    def dependencies_count(self):
        return self._conn.ask("dependencies-count")

    def _end(self, msg):
        self.ended = True
        self._conn.send(msg)
        raise _Ended()

    def delay(self, until_ms):
        """Move to delayed until until_ms, counting no attempt."""
        self._end({"type": "delay", "until": int(until_ms)})

    def wait(self):
        """Move back to the front of the wait list."""
        self._end({"type": "wait"})

    def rate_limit(self, ms=None):
        """Limit the queue for ms and move the job back to wait."""
        msg = {"type": "rate-limit"}
        if ms is not None:
            msg["ms"] = int(ms)
        self._end(msg)

    def wait_children(self, child=None):
        """Wait for the children; False when none is pending."""
        fields = {} if child is None else {"child": child}
        if self._conn.ask("wait-children", **fields):
            self.ended = True
            raise _Ended()
        return False


class _Conn:
    def __init__(self, rfile, wfile):
        self.r = rfile
        self.w = wfile
        self.seq = 0

    def send(self, msg):
        self.w.write(json.dumps(msg, separators=(",", ":")) + "\n")
        self.w.flush()

    def read(self):
        line = self.r.readline()
        if not line:
            return None
        return json.loads(line)

    def ask(self, type_, **fields):
        self.seq += 1
        msg = {"type": type_, "req": self.seq}
        msg.update(fields)
        self.send(msg)
        while True:
            m = self.read()
            if m is None:
                raise SystemExit(0)
            if m.get("type") == "answer" and m.get("req") == self.seq:
                if "error" in m:
                    raise RuntimeError(m["error"])
                return m.get("result")


def run(handler, backoff=None):
    """Serve jobs to handler until the master closes our input.

    backoff, if given, is a custom backoff strategy: called as
    backoff(attempts_made, type, reason, fields) for a job to retry whose
    opts.backoff.type is neither fixed nor exponential, it returns the
    delay in ms (0: at once, -1: no retry)."""
    out = sys.stdout
    sys.stdout = sys.stderr  # print() must not write to the protocol
    conn = _Conn(sys.stdin, out)
    while True:
        m = conn.read()
        if m is None:
            return
        t = m.get("type")
        if t == "hello":
            conn.send({"type": "hello", "protocol": PROTOCOL})
        elif t == "backoff":
            delay = 0
            if backoff is not None:
                try:
                    delay = int(backoff(m.get("attemptsMade"),
                                        m.get("backoffType"),
                                        m.get("reason"), m))
                except Exception:  # a broken strategy: retry at once
                    traceback.print_exc()
            conn.send({"type": "answer", "req": m.get("req"),
                       "result": delay})
        elif t == "job":
            job = Job(conn, m)
            try:
                result = handler(job)
                conn.send({"type": "done", "result": result})
            except _Ended:
                pass
            except Unrecoverable as e:
                conn.send({"type": "fail", "reason": str(e) or "failed",
                           "unrecoverable": True})
            except Exception as e:  # any other error fails the job
                traceback.print_exc()
                conn.send({"type": "fail",
                           "reason": str(e) or type(e).__name__})
