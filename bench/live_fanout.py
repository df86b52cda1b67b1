"""Live room fan-out benchmark: delivery latency, losses and server memory with hundreds of sockets in one room.

    .venv/bin/python bench/live_fanout.py           # the full run: 200 and 500 clients, gevent and threading
    .venv/bin/python bench/live_fanout.py --quick   # 50 clients, 30 messages: to try it out
    .venv/bin/python bench/live_fanout.py --clients 500 --messages 100 --modes gevent --servers app
    .venv/bin/python bench/live_fanout.py --database postgresql   # the app on a private PostgreSQL database

Progress goes to stderr; the last line of stdout is one JSON object with every figure. Everything lives in a
temporary directory that is removed afterwards (a private PostgreSQL database with --database postgresql, dropped
afterwards), the only network traffic is to 127.0.0.1, and every server and client process is stopped at the end.

For each server (the app, and bench/live_bare_server.py, a Flask-SocketIO server that only broadcasts), each async
mode (`gevent`: gunicorn -k gevent -w 1; `threading`: gunicorn -k gthread -w 1 with a thread per socket and more)
and each number of clients, a fresh server is started and:

1. setup: for the app, a mentor (the host) creates a session over the API and every participant registers for it;
   the accounts and their API tokens were made once, in Python, on a database made by `flask db upgrade`.
2. connect: client processes (4 by default) each open their share of the sockets to namespace `/live` with
   {"token": ...}, and `join` the session; the host first, who also sends `start`. All sockets are in one room.
   Then the bench waits until the server's CPU is idle again (presence updates of the joins are over).
3. messages: a few participants ("senders") send `chat` at a steady pace, together `--rate` a second, each well
   under the app's 10 events a second per socket. The text carries the send time (time.monotonic(), which all
   processes of this machine share), so each receiver takes its latency from the `event` it gets.
4. drain: once every chat is acknowledged, the clients wait until each socket has every acknowledged seq, or until
   --drain-timeout; then each socket's events are checked: lost (an acknowledged seq never received), duplicated
   (a seq received twice) and out of order (a seq not above the one before), as they arrived; and `page_view`, the
   same figures for what the room page would show after its buffer (static/js/live.js: next seq only, repeats
   dropped, later events held back after a gap, the hole asked for with `join` after a second), with how many
   events it held back and for how long.

Figures per run: p50/p90/p99/max delivery latency in ms over every (socket, message), and `fanout_ms`, per message
the latency of its last receiver (with N sockets a message is N deliveries, so p99 rests on the slowest few
messages: `fanout_ms.slowest` shows them; hence 200 messages by default, where the issue asks for at least 100);
lost, duplicated and out of order; the server's peak memory (VmHWM of the gunicorn worker, from /proc) and CPU time;
the client processes' CPU share while sending (near 1.0 would mean a client could not keep up, so the figures would
measure the clients); and `other_cpu_share`, the machine's CPU used meanwhile by neither the server nor the clients
(above 0.1 the run was disturbed, and a warning says so). `ratios_app_over_bare_p99` gives app p99 / bare p99 per
mode and client count, `targets_met` the issue's targets, `modes_compared` the app's figures per mode at the most
clients and `best_mode` the one with the lowest median latency that lost nothing.

The clients are python-socketio's asyncio client, socketio.AsyncClient, on its websocket transport (aiohttp's, from
requirements-dev.txt), without reconnection. Each client process runs one asyncio loop with its share of the clients,
whose WebSockets share one aiohttp session: a process follows a few hundred sockets on one thread, where
python-socketio's threaded client would need two threads per socket. A delivery's latency ends when the client's
`event` handler is called with the decoded event. The full run takes about four minutes on two cores.
"""

import argparse
import asyncio
import collections
import contextlib
import importlib
import itertools
import json
import multiprocessing
import os
import platform
import re
import resource
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import socketio

ROOT = Path(__file__).resolve().parent.parent


def import_markdown_package():
    """Import the Markdown package before the app does: while bench/ is on the path (it is for every script run
    from it, and for their worker processes), its markdown.py would be found instead."""
    saved = sys.path[:]
    sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != ROOT / "bench"]
    try:
        importlib.import_module("markdown")
    finally:
        sys.path[:] = saved


import_markdown_package()
NAMESPACE = "/live"
PASSWORD = "correct horse battery"  # noqa: S105 (made-up people on a throwaway database)
HASH_METHOD = "pbkdf2:sha256:1000"  # only API tokens are used; a cheap hash makes 500 accounts in a second
EVENTS_PER_SOCKET_LIMIT = 10  # per second: the app refuses more from one socket
TARGET_P99_MS = 60
TARGET_RATIO = 1.5
BUSY_MACHINE = 0.1  # other processes' share of the CPU above which a run's latencies say more about them
REFERENCE_BARE_500 = {"gevent": {"p50_ms": 24, "p99_ms": 42}, "threading": {"p50_ms": 55}}  # from the issue

REJOIN_DELAY = 1.0  # seconds the room page waits for a missing event before asking for it (static/js/live.js)
EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt|Warning)(: .*)?$")
FULL = {"clients": "200,500", "messages": 200}
QUICK = {"clients": "50", "messages": 30}


