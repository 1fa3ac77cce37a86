"""Values go back into completions and into streamed chunks, held back only across a split placeholder."""

from __future__ import annotations

import json

from interlock.compliance import ChunkRestorer, Restorer, restore_completion

RESTORER = Restorer({"<EMAIL_1>": "jane@example.com", "<PRIVATE_KEY_1>": 'k"\nz'})


def test_completion_content_and_tool_arguments() -> None:
    body = {
        "object": "chat.completion",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "Sent to <EMAIL_1>.",
                    "tool_calls": [
                        {
                            "id": "c",
                            "type": "function",
                            "function": {"name": "f", "arguments": '{"key": "<PRIVATE_KEY_1>"}'},
                        }
                    ],
                },
            }
        ],
    }
    out = restore_completion(body, RESTORER)
    message = out["choices"][0]["message"]
    assert message["content"] == "Sent to jane@example.com."
    assert json.loads(message["tool_calls"][0]["function"]["arguments"]) == {"key": 'k"\nz'}
    assert body["choices"][0]["message"]["content"] == "Sent to <EMAIL_1>."  # the input is not modified


def _chunk(content: str | None = None, finish: str | None = None, index: int = 0) -> dict:
    delta = {} if content is None else {"content": content}
    return {
        "id": "x",
        "object": "chat.completion.chunk",
        "choices": [{"index": index, "delta": delta, "finish_reason": finish}],
    }


def test_stream_holds_a_split_placeholder_until_complete() -> None:
    restorer = ChunkRestorer(RESTORER)
    outputs = [
        restorer.restore(c)["choices"][0]["delta"].get("content")
        for c in (_chunk("Write to <EM"), _chunk("AIL"), _chunk("_1> today"), _chunk(None, "stop"))
    ]
    assert outputs == ["Write to ", "", "jane@example.com today", None]


def test_stream_releases_what_it_held_on_finish() -> None:
    restorer = ChunkRestorer(RESTORER)
    assert restorer.restore(_chunk("costs <"))["choices"][0]["delta"]["content"] == "costs "
    final = restorer.restore(_chunk(None, "stop"))
    assert final["choices"][0]["delta"] == {"content": "<"}


def test_stream_of_tool_arguments_restores_json_escaped() -> None:
    restorer = ChunkRestorer(RESTORER)
    pieces = ['{"key": "<PRIV', 'ATE_KEY_1>"}']
    out = ""
    for i, piece in enumerate(pieces):
        chunk = {
            "choices": [
                {
                    "index": 0,
                    "delta": {"tool_calls": [{"index": 0, "function": {"arguments": piece}}]},
                    "finish_reason": "tool_calls" if i == len(pieces) - 1 else None,
                }
            ]
        }
        restored = restorer.restore(chunk)
        out += restored["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"]
    assert json.loads(out) == {"key": 'k"\nz'}


def test_choices_are_restored_independently_and_flush_covers_an_unfinished_stream() -> None:
    restorer = ChunkRestorer(RESTORER)
    restorer.restore(_chunk("a <EMA", index=0))
    assert (
        restorer.restore(_chunk("b <EMAIL_1>", index=1))["choices"][0]["delta"]["content"]
        == "b jane@example.com"
    )
    leftover = restorer.flush()
    assert leftover is not None and leftover["choices"] == [
        {"index": 0, "delta": {"content": "<EMA"}, "finish_reason": None}
    ]
    assert leftover["id"] == "x" and restorer.flush() is None


def test_a_tool_named_after_a_redacted_value_is_called_by_its_real_name() -> None:
    call = {"index": 0, "id": "c", "type": "function", "function": {"name": "<EMAIL_1>", "arguments": "{}"}}
    message = {"role": "assistant", "content": None, "tool_calls": [call]}
    body = {"choices": [{"index": 0, "message": message}]}
    restored = restore_completion(body, RESTORER)["choices"][0]["message"]["tool_calls"][0]
    assert restored["function"]["name"] == "jane@example.com"
    chunk = {"choices": [{"index": 0, "delta": {"tool_calls": [call]}, "finish_reason": None}]}
    streamed = ChunkRestorer(RESTORER).restore(chunk)["choices"][0]["delta"]["tool_calls"][0]
    assert streamed["function"]["name"] == "jane@example.com"
