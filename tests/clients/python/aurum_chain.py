"""Starts a real single-node chain with `aurum up` in a temp dir and stops it again.

The binary comes from AURUM_BIN. Readiness is DIR/node0/ready.json, polled until it parses
(never a fixed sleep). Every process started here is stopped by pid: SIGTERM, then SIGKILL
after a grace period; an atexit hook kills whatever a crashed run left behind.
"""

import atexit
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

READY_DEADLINE_S = 60.0
STOP_GRACE_S = 20.0

_live = set()


def _alive(pid):
    if not pid:
        return False
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def _kill_quiet(pid, sig):
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _wait_gone(pid, timeout):
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not _alive(pid)


@atexit.register
def _kill_all_now():
    for chain in list(_live):
        # `aurum up` leads its own session (start_new_session): kill its group, then the node.
        _kill_quiet(-chain.proc.pid, signal.SIGKILL)
        if chain.ready:
            _kill_quiet(chain.ready.get("pid"), signal.SIGKILL)
        _live.discard(chain)


def _exit_on_signal(signum, _frame):
    raise SystemExit(128 + signum)  # runs the atexit hook above


for _sig in (signal.SIGTERM, signal.SIGHUP):
    if signal.getsignal(_sig) in (signal.SIG_DFL, None):
        signal.signal(_sig, _exit_on_signal)


class Chain:
    def __init__(self, tmp, proc, log_path, dir_):
        self.tmp = tmp
        self.proc = proc
        self.log_path = log_path
        self.dir = dir_
        self.ready = None

    def log_tail(self, lines=60):
        try:
            return "\n".join(Path(self.log_path).read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    @classmethod
    def start(cls, label="py"):
        binary = os.environ.get("AURUM_BIN")
        if not binary:
            raise RuntimeError("AURUM_BIN is not set: point it at the aurum binary (tests/clients/run.sh does)")
        if not os.path.isfile(binary):
            raise RuntimeError(f"AURUM_BIN={binary} does not exist: build it with cargo build --release")
        tmp = tempfile.mkdtemp(prefix=f"aurum-{label}-")
        dir_ = os.path.join(tmp, "chain")
        log_path = os.path.join(tmp, "aurum.log")
        with open(log_path, "ab") as log:
            proc = subprocess.Popen(
                # A 4-node PBFT chain by default (AURUM_CLIENT_NODES=1: a solo sealer).
                [binary, "up", "--nodes", os.environ.get("AURUM_CLIENT_NODES", "4"),
                 "--dir", dir_, "--rpc-port", "0", "--p2p-port", "0"],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # own process group, so a SIGKILL fallback reaches the node
            )
        chain = cls(tmp, proc, log_path, dir_)
        _live.add(chain)
        ready_path = Path(dir_, "node0", "ready.json")
        deadline = time.monotonic() + READY_DEADLINE_S
        try:
            while True:
                code = proc.poll()
                if code is not None:
                    raise RuntimeError(f"aurum up exited with {code} before ready:\n{chain.log_tail()}")
                try:
                    ready = json.loads(ready_path.read_text())
                    if ready.get("rpc_url") and ready.get("ws_url"):
                        chain.ready = ready
                        return chain
                except (OSError, ValueError):
                    pass  # absent or half written: read again
                if time.monotonic() > deadline:
                    raise RuntimeError(f"no {ready_path} within {READY_DEADLINE_S:.0f}s:\n{chain.log_tail()}")
                time.sleep(0.1)
        except BaseException:
            chain.stop(keep=True)
            raise

    def stop(self, keep=False):
        """SIGTERM, SIGKILL after the grace period; returns what happened, for assertions."""
        if self not in _live:
            return None
        result = {"killed": False, "returncode": None, "node_gone": True}
        if self.proc.poll() is None:
            _kill_quiet(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                result["killed"] = True
                _kill_quiet(-self.proc.pid, signal.SIGKILL)
                try:
                    self.proc.wait(5)
                except subprocess.TimeoutExpired:
                    pass
        result["returncode"] = self.proc.returncode
        node_pid = (self.ready or {}).get("pid")
        if node_pid:
            result["node_gone"] = _wait_gone(node_pid, 5.0)
            if not result["node_gone"]:
                _kill_quiet(node_pid, signal.SIGKILL)
                _wait_gone(node_pid, 5.0)
        _live.discard(self)
        if keep or os.environ.get("AURUM_KEEP_TMP"):
            print(f"aurum chain dir kept: {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)
        return result