def log(message):
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def raise_fd_limit():
    """Every socket is a file descriptor on both ends: lift the soft limit to the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else 1 << 20
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def machine():
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": cpu,
        "python": platform.python_version(),
        "fd_limit": raise_fd_limit(),
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


# --- The client: python-socketio's asyncio client over a WebSocket. ----------------------------------------------


class Stop(Exception):
    """The coordinator ends the run early."""


async def acked(call):
    """The answer of a call and when it came (time.monotonic())."""
    answer = await call
    return answer, time.monotonic()


def timed_out(error):
    return isinstance(error, TimeoutError | socketio.exceptions.TimeoutError)


class LiveSocket:
    """One socketio.AsyncClient on namespace /live, and what it saw: each broadcast `event` with the time its
    handler got it (its seq and send time are read after the run), presence updates and other events counted, and
    why it closed."""

    def __init__(self, index, token, http):
        self.index, self.token = index, token
        self.client = socketio.AsyncClient(reconnection=False, handle_sigint=False, http_session=http)
        self.events = []  # (arrival monotonic, event)
        self._decoded = []
        self.presence = 0
        self.other = collections.Counter()  # other server events by name
        self.refusal = None
        self.closed_reason = None
        self.join_ack = None
        self.client.on("event", self._event, namespace=NAMESPACE)
        self.client.on("presence", self._presence, namespace=NAMESPACE)
        self.client.on("*", self._other, namespace=NAMESPACE)
        self.client.on("connect_error", self._refused, namespace=NAMESPACE)
        self.client.on("disconnect", self._disconnected, namespace=NAMESPACE)

    def _event(self, *events):  # several at once when the room is busy
        now = time.monotonic()
        self.events.extend((now, event) for event in events)

    def _presence(self, _presence):
        self.presence += 1

    def _other(self, name, *_args):
        self.other[name] += 1

    def _refused(self, data=None):
        self.refusal = data

    def _disconnected(self, reason=None):
        if self.closed_reason is None:
            self.closed_reason = f"disconnected ({reason})"

    @property
    def open(self):
        return self.client.connected and NAMESPACE in self.client.namespaces

    async def connect(self, url, timeout):
        options = {"auth": {"token": self.token}, "namespaces": [NAMESPACE], "transports": ["websocket"]}
        try:
            await asyncio.wait_for(self.client.connect(url, wait_timeout=timeout, **options), timeout)
        except socketio.exceptions.ConnectionError as error:
            if self.refusal is not None:
                raise RuntimeError(f"connect refused: {self.refusal}") from error
            raise

    async def call(self, event, data, timeout):
        """Emit `event` and return the payload of its ack."""
        return await self.client.call(event, data, namespace=NAMESPACE, timeout=timeout)

    async def close(self):
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.client.disconnect(), 5)

    def deliveries(self):
        """The broadcast events received so far: (seq, type, arrival, send time taken from a bench chat's text)."""
        for arrived, event in self.events[len(self._decoded) :]:
            data = event.get("data") or {}
            sent = None
            if event.get("type") == "chat" and isinstance(data.get("text"), str):
                words = data["text"].split()
                if len(words) == 4 and words[0] == "bench":
                    sent = float(words[3])
            self._decoded.append((event.get("seq"), event.get("type"), arrived, sent))
        return self._decoded


def page_view(deliveries, after_seq, rejoin_delay=REJOIN_DELAY):
    """What the room page (static/js/live.js) shows of one socket's arrivals, in the order it shows them.

    The page shows an event only when it is the next seq, drops repeats, and holds later events back after a gap;
    if the hole is still there `rejoin_delay` seconds later, it asks with `join` {after_seq}, whose answer brings
    every stored event (taken here as everything up to the highest one held back). Returns ([(seq, shown at,
    arrived at or None when fetched, sent at)], holes asked for); `deliveries` as LiveSocket.deliveries gives them.
    """
    arrivals = sorted((arrived, seq, sent) for seq, _type, arrived, sent in deliveries if isinstance(seq, int))
    last, held, shown, fetches = after_seq, {}, [], 0

    def fetch():
        nonlocal last, held, fetches
        asked_at = min(arrived for arrived, _sent in held.values()) + rejoin_delay
        for seq in range(last + 1, max(held) + 1):
            arrived, sent = held.get(seq, (None, None))
            shown.append((seq, asked_at, arrived, sent))
        last, held, fetches = max(held), {}, fetches + 1

    for arrived, seq, sent in arrivals:
        if held and arrived - min(when for when, _sent in held.values()) > rejoin_delay:
            fetch()
        if seq <= last or seq in held:
            continue  # a repeat
        held[seq] = (arrived, sent)
        while last + 1 in held:
            last += 1
            arrived_at, sent_at = held.pop(last)
            shown.append((last, arrived, arrived_at, sent_at))
    if held:
        fetch()
    return shown, fetches


def page_figures(shown, expected):
    """In what the page shows: events not right after the one before (out of order), shown twice, or missing; and
    how long events were held back after a gap, as a histogram in whole milliseconds (a run has millions)."""
    seqs = [seq for seq, _at, _arrived, _sent in shown]
    held = collections.Counter(
        round((at - arrived) * 1000) for _seq, at, arrived, _sent in shown if arrived is not None and at > arrived
    )
    return {
        "out_of_order": sum(1 for before, after in itertools.pairwise(seqs) if after != before + 1),
        "shown_twice": len(seqs) - len(set(seqs)),
        "lost": len(expected - set(seqs)),
        "held_back_ms": held,
    }


def histogram_percentile(counts, share):
    """The value at `share` of a histogram {value: count}."""
    rank = share * (sum(counts.values()) - 1)
    seen = 0
    for value in sorted(counts):
        seen += counts[value]
        if seen > rank:
            return value
    return None


def page_summary(results):
    """The room page's view over every socket of the client processes' results: page_figures summed, and how many
    events were held back after a gap, and for how long."""
    pages = [result["page"] for result in results]
    held = sum((page["held_back_ms"] for page in pages), collections.Counter())
    summed = ("out_of_order", "shown_twice", "lost", "holes_fetched")
    return {
        **{name: sum(page[name] for page in pages) for name in summed},
        "held_back": sum(held.values()),
        "held_back_p50_ms": histogram_percentile(held, 0.5),
        "held_back_p99_ms": histogram_percentile(held, 0.99),
        "held_back_max_ms": max(held) if held else None,
    }


class ClientProcess:
    """A share of the sockets, driven by the coordinator through a pipe: host, connect, go, expect, close. One
    asyncio loop follows them all; their WebSockets share one aiohttp session."""

    def __init__(self, pipe, spec):
        self.pipe, self.spec = pipe, spec
        self.url = f"http://{spec['server_host']}:{spec['port']}"
        self.sockets = {}
        self.http = None

    async def receive(self, expected):
        message = await asyncio.get_running_loop().run_in_executor(None, self.pipe.recv)
        if message[0] == "close" and expected != "close":
            raise Stop
        if message[0] != expected:
            raise RuntimeError(f"client process expected {expected!r}, got {message[0]!r}")
        return message[1]

    async def run(self):
        spec = self.spec
        # No limit on connections (each WebSocket holds one for the whole run), and no cookies shared by the users.
        self.http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), cookie_jar=aiohttp.DummyCookieJar())
        try:
            if spec.get("host"):
                host = await self.connect_one(spec["host"], start=True)
                self.pipe.send(("host", host))
            await self.receive("connect")
            started = time.monotonic()
            limit = asyncio.Semaphore(spec["connect_concurrency"])

            async def limited(client):
                async with limit:
                    return await self.connect_one(client)

            outcomes = await asyncio.gather(*(limited(client) for client in spec["clients"]))
            failures = [outcome["error"] for outcome in outcomes if not outcome["ok"]]
            self.pipe.send(("connected", {"seconds": time.monotonic() - started, "failures": failures}))
            start_at = await self.receive("go")
            cpu, wall = time.process_time(), time.monotonic()
            rows = await self.send_chats(start_at)
            cpu, wall = time.process_time() - cpu, time.monotonic() - wall
            self.pipe.send(("sent", {"rows": rows, "cpu_seconds": cpu, "cpu_share": cpu / wall}))
            expected = await self.receive("expect")
            result = await self.collect(set(expected["seqs"]), expected["timeout"], expected.get("origins"))
            self.pipe.send(("result", result))
            await self.receive("close")
        except Stop:
            pass
        finally:
            await asyncio.gather(*(sock.close() for sock in self.sockets.values()), return_exceptions=True)
            await self.http.close()

    async def connect_one(self, client, start=False):
        sock = LiveSocket(client["index"], client["token"], self.http)
        self.sockets[client["index"]] = sock
        timeout = self.spec["timeout"]
        stage = "connect"
        try:
            await sock.connect(self.url, timeout)
            stage = "join"
            join_ack = await sock.call("join", {"session_id": self.spec["session_id"], "after_seq": 0}, timeout)
            if not (isinstance(join_ack, dict) and join_ack.get("ok")):
                raise RuntimeError(f"answered {join_ack}")
            if start:
                stage = "start"
                ack = await sock.call("start", {"session_id": self.spec["session_id"]}, timeout)
                if not (isinstance(ack, dict) and ack.get("ok")):
                    raise RuntimeError(f"answered {ack}")
            sock.join_ack = join_ack
            return {"ok": True, "last_seq": join_ack.get("last_seq")}
        except Exception as error:
            await sock.close()
            reason = "no answer" if timed_out(error) else f"{type(error).__name__} {error}".strip()
            return {"ok": False, "error": f"client {client['index']}, {stage}: {reason}"}

    async def send_chats(self, start_at):
        """Each sender of this process sends its chats at their times; the acks are awaited afterwards."""

        async def sender(sock, schedule):
            pending = []
            for number, offset in schedule:
                await asyncio.sleep(max(0.0, start_at + offset - time.monotonic()))
                sent = time.monotonic()
                chat = {"session_id": self.spec["session_id"], "text": f"bench {sock.index} {number} {sent:.6f}"}
                pending.append(
                    (number, sent, asyncio.create_task(acked(sock.call("chat", chat, self.spec["timeout"]))))
                )
            rows = []
            for number, sent, ack in pending:
                try:
                    answer, answered = await ack
                except (socketio.exceptions.SocketIOError, TimeoutError) as error:
                    answer = error
                if isinstance(answer, dict) and answer.get("ok"):
                    rows.append(
                        {"number": number, "sent": sent, "seq": answer.get("seq"), "ack_ms": (answered - sent) * 1000}
                    )
                else:
                    rows.append({"number": number, "sent": sent, "error": repr(answer)})
            return rows

        senders = [
            sender(self.sockets[index], schedule)
            for index, schedule in self.spec["schedules"].items()
            if index in self.sockets and self.sockets[index].open
        ]
        missing = [
            index for index in self.spec["schedules"] if index not in self.sockets or not self.sockets[index].open
        ]
        results = [row for rows in await asyncio.gather(*senders) for row in rows]
        # Every process measures the same window, to the end of the whole schedule, for its CPU share.
        await asyncio.sleep(max(0.0, start_at + self.spec["duration"] - time.monotonic()))
        results += [
            {"number": number, "sent": None, "error": "the sender is not connected"}
            for index in missing
            for number, _offset in self.spec["schedules"][index]
        ]
        return results

    async def collect(self, expected, timeout, origins=None):
        """Wait until every open socket has every expected seq (or the timeout), then check each socket's stream.

        `origins` maps a seq to the server whose client sent it, when there are several: each server must send its
        own events in order (`out_of_order_per_server`), while the servers' streams may interleave."""
        deadline = time.monotonic() + timeout
        started = time.monotonic()
        while time.monotonic() < deadline:
            if all(expected <= {row[0] for row in sock.deliveries()} for sock in self.sockets.values() if sock.open):
                break
            await asyncio.sleep(0.25)
        waited = time.monotonic() - started
        latencies, lost, duplicated, out_of_order, sockets, closed = [], 0, 0, 0, 0, []
        out_of_order_per_server = 0
        page = {"out_of_order": 0, "shown_twice": 0, "lost": 0, "holes_fetched": 0}
        page["held_back_ms"] = collections.Counter()
        for sock in self.sockets.values():
            if sock.join_ack is None:
                continue  # never connected: counted as a connection failure
            sockets += 1
            if not sock.open:
                closed.append(f"client {sock.index}: {sock.closed_reason}")
            seen, previous, previous_from = set(), None, {}
            for seq, _type, arrived, sent in sock.deliveries():
                if seq in seen:
                    duplicated += 1
                    continue
                if previous is not None and (not isinstance(seq, int) or seq <= previous):
                    out_of_order += 1
                if origins and seq in origins:
                    server = origins[seq]
                    if previous_from.get(server, -1) >= seq:
                        out_of_order_per_server += 1
                    previous_from[server] = seq
                seen.add(seq)
                previous = seq if isinstance(seq, int) else previous
                if seq in expected and sent is not None:
                    latencies.append((seq, (arrived - sent) * 1000))
            lost += len(expected - seen)
            shown, fetches = page_view(sock.deliveries(), sock.join_ack.get("last_seq") or 0)
            page["holes_fetched"] += fetches
            for name, value in page_figures(shown, expected).items():
                page[name] += value
        return {
            "page": page,  # the same streams as the room page shows them (page_view)
            "latencies_ms": latencies,  # (seq, ms) per delivery
            "lost": lost,
            "duplicated": duplicated,
            "out_of_order": out_of_order,
            "out_of_order_per_server": out_of_order_per_server,
            "sockets": sockets,
            "closed": closed,
            "presence_updates": sum(sock.presence for sock in self.sockets.values()),
            "other_events": sum(sum(sock.other.values()) for sock in self.sockets.values()),
            "drain_seconds": waited,
        }


