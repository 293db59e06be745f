"""A real server goes away and comes back, or does not; many branches ask at once.

The openai client's own retries (exponential backoff from 0.5 s) carry a call across a restart;
a server that stays down raises LLMUnavailable once they are spent, which the CLI turns into
"the run is saved; continue it with --resume".
"""

import threading
import time
from collections.abc import Iterator

import pytest
from langchain_core.messages import HumanMessage

from kevolve.tools.candidates import Role
from kevolve.tools.llm.base import LLMUnavailable
from kevolve.tools.llm.openai_chat import OpenAIProvider
from kevolve.tools.llm.settings import LLMSettings
from openai_stub import ScriptedServer, serve, text_reply

ASK = [HumanMessage("Write the kernel.")]


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with serve(ScriptedServer(then=text_reply("ok"))) as scripted:
        yield scripted


def provider_for(url: str, **overrides: object) -> OpenAIProvider:
    values = {"model": "test-model", "base_url": url, "timeout_s": 2.0, "max_retries": 4}
    return OpenAIProvider(LLMSettings.model_validate(values | overrides))


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/")[0])


def test_a_server_restarted_on_its_port_is_waited_for_and_the_call_succeeds():
    with serve(ScriptedServer(then=text_reply("before"))) as first:
        url = first.url
        coder = provider_for(url).for_role(Role.CODER)
        assert coder.text(ASK)[0].text == "before"
    # Down now: the next connection is refused. It comes back after 0.3 s, inside the first backoff.
    back, done = threading.Event(), threading.Event()

    def restart() -> None:
        time.sleep(0.3)
        with serve(ScriptedServer(then=text_reply("after")), port=port_of(url)):
            back.set()
            done.wait(5)

    thread = threading.Thread(target=restart)
    thread.start()
    try:
        reply, usage = coder.text(ASK)
    finally:
        done.set()
        thread.join()
    assert back.is_set() and reply.text == "after" and usage.calls == 1


def test_a_server_that_stays_down_raises_once_the_retries_are_spent():
    with serve(ScriptedServer()) as gone:
        url = gone.url
    coder = provider_for(url, max_retries=1).for_role(Role.CODER)
    started = time.monotonic()
    with pytest.raises(LLMUnavailable, match=rf"at {url} could not be reached: .*Connection refused.* "
                                             r"\(gave up after \d+\.\d s\)") as raised:
        coder.text(ASK)
    # One retry after a backoff of 0.375 to 0.5 s: the configured retries, not an open-ended wait.
    assert 0.3 < time.monotonic() - started < 2.0
    assert raised.value.status_code is None


def test_a_server_that_hangs_raises_after_each_attempts_timeout():
    hanging = text_reply("late")
    hanging.delay_s = 1.0
    with serve(ScriptedServer(then=hanging)) as server:
        coder = provider_for(server.url, timeout_s=0.2, max_retries=1).for_role(Role.CODER)
        started = time.monotonic()
        with pytest.raises(LLMUnavailable, match=r"too slow: no complete reply within timeout_s=0\.2 s"):
            coder.text(ASK)
        assert time.monotonic() - started < 1.5  # two 0.2 s attempts and one backoff of at most 0.5 s
        assert len(server.requests) == 2


@pytest.mark.parametrize("bound", [2, 6])
def test_requests_in_flight_are_bounded_per_endpoint_across_roles(server, bound):
    slow = text_reply("ok")
    slow.delay_s = 0.15
    server.then = slow
    provider = provider_for(server.url, max_concurrent_requests=bound)
    threads = [threading.Thread(target=provider.for_role(role).text, args=(ASK,))
               for role in (Role.CODER, Role.PLANNER) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(server.requests) == 8
    # The bound is reached, so a larger one would show: the count is of the server's, not the client's.
    assert server.max_in_flight == bound
