"""Translating Anthropic Messages requests from clients into the OpenAI-shape request the gateway serves.

Used by the inbound ``/v1/messages`` route, so any deployment type can answer Anthropic clients.
Both sides are plain JSON dicts; the Anthropic body was validated by ``anthropic_messages``.
"""

from __future__ import annotations

from typing import Any

import orjson

from interlock.errors import InvalidRequest, UnsupportedParameter
from interlock.types import JSON


def openai_request_from_anthropic(body: JSON) -> JSON:
    """The OpenAI request (with ``model`` and ``stream``) for a validated Anthropic Messages body.

    ``top_k`` has no OpenAI counterpart and is dropped, as are thinking blocks of earlier turns
    and ``cache_control`` marks (OpenAI-format upstreams refuse unknown fields).
    """
    messages = _openai_system(body.get("system"))
    for i, m in enumerate(body["messages"]):
        if m["role"] == "user":
            messages.extend(_openai_user_turn(m["content"], i))
        else:
            messages.append(_openai_assistant_turn(m["content"], i))
    out: JSON = {"model": body["model"], "messages": messages, "max_tokens": body["max_tokens"]}
    for key in ("temperature", "top_p"):
        if body.get(key) is not None:
            out[key] = body[key]
    stops = body.get("stop_sequences")
    if stops:
        if len(stops) > 4:
            message = "This gateway accepts at most 4 stop sequences."
            raise UnsupportedParameter(message, param="stop_sequences")
        out["stop"] = list(stops)
    user_id = (body.get("metadata") or {}).get("user_id")
    if user_id:
        out["user"] = user_id
    if body.get("tools"):
        out["tools"] = [_openai_tool(t, i) for i, t in enumerate(body["tools"])]
        if body.get("tool_choice"):
            out.update(_openai_tool_choice(body["tool_choice"]))
    if body.get("stream"):
        out["stream"] = True
        out["stream_options"] = {"include_usage": True}
    return out


def _openai_system(system: Any) -> list[JSON]:
    if not system:
        return []
    if isinstance(system, str):
        return [{"role": "system", "content": system}]
    return [{"role": "system", "content": _compact([{"type": "text", "text": b["text"]} for b in system])}]


def _compact(parts: list[JSON]) -> str | list[JSON]:
    """A lone text part becomes a plain string, which every OpenAI-format server accepts."""
    if len(parts) == 1 and parts[0]["type"] == "text":
        return str(parts[0]["text"])
    return parts


def _openai_user_turn(content: str | list[JSON], i: int) -> list[JSON]:
    """Tool results become ``tool`` messages, placed before the turn's other content as OpenAI expects."""
    if isinstance(content, str):
        return [{"role": "user", "content": content}]
    out: list[JSON] = []
    parts: list[JSON] = []
    for j, block in enumerate(content):
        kind, where = block["type"], f"messages[{i}].content[{j}]"
        if kind == "tool_result":
            out.append({"role": "tool", "tool_call_id": block["tool_use_id"],
                        "content": _tool_result_content(block.get("content"), where)})
        elif kind == "text":
            parts.append({"type": "text", "text": block["text"]})
        elif kind == "image":
            parts.append({"type": "image_url", "image_url": {"url": _image_url(block["source"], where)}})
        else:
            raise InvalidRequest(f"A user message cannot hold {kind!r} blocks.", param=f"{where}.type")
    if parts:
        out.append({"role": "user", "content": _compact(parts)})
    return out


def _tool_result_content(content: Any, where: str) -> str | list[JSON]:
    if not content:
        return ""
    if isinstance(content, str):
        return content
    parts = []
    for k, block in enumerate(content):
        if block["type"] != "text":
            message = "Tool results may hold only text on this gateway."
            raise UnsupportedParameter(message, param=f"{where}.content[{k}]")
        parts.append({"type": "text", "text": block["text"]})
    return _compact(parts)


def _image_url(source: JSON, where: str) -> str:
    if source.get("type") == "base64":
        return f"data:{source['media_type']};base64,{source['data']}"
    if source.get("type") == "url":
        return str(source["url"])
    message = f"Image sources of type {source.get('type')!r} are not supported."
    raise UnsupportedParameter(message, param=f"{where}.source")


def _openai_assistant_turn(content: str | list[JSON], i: int) -> JSON:
    if isinstance(content, str):
        return {"role": "assistant", "content": content}
    texts: list[str] = []
    calls: list[JSON] = []
    for j, block in enumerate(content):
        kind = block["type"]
        if kind == "text":
            texts.append(block["text"])
        elif kind == "tool_use":
            arguments = orjson.dumps(block["input"]).decode()
            calls.append({"id": block["id"], "type": "function",
                          "function": {"name": block["name"], "arguments": arguments}})
        elif kind not in ("thinking", "redacted_thinking"):
            message = f"An assistant message cannot hold {kind!r} blocks."
            raise InvalidRequest(message, param=f"messages[{i}].content[{j}].type")
    turn: JSON = {"role": "assistant", "content": "".join(texts) if texts or not calls else None}
    if calls:
        turn["tool_calls"] = calls
    return turn


def _openai_tool(tool: JSON, i: int) -> JSON:
    if tool.get("type") not in (None, "custom"):
        message = f"Anthropic server tools ({tool['type']!r}) are not supported on this gateway."
        raise UnsupportedParameter(message, param=f"tools[{i}].type")
    fn: JSON = {"name": tool["name"]}
    if tool.get("description"):
        fn["description"] = tool["description"]
    fn["parameters"] = tool["input_schema"]
    return {"type": "function", "function": fn}


def _openai_tool_choice(choice: JSON) -> JSON:
    kind = choice["type"]
    out: JSON = {"tool_choice": {"auto": "auto", "any": "required", "none": "none"}.get(kind)}
    if kind == "tool":
        out["tool_choice"] = {"type": "function", "function": {"name": choice["name"]}}
    if choice.get("disable_parallel_tool_use"):
        out["parallel_tool_calls"] = False
    return out
