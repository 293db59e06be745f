"""Reading a structured reply out of a model's message, saying what is wrong with it, and asking again."""

from __future__ import annotations

import json
import re

from langchain_core.exceptions import OutputParserException
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from pydantic import BaseModel, ValidationError

from .base import ReplyT
from .settings import StructuredMethod

# The first fenced block, tagged json or not (small models often drop the tag), closed or not (they
# also stop before the closing fence, and what they wrote is worth parsing for a precise complaint).
_FENCED_BLOCK = re.compile(r"```(?:json)?[ \t]*\n(.*?)(?:```|\Z)", re.DOTALL | re.IGNORECASE)


def format_instruction(method: StructuredMethod, schema: type[BaseModel]) -> str | None:
    """The message that carries the schema, for the methods whose request does not."""
    schema_json = json.dumps(schema.model_json_schema())
    if method is StructuredMethod.JSON_MODE:
        # JSON mode sends no schema, and OpenAI refuses it unless a message says "JSON".
        return f"Reply with one JSON object valid under this JSON schema:\n{schema_json}"
    if method is StructuredMethod.FENCED_JSON:
        return (f"Reply with one JSON object valid under this JSON schema, inside one ```json fenced code block:\n"
                f"{schema_json}")
    return None


def parse_fenced(reply: AIMessage, schema: type[ReplyT]) -> tuple[ReplyT | None, str]:
    """The reply's ```json block parsed into `schema`, or None and what is wrong."""
    text = reply.text
    if reply.response_metadata.get("finish_reason") == "length":
        return None, "the reply was cut off by the token limit before the JSON block ended"
    block = _FENCED_BLOCK.search(text)
    # A bare JSON object is what was asked for, only without its fence: take it rather than re-ask.
    candidate = block.group(1) if block else text.strip() if text.strip().startswith("{") else None
    if candidate is None:
        return None, "the reply has no ```json fenced block"
    try:
        return schema.model_validate_json(candidate), ""
    except ValidationError as error:
        return None, describe(error)


def tool_or_json_problem(raw: AIMessage, parsing_error: BaseException | None) -> str:
    """Why LangChain's parser returned nothing for a function-calling, JSON-mode or json_schema reply."""
    if parsing_error is not None:
        return describe(parsing_error)
    # LangChain's tool parsers skip a tool call whose arguments are not JSON and return None, silently.
    if raw.invalid_tool_calls:
        return "; ".join(f"the arguments of {call['name']} are not a JSON object ({_json_error(call['args'])})"
                         for call in raw.invalid_tool_calls)
    return "the reply contained no tool call and no JSON object"


def _json_error(text: str | None) -> str:
    # LangChain's own error quotes the whole reply back, which the conversation already holds.
    try:
        json.loads(text or "")
    except json.JSONDecodeError as error:
        return str(error)
    return "JSON, but not an object"


def describe(error: BaseException) -> str:
    # LangChain's parsing error quotes the whole reply and links its docs; the validation error under it
    # says what is wrong, field by field.
    if isinstance(error, OutputParserException) and isinstance(error.__cause__, ValidationError):
        error = error.__cause__
    if not isinstance(error, ValidationError):
        return str(error).split("\nFor troubleshooting, visit:")[0].strip()
    problems = [f"{'.'.join(map(str, e['loc'])) or 'the reply'}: {e['msg']}" for e in error.errors()]
    # A required key missing from the top level usually means the model chose its own keys (llama.cpp's
    # JSON mode does): naming them tells the model, and whoever reads the log, what happened.
    given = next((e["input"] for e in error.errors()
                  if e["type"] == "missing" and len(e["loc"]) == 1 and isinstance(e["input"], dict)), None)
    if given is not None:
        problems.append(f"the reply's keys were: {', '.join(map(str, given)) or 'none'}")
    return "; ".join(problems)


def repair_messages(raw: AIMessage | None, problem: str) -> list[BaseMessage]:
    messages: list[BaseMessage] = []
    if raw is not None:
        # A tool call with empty content goes out as `"content": null`, which llama-cpp-python's server
        # refuses (HTTP 500, seen here); a few words of content are valid for every server.
        messages.append(raw if raw.content else raw.model_copy(update={"content": "(my reply, which did not parse)"}))
        # OpenAI refuses a conversation in which an assistant's tool call goes unanswered.
        messages += [ToolMessage("Rejected: see the next message.", tool_call_id=call["id"])
                     for call in [*raw.tool_calls, *raw.invalid_tool_calls] if call["id"]]
    messages.append(HumanMessage(f"Your reply could not be parsed: {problem}\nReply again, in the requested format."))
    return messages