def client_main(pipe, spec):
    """Entry point of a client process."""
    raise_fd_limit()
    try:
        asyncio.run(ClientProcess(pipe, spec).run())
    except Exception as error:
        with contextlib.suppress(OSError):
            pipe.send(("error", f"{type(error).__name__}: {error}"))
        raise


# --- Servers. ----------------------------------------------------------------------------------------------------


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def worker_options(mode, clients):
    """gunicorn flags for one worker of the mode. gunicorn refuses connections beyond --worker-connections (1000
    by default) without a word, so it is raised; in threading mode each socket holds a gthread thread for life."""
    connections = ["-w", "1", "--worker-connections", str(max(4000, 4 * clients))]
    if mode == "gevent":
        return ["-k", "gevent", *connections]
    return ["-k", "gthread", "--threads", str(clients + 100), *connections]


@contextlib.contextmanager
def gunicorn(kind, mode, clients, env, workdir, timeout=60):
    """Serve the app (`wsgi:app`) or the bare server with one worker; yield {port, pid} (the master's pid); stop
    it afterwards and add `log_errors`, what went wrong according to its log."""
    port = free_port()
    env = {**env, "SOCKETIO_ASYNC_MODE": mode, "SITE_URL": f"http://127.0.0.1:{port}"}
    command = [str(Path(sys.executable).parent / "gunicorn"), *worker_options(mode, clients)]
    command += ["--bind", f"127.0.0.1:{port}", "--timeout", "120", "--log-level", "warning"]
    command += ["wsgi:app"] if kind == "app" else ["--pythonpath", str(ROOT / "bench"), "live_bare_server:app"]
    log_path = workdir / f"gunicorn-{kind}-{mode}-{clients}.log"
    server = {"port": port}
    with open(log_path, "w+") as server_log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=server_log, stderr=subprocess.STDOUT)
        server["pid"] = process.pid
        try:
            deadline = time.monotonic() + timeout
            while not answers(port, "/health" if kind == "bare" else "/"):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn ({kind}, {mode}) did not start:\n{log_path.read_text()[-3000:]}")
                time.sleep(0.3)
            yield server
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            server["log_errors"] = log_errors(log_path.read_text())


