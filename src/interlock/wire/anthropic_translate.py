"""Translating OpenAI chat requests into Anthropic Messages requests, for the ``anthropic`` provider.

Both sides are plain JSON dicts; the OpenAI body was validated at the HTTP edge. The other
direction is ``anthropic_inbound``; responses and streams, both ways, are ``anthropic_responses``.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from interlock.errors import InvalidRequest, UnsupportedParameter
from interlock.types import JSON

_DATA_URL = re.compile(r"^data:(?P<type>[^;,]+);base64,(?P<data>.*)$", re.DOTALL)


def anthropic_request_from_openai(body: JSON, model: str, default_max_tokens: int) -> JSON:
    """``body`` is a validated OpenAI request body; parameters Anthropic cannot honour are refused (400)."""
    _refuse_unsupported(body)
    system, messages = _anthropic_messages(body["messages"])
    out: JSON = {
        "model": model,
        "max_tokens": body.get("max_completion_tokens") or body.get("max_tokens") or default_max_tokens,
        "messages": messages,
    }
    if system:
        plain = len(system) == 1 and set(system[0]) == {"type", "text"}
        out["system"] = system[0]["text"] if plain else system
    for key in ("temperature", "top_p"):
        if body.get(key) is not None:
            out[key] = body[key]
    stop = body.get("stop")
    if stop:
        out["stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)
    if body.get("user"):
        out["metadata"] = {"user_id": body["user"]}
    if body.get("tools"):
        out["tools"] = [_anthropic_tool(t, i) for i, t in enumerate(body["tools"])]
        choice = _anthropic_tool_choice(body.get("tool_choice"), body.get("parallel_tool_calls"))
        if choice:
            out["tool_choice"] = choice
    return out


def _refuse_unsupported(body: JSON) -> None:
    def refuse(param: str, why: str) -> None:
        message = f"Anthropic models {why}; remove `{param}` or choose another model."
        raise UnsupportedParameter(message, param=param)

    if (body.get("n") or 1) > 1:
        refuse("n", "return a single choice")
    if body.get("logprobs") or body.get("top_logprobs"):
        refuse("logprobs", "do not return log probabilities")
    if (body.get("response_format") or {}).get("type") in ("json_object", "json_schema"):
        refuse("response_format", "take no response_format (use a tool for structured output)")
    if "audio" in (body.get("modalities") or ()):
        refuse("modalities", "do not produce audio")
    if (body.get("temperature") or 0) > 1:
        refuse("temperature", "accept a temperature between 0 and 1")


def _anthropic_messages(messages: list[JSON]) -> tuple[list[JSON], list[JSON]]:
    """System and developer messages become ``system``; tool results become user ``tool_result`` blocks."""
    system: list[JSON] = []
    out: list[JSON] = []
    for i, m in enumerate(messages):
        role = m.get("role")
        if role in ("system", "developer"):
            system.extend(_text_blocks(m.get("content"), f"messages[{i}].content"))
        elif role == "user":
            _append_turn(out, "user", _user_content(m.get("content"), i))
        elif role == "assistant":
            _append_turn(out, "assistant", _assistant_blocks(m, i))
        elif role == "tool":
            _append_turn(out, "user", [_tool_result(m, i)])
        else:
            raise UnsupportedParameter(
                f"The role {role!r} is not supported for Anthropic models; use tools and `role: tool`.",
                param=f"messages[{i}].role",
            )
    return system, out


def _append_turn(out: list[JSON], role: str, content: str | list[JSON]) -> None:
    """Anthropic wants alternating turns: consecutive turns of one role are merged into one."""
    if not content:
        return
    if out and out[-1]["role"] == role:
        out[-1]["content"] = _as_blocks(out[-1]["content"]) + _as_blocks(content)
    else:
        out.append({"role": role, "content": content})


def _as_blocks(content: str | list[JSON]) -> list[JSON]:
    return [{"type": "text", "text": content}] if isinstance(content, str) else content


def _text_blocks(content: Any, where: str) -> list[JSON]:
    if content is None or content == "":
        return []
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    for j, part in enumerate(content):
        if part.get("type") != "text":
            message = f"Only text parts are allowed here, not {part.get('type')!r}."
            raise UnsupportedParameter(message, param=f"{where}[{j}]")
    return [_text_block(part) for part in content if part.get("text")]  # Anthropic refuses empty text


def _text_block(part: JSON) -> JSON:
    block: JSON = {"type": "text", "text": part.get("text") or ""}
    if part.get("cache_control"):
        block["cache_control"] = part["cache_control"]
    return block


def _user_content(content: Any, i: int) -> str | list[JSON]:
    if content is None or isinstance(content, str):
        return content or ""
    blocks: list[JSON] = []
    for j, part in enumerate(content):
        kind, where = part.get("type"), f"messages[{i}].content[{j}]"
        if kind == "text":
            if part.get("text"):  # Anthropic refuses empty text blocks
                blocks.append(_text_block(part))
        elif kind == "image_url":
            blocks.append(_image_block(part.get("image_url"), where))
        else:
            message = f"Content parts of type {kind!r} are not supported for Anthropic models."
            raise UnsupportedParameter(message, param=where)
    return blocks


def _image_block(image_url: Any, where: str) -> JSON:
    url = image_url.get("url") if isinstance(image_url, dict) else image_url
    if not isinstance(url, str) or not url:
        raise InvalidRequest("An image_url part needs a `url`.", param=f"{where}.image_url.url")
    match = _DATA_URL.match(url)
    if match:
        source = {"type": "base64", "media_type": match["type"], "data": match["data"]}
        return {"type": "image", "source": source}
    if url.startswith("data:"):
        raise InvalidRequest("Image data URLs must be base64-encoded.", param=f"{where}.image_url.url")
    return {"type": "image", "source": {"type": "url", "url": url}}


def _assistant_blocks(m: JSON, i: int) -> str | list[JSON]:
    content = m.get("content")
    if isinstance(content, str) and not m.get("tool_calls"):
        return content
    if isinstance(content, list):
        blocks = [{"type": "text", "text": p.get("text") or p.get("refusal") or ""} for p in content]
    else:
        blocks = [{"type": "text", "text": content}] if content else []
    blocks = [b for b in blocks if b["text"]]  # Anthropic refuses empty text blocks
    for j, call in enumerate(m.get("tool_calls") or ()):
        fn = call.get("function") or {}
        where = f"messages[{i}].tool_calls[{j}]"
        if not call.get("id") or not fn.get("name"):
            raise InvalidRequest("A tool call needs an `id` and a `function.name`.", param=where)
        try:
            args = orjson.loads(fn.get("arguments") or "{}")
        except orjson.JSONDecodeError:
            args = None
        if not isinstance(args, dict):
            message = "Tool call arguments must be a JSON object."
            raise InvalidRequest(message, param=f"{where}.function.arguments")
        blocks.append({"type": "tool_use", "id": call["id"], "name": fn["name"], "input": args})
    return blocks


def _tool_result(m: JSON, i: int) -> JSON:
    if not m.get("tool_call_id"):
        raise InvalidRequest("A tool message needs `tool_call_id`.", param=f"messages[{i}].tool_call_id")
    block: JSON = {"type": "tool_result", "tool_use_id": m["tool_call_id"]}
    content = m.get("content")
    if content:
        where = f"messages[{i}].content"
        block["content"] = content if isinstance(content, str) else _text_blocks(content, where)
    return block


def _anthropic_tool(tool: JSON, i: int) -> JSON:
    if tool.get("type") != "function":
        message = f"Tools of type {tool.get('type')!r} are not supported for Anthropic models."
        raise UnsupportedParameter(message, param=f"tools[{i}].type")
    fn = tool.get("function") or {}
    if not fn.get("name"):
        raise InvalidRequest("A tool needs `function.name`.", param=f"tools[{i}].function.name")
    out: JSON = {"name": fn["name"]}
    if fn.get("description"):
        out["description"] = fn["description"]
    out["input_schema"] = fn.get("parameters") or {"type": "object", "properties": {}}
    return out


def _anthropic_tool_choice(choice: Any, parallel: bool | None) -> JSON | None:
    if choice is None:
        out: JSON | None = {"type": "auto"} if parallel is False else None
    elif choice in ("auto", "none"):
        out = {"type": choice}
    elif choice == "required":
        out = {"type": "any"}
    elif isinstance(choice, dict) and (choice.get("function") or {}).get("name"):
        out = {"type": "tool", "name": choice["function"]["name"]}
    else:
        message = "tool_choice must be 'auto', 'none', 'required' or name a function."
        raise InvalidRequest(message, param="tool_choice")
    if out and parallel is False and out["type"] != "none":
        out["disable_parallel_tool_use"] = True
    return out
