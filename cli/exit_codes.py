"""What `kevolve`'s exit status tells a script, for every command: one table, shown by `kevolve --help`."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    DONE = 0
    # The command ran and its answer is no: a candidate not accepted (eval, profile), a reference that
    # cannot run (bench), a library kernel that no longer passes (library check), an endpoint the
    # search cannot use (llm check), a campaign problem whose run failed.
    ANSWER_IS_NO = 1
    # Nothing was done: bad input, or a service the command needs did not answer (the model, the
    # knowledge base, the database, a device); the message says which, and a run is kept for --resume.
    USAGE_OR_UNAVAILABLE = 2
    WAITING_FOR_APPROVAL = 3
    NO_KERNEL_FOUND = 4
    INTERRUPTED = 130


MEANINGS: dict[ExitCode, str] = {
    ExitCode.DONE: "done (optimize, review approve: the search ended with its kernel in the library)",
    ExitCode.ANSWER_IS_NO: "ran, and the answer is no (a candidate not accepted, a kernel that no longer "
                           "passes, a model the search cannot use, a campaign problem that failed)",
    ExitCode.USAGE_OR_UNAVAILABLE: "nothing done: bad input, or the model, knowledge base, database or device "
                                   "did not answer (a run is kept: --resume)",
    ExitCode.WAITING_FOR_APPROVAL: "a search stopped with a kernel waiting for a person: kevolve review",
    ExitCode.NO_KERNEL_FOUND: "a search ended with no kernel for the library (none correct, none faster than "
                              "the baselines, or rejected)",
    ExitCode.INTERRUPTED: "interrupted (Ctrl-C); results written so far are kept",
}


def describe_exit_codes() -> str:
    return "exit status:\n" + "\n".join(f"  {int(code):>3}  {meaning}" for code, meaning in MEANINGS.items())