def log_errors(text):
    """What went wrong according to a server log: how many tracebacks, and the commonest exception lines (threads
    write their tracebacks at the same time, so the lines of several may be interleaved)."""
    exceptions = collections.Counter(
        line.strip()[:300] for line in text.splitlines() if EXCEPTION_LINE.match(line) and not line.startswith(" ")
    )
    errors = [line.strip()[:300] for line in text.splitlines() if "[ERROR]" in line or "[CRITICAL]" in line]
    tracebacks = text.count("Traceback (most recent call last)")
    if not (tracebacks or errors):
        return None
    return {
        "tracebacks": tracebacks,
        "exceptions": dict(exceptions.most_common(3)),
        **({"gunicorn_errors": errors[:3]} if errors else {}),
    }


def answers(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as response:
            return response.status < 500
    except urllib.error.HTTPError as error:
        return error.code < 500
    except OSError:
        return False


def server_processes(pid):
    """The gunicorn master and its workers."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    return [pid, *map(int, children)]


def status_kb(pid, field):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return 0


def server_memory(pid):
    """Peak (VmHWM) and current (VmRSS) resident memory in MB of the worker(s), and of the master."""
    workers = server_processes(pid)[1:]
    return {
        "server_peak_mb": round(sum(status_kb(worker, "VmHWM") for worker in workers) / 1024, 1),
        "server_rss_mb": round(sum(status_kb(worker, "VmRSS") for worker in workers) / 1024, 1),
        "master_peak_mb": round(status_kb(pid, "VmHWM") / 1024, 1),
        "server_threads": sum(status_kb(worker, "Threads") for worker in workers),
    }


def cpu_seconds(pids):
    ticks = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime and stime
    return ticks / os.sysconf("SC_CLK_TCK")


def settle(pid, quiet=1.5, quiet_share=0.05, most=60):
    """Wait until the server uses under `quiet_share` of a core for `quiet` seconds: the joins and the presence
    lists they cause are over (the app sends presence at most once a second)."""
    started = time.monotonic()
    pids = server_processes(pid)
    while time.monotonic() - started < most:
        before = cpu_seconds(pids)
        time.sleep(quiet)
        if cpu_seconds(pids) - before < quiet_share * quiet + 1e-9:
            break
    return round(time.monotonic() - started, 1)


# --- The app's side: database, accounts, the session. ------------------------------------------------------------


@contextlib.contextmanager
def database(kind, workdir, postgres_url):
    """A SQLite file in the work folder, or a private PostgreSQL database created here and dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'bench.db'}"
        return
    import psycopg
    from psycopg import sql

    name = sql.Identifier(f"bench_live_{os.getpid()}")
    with psycopg.connect(f"{postgres_url}/postgres", autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(name))
    try:
        yield f"{postgres_url}/bench_live_{os.getpid()}"
    finally:
        with psycopg.connect(f"{postgres_url}/postgres", autocommit=True) as connection:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))


