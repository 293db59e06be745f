"""A model server started for the tests and watched: one that exits, at start or on its first completion,
fails the test with the tail of its log instead of leaving it to wait on a dead port."""

from __future__ import annotations

import contextlib
import subprocess
import time
from pathlib import Path
from typing import NoReturn

import httpx
import pytest

LOG_TAIL_CHARS = 2000


class ServerProcess:
    def __init__(self, command: list[str], *, url: str, log: Path) -> None:
        self.url = url
        self.log = log
        with log.open("w") as output:
            self.process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)

    def died(self, when: str) -> NoReturn:
        tail = self.log.read_text(errors="replace")[-LOG_TAIL_CHARS:]
        pytest.fail(f"the model server exited with {self.process.returncode} {when}; its log ends:\n{tail}",
                    pytrace=False)

    def check_alive(self, when: str) -> None:
        if self.process.poll() is not None:
            self.died(when)

    def wait_until_serving(self, startup_s: float) -> None:
        deadline = time.monotonic() + startup_s
        while True:
            self.check_alive("while starting")
            try:
                if httpx.get(f"{self.url}/models", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                tail = self.log.read_text(errors="replace")[-LOG_TAIL_CHARS:]
                pytest.fail(f"the model server did not answer within {startup_s} s; its log ends:\n{tail}",
                            pytrace=False)
            time.sleep(0.5)

    def first_completion(self, model: str, timeout_s: float) -> None:
        """One reply of one token: a server built for another CPU can die on its first completion (a
        native llama.cpp build faults in ggml's AMX path on virtual machines that report AMX)."""
        # Judged by whether the process lives, not by the reply: a slow first reply is no death.
        with contextlib.suppress(httpx.HTTPError):
            httpx.post(f"{self.url}/chat/completions", timeout=timeout_s,
                       json={"model": model, "max_tokens": 1, "messages": [{"role": "user", "content": "hi"}]})
        time.sleep(0.2)  # a process that faulted mid-reply is gone a moment after its socket closed
        self.check_alive("on its first completion")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