def app_environment(database_url, workdir):
    return {
        **os.environ,
        "APP_ENV": "production",
        "SECRET_KEY": secrets.token_hex(32),
        "SITE_URL": "http://127.0.0.1",
        "DATABASE_URL": database_url,
        "INSTANCE_PATH": str(workdir / "instance"),
        "RATELIMIT_STORAGE_URI": "swept-memory://",
        "FLASK_APP": "wsgi.py",
    }


def database_settings(env):
    """The app's database for this run: config.py read DATABASE_URL once, when the first run imported it."""
    return {"SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)}


def prepare_app_database(env, participants):
    """The schema and the framework through the flask commands, then the accounts and their tokens in Python."""
    flask = str(Path(sys.executable).parent / "flask")
    for command in (["db", "upgrade"], ["framework", "load"]):
        subprocess.run([flask, *command], cwd=ROOT, env=env, check=True, capture_output=True, timeout=300)
    os.environ.update({key: env[key] for key in ("APP_ENV", "SECRET_KEY", "DATABASE_URL", "INSTANCE_PATH", "SITE_URL")})
    sys.path.insert(0, str(ROOT))
    from community import create_app
    from community.auth import services
    from community.extensions import db

    app = create_app("production", {"PASSWORD_HASH_METHOD": HASH_METHOD, **database_settings(env)})
    with app.app_context():
        host = services.create_user("host@bench.example.org", "Bench Host", PASSWORD, role="mentor")
        people = [
            services.create_user(f"p{number}@bench.example.org", f"Bench Person {number}", PASSWORD)
            for number in range(1, participants + 1)
        ]
        tokens = [services.issue_api_token(user, "bench")[1] for user in (host, *people)]
        db.session.commit()
        db.engine.dispose()
    return tokens  # the host's first


def api(port, method, path, token, body=None):
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (http://127.0.0.1 only)
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")[:500]


def registered(answer):
    status, body = answer
    return status in (200, 201) and isinstance(body, dict) and body.get("status") == "registered"


def open_session(port, tokens):
    """The host creates a session; every participant registers for it. Returns its id."""
    now = datetime.now(UTC).astimezone()
    status, session = api(port, "POST", "/api/v1/sessions", tokens[0], {
        "title": "Bench", "agenda": "", "starts_at": (now + timedelta(hours=1)).isoformat(),
        "ends_at": (now + timedelta(hours=2)).isoformat(), "timezone": "America/Sao_Paulo", "capacity": 1000,
        "language": "pt_BR", "practice_areas": ["DM"], "criteria": [], "video_url": "",
    })  # fmt: skip
    if status != 201:
        raise RuntimeError(f"POST /api/v1/sessions answered {status}: {session}")
    session_id = session["id"]

    def register(token):
        return api(port, "POST", f"/api/v1/sessions/{session_id}/registration", token)

    with ThreadPoolExecutor(8) as pool:
        refused = [answer for answer in pool.map(register, tokens[1:]) if not registered(answer)]
    if refused:
        raise RuntimeError(f"{len(refused)} registrations refused, e.g. {refused[0]}")
    return session_id


# --- One run. ----------------------------------------------------------------------------------------------------


def schedules(clients, messages, rate, senders):
    """Message k goes at k / rate seconds from the start, from sender k % senders (participants 1..senders)."""
    plan = {index: [] for index in range(1, senders + 1)}
    for number in range(messages):
        plan[1 + number % senders].append((number, number / rate))
    return plan


class Coordinator:
    """Starts the client processes of one run and drives them stage by stage."""

    def __init__(self, processes, port, session_id, tokens, clients, plan, args):
        context = multiprocessing.get_context("spawn")
        self.pipes, self.processes = [], []
        shares = [[] for _ in range(processes)]
        for index in range(1, clients):
            shares[index % processes].append({"index": index, "token": tokens[index]})
        for number, share in enumerate(shares):
            mine = {index for index in plan if index % processes == number}
            spec = {
                "server_host": "127.0.0.1",
                "port": port,
                "session_id": session_id,
                "host": {"index": 0, "token": tokens[0]} if number == 0 else None,
                "clients": share,
                "schedules": {index: plan[index] for index in mine},
                "duration": max(offset for schedule in plan.values() for _number, offset in schedule),
                "timeout": args.timeout,
                "connect_concurrency": args.connect_concurrency,
            }
            parent, child = context.Pipe()
            process = context.Process(target=client_main, args=(child, spec), daemon=True)
            process.start()
            child.close()
            self.pipes.append(parent)
            self.processes.append(process)

    def receive(self, pipe, expected, timeout):
        if not pipe.poll(timeout):
            raise RuntimeError(f"a client process did not report {expected!r} within {timeout:.0f}s")
        kind, payload = pipe.recv()
        if kind != expected:
            raise RuntimeError(f"a client process reported {kind!r} instead of {expected!r}: {payload}")
        return payload

    def gather(self, expected, timeout):
        return [self.receive(pipe, expected, timeout) for pipe in self.pipes]

    def tell(self, kind, payload=None):
        for pipe in self.pipes:
            pipe.send((kind, payload))

    def stop(self):
        for pipe in self.pipes:
            with contextlib.suppress(OSError):
                pipe.send(("close", None))
        for process in self.processes:
            process.join(timeout=15)
            if process.is_alive():
                process.kill()
                process.join()


def machine_cpu():
    """Busy and total CPU seconds of the whole machine so far, all cores together (/proc/stat)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    ticks = os.sysconf("SC_CLK_TCK")
    total = sum(fields[:8])
    return (total - fields[3] - fields[4]) / ticks, total / ticks  # idle and iowait are not busy


def measure(kind, mode, clients, args, env, workdir, tokens):
    """One server, one mode, one number of clients (the host included): the figures of the run, or its error."""
    server = {}
    try:
        with gunicorn(kind, mode, clients, env, workdir) as server:
            figures = drive(kind, mode, clients, args, server["port"], server["pid"], tokens)
    except (OSError, EOFError, RuntimeError, subprocess.SubprocessError) as error:
        figures = {"clients": clients, "error": f"{type(error).__name__}: {str(error)[:2000]}"}
    if server.get("log_errors"):
        figures["server_log_errors"] = server["log_errors"]
        log(f"{kind}/{mode}/{clients}: errors in the server log: {server['log_errors']}")
    return figures


def drive(kind, mode, clients, args, port, pid, tokens):
    """Set the room up, connect the clients, send the chats and gather what every socket saw."""
    session_id = open_session(port, tokens[:clients]) if kind == "app" else 1
    plan = schedules(clients, args.messages, args.rate, args.senders)
    coordinator = Coordinator(args.processes, port, session_id, tokens, clients, plan, args)
    try:
        host = coordinator.receive(coordinator.pipes[0], "host", args.timeout + 30)
        if not host["ok"]:
            raise RuntimeError(f"the host could not open the room: {host['error']}")
        started = time.monotonic()
        coordinator.tell("connect")
        connected = coordinator.gather("connected", args.timeout * 4 + clients)
        connect_seconds = time.monotonic() - started
        failures = [failure for report in connected for failure in report["failures"]]
        if failures:
            log(f"{kind}/{mode}/{clients}: {len(failures)} sockets did not connect, e.g. {failures[0]}")
        settle_seconds = settle(pid)
        pids = server_processes(pid)
        cpu_before, (busy_before, total_before), go = cpu_seconds(pids), machine_cpu(), time.monotonic()
        coordinator.tell("go", go + 0.5)
        reports = coordinator.gather("sent", args.messages / args.rate + args.timeout + 30)
        busy, total = (now - before for now, before in zip(machine_cpu(), (busy_before, total_before), strict=True))
        server_sending = cpu_seconds(pids) - cpu_before
        sent = [row for report in reports for row in report["rows"]]
        acked = sorted(row["seq"] for row in sent if "seq" in row)
        coordinator.tell("expect", {"seqs": acked, "timeout": args.drain_timeout})
        results = coordinator.gather("result", args.drain_timeout + 60)
        server_cpu = cpu_seconds(pids) - cpu_before
        elapsed = time.monotonic() - go
        memory = server_memory(pid)
    finally:
        coordinator.stop()
    # Other processes' CPU while the chats went out, as a share of the machine: above a few percent the
    # machine was not quiet, and the latencies are worse than the server alone would make them.
    others = busy - server_sending - sum(report["cpu_seconds"] for report in reports)
    latencies = [value for result in results for _seq, value in result["latencies_ms"]]
    last_receipt = {}  # per message: when its last receiver had it, i.e. how long the whole fan-out took
    for result in results:
        for seq, value in result["latencies_ms"]:
            last_receipt[seq] = max(value, last_receipt.get(seq, 0))
    send_errors = [row["error"] for row in sent if "error" in row]
    if send_errors:
        log(f"{kind}/{mode}/{clients}: {len(send_errors)} chats refused, e.g. {send_errors[0]}")
    closed = [reason for result in results for reason in result["closed"]]
    sockets = sum(result["sockets"] for result in results)
    figures = {
        "clients": clients,
        "connected": sockets,
        "connect_failures": len(failures),
        "messages": args.messages,
        "acked": len(acked),
        "send_errors": len(send_errors),
        "deliveries": len(latencies),
        "expected_deliveries": len(acked) * sockets,
        "lost": sum(result["lost"] for result in results),
        "duplicated": sum(result["duplicated"] for result in results),
        "out_of_order": sum(result["out_of_order"] for result in results),
        "page_view": page_summary(results),
        "disconnected": len(closed),
        "p50_ms": round(percentile(latencies, 0.50), 1) if latencies else None,
        "p90_ms": round(percentile(latencies, 0.90), 1) if latencies else None,
        "p99_ms": round(percentile(latencies, 0.99), 1) if latencies else None,
        "max_ms": round(max(latencies), 1) if latencies else None,
        "mean_ms": round(statistics.fmean(latencies), 1) if latencies else None,
        "fanout_ms": {  # per message, the latency of its last receiver: median and the slowest three messages
            "p50": round(statistics.median(last_receipt.values()), 1),
            "slowest": [round(value, 1) for value in sorted(last_receipt.values())[-3:][::-1]],
        }
        if last_receipt
        else None,
        **memory,
        "server_cpu_seconds": round(server_cpu, 2),
        "server_cpu_ms_per_message": round(server_cpu * 1000 / max(1, len(acked)), 1),
        # Per delivered (socket, message): the server's CPU from the first chat to the last delivery.
        "server_cpu_us_per_delivery": round(server_cpu * 1e6 / max(1, len(latencies)), 1),
        "client_cpu_share_max": round(max(report["cpu_share"] for report in reports), 2),
        "other_cpu_share": round(max(0.0, others) / total, 2),
        "presence_updates": sum(result["presence_updates"] for result in results),
        "connect_seconds": round(connect_seconds, 1),
        "settle_seconds": settle_seconds,
        "messages_seconds": round(elapsed, 1),
        "drain_seconds": round(max(result["drain_seconds"] for result in results), 1),
    }
    if figures["other_cpu_share"] > BUSY_MACHINE:
        log(f"{kind}/{mode}/{clients}: other processes used {figures['other_cpu_share']:.0%} of the machine meanwhile")
    if failures:
        figures["connect_failure_examples"] = failures[:3]
    if send_errors:
        figures["send_error_examples"] = send_errors[:3]
    if closed:
        figures["disconnections"] = closed[:3]
    return figures


# --- The run. ----------------------------------------------------------------------------------------------------


def summary(runs, modes, sizes):
    """app p99 / bare p99, and the issue's targets, for each mode."""
    ratios, targets = {}, {}
    for mode in modes:
        bare, app = runs.get("bare", {}).get(mode, {}), runs.get("app", {}).get(mode, {})
        ratios[mode] = {
            str(clients): round(app[str(clients)]["p99_ms"] / bare[str(clients)]["p99_ms"], 2)
            for clients in sizes
            if app.get(str(clients), {}).get("p99_ms") and bare.get(str(clients), {}).get("p99_ms")
        }
        measured = [figures for figures in app.values() if "p99_ms" in figures]
        if not measured:
            continue
        largest = max(measured, key=lambda figures: figures["clients"])
        targets[mode] = {
            "no_loss": all(f["lost"] == 0 and f["connect_failures"] == 0 and f["send_errors"] == 0 for f in measured),
            "no_duplicates": all(f["duplicated"] == 0 for f in measured),
            "in_order": all(f["out_of_order"] == 0 for f in measured),
            f"p99_under_{TARGET_P99_MS}ms_at_{largest['clients']}": (largest["p99_ms"] or 1e9) < TARGET_P99_MS,
            f"within_{TARGET_RATIO}x_bare": bool(ratios[mode]) and max(ratios[mode].values()) <= TARGET_RATIO,
        }
    return ratios, targets


COMPARED = (
    "p50_ms",
    "p99_ms",
    "fanout_ms",
    "server_cpu_ms_per_message",
    "server_cpu_us_per_delivery",
    "server_peak_mb",
    "lost",
)


def compare_modes(runs, modes, sizes):
    """The app's figures per mode at the most clients, and the best mode: the lowest median latency among the
    modes that lost nothing (p99 is left out of the choice: it rests on the slowest message or two of the run)."""
    largest = str(max(sizes))
    table = {
        mode: {key: figures.get(key) for key in COMPARED}
        for mode in modes
        if (figures := runs.get("app", {}).get(mode, {}).get(largest, {})).get("p50_ms") is not None
    }
    candidates = [mode for mode, figures in table.items() if figures["lost"] == 0]
    best = min(candidates, key=lambda mode: table[mode]["p50_ms"]) if candidates else None
    return {"clients": int(largest), "app": table, "best_mode": best}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    quick = f"{QUICK['clients']} clients, {QUICK['messages']} messages"
    parser.add_argument("--quick", action="store_true", help=quick)
    parser.add_argument("--clients", help=f"sockets per run, the host included (default {FULL['clients']})")
    parser.add_argument("--messages", type=int, help=f"chats per run (default {FULL['messages']})")
    parser.add_argument("--modes", default="gevent,threading", help="async modes (default gevent,threading)")
    parser.add_argument("--servers", default="bare,app", help="bare, app or both (default bare,app)")
    parser.add_argument("--rate", type=float, default=10.0, help="chats a second, all senders together (10)")
    parser.add_argument("--senders", type=int, default=5, help="participants who send the chats (5)")
    parser.add_argument("--processes", type=int, default=4, help="client processes (4)")
    parser.add_argument("--connect-concurrency", type=int, default=10, help="connections opened at once per process")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds for a connection or an ack (30)")
    parser.add_argument("--drain-timeout", type=float, default=20.0, help="seconds to wait for deliveries (20)")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite", help="the app's database")
    where = "a PostgreSQL server, where a private database is created and dropped afterwards"
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432", help=where)
    args = parser.parse_args()
    preset = QUICK if args.quick else FULL
    args.sizes = [int(value) for value in (args.clients or preset["clients"]).split(",")]
    args.messages = args.messages or preset["messages"]
    args.modes = [mode.strip() for mode in args.modes.split(",") if mode.strip()]
    args.servers = [server.strip() for server in args.servers.split(",") if server.strip()]
    if not set(args.modes) <= {"gevent", "threading"} or not set(args.servers) <= {"bare", "app"}:
        parser.error("modes are gevent and threading, servers bare and app")
    if args.rate / args.senders >= EVENTS_PER_SOCKET_LIMIT:
        parser.error(f"each sender would send {args.rate / args.senders:.1f} chats a second; the app allows under 10")
    if min(args.sizes) <= args.senders:
        parser.error("every run needs more clients than senders")
    return args


def stop_on_sigterm(signum, frame):
    sys.exit(128 + signum)  # unwinds, so that the servers, client processes and databases are cleaned up


def main():
    args = parse_args()
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    results = {
        "bench": "live_fanout",
        "mode": "quick" if args.quick else "full",
        "machine": machine(),
        "settings": {
            "clients": args.sizes,
            "messages": args.messages,
            "modes": args.modes,
            "servers": args.servers,
            "rate_per_second": args.rate,
            "senders": args.senders,
            "client_processes": args.processes,
            "database": args.database,
            "workers": {mode: " ".join(worker_options(mode, max(args.sizes))) for mode in args.modes},
        },
        "targets": {"p99_ms": TARGET_P99_MS, "app_over_bare_p99": TARGET_RATIO, "lost": 0, "duplicated": 0},
        "reference_bare_500": REFERENCE_BARE_500,
        "runs": {},
    }
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-live-") as tmp:
        workdir = Path(tmp)
        with database(args.database, workdir, args.postgres_url) as database_url:
            env = app_environment(database_url, workdir)
            if "app" in args.servers:
                log(f"setup: schema, framework and {max(args.sizes)} accounts on {args.database}")
                tokens = prepare_app_database(env, max(args.sizes) - 1)
            else:
                tokens = [f"bare-{index}" for index in range(max(args.sizes))]
            for kind in args.servers:
                for mode in args.modes:
                    for clients in args.sizes:
                        log(f"{kind}/{mode}/{clients}: starting")
                        figures = measure(kind, mode, clients, args, env, workdir, tokens)
                        log(f"{kind}/{mode}/{clients}: {figures}")
                        results["runs"].setdefault(kind, {}).setdefault(mode, {})[str(clients)] = figures
    results["ratios_app_over_bare_p99"], results["targets_met"] = summary(results["runs"], args.modes, args.sizes)
    results["modes_compared"] = compare_modes(results["runs"], args.modes, args.sizes)
    results["best_mode"] = results["modes_compared"]["best_mode"]
    results["machine"]["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    results["total_seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(results, ensure_ascii=False))


if __name__ == "__main__":
    main()
