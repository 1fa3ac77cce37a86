"""Embedded provider: a GGUF model run in-process by llama.cpp, on one worker thread with a bounded queue.

Generation never runs on the event loop. When more than ``max_queue`` requests wait for
the model, new ones get ``Overloaded`` (503 with Retry-After) at once instead of hanging.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.resources
import json
import logging
import os
import threading
import time
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from interlock.config.deployments import LlamaCppDeployment
from interlock.errors import InvalidRequest, Overloaded, UpstreamError
from interlock.providers.base import ChatRequest
from interlock.providers.registry import register
from interlock.types import JSON

log = logging.getLogger("interlock.providers.llamacpp")

# Parameters llama.cpp's chat completion understands; the gateway has already refused the rest.
_PASSTHROUGH = ("temperature", "top_p", "stop", "seed", "presence_penalty", "frequency_penalty",
                "logit_bias", "logprobs", "top_logprobs")
_DONE = object()


class WeightDigestMismatch(ValueError):
    def __init__(self, path: Path, expected: str, actual: str) -> None:
        super().__init__(f"weight file {path} has SHA-256 {actual}, expected {expected}; refusing to load it")


def resolve_gguf(deployment: LlamaCppDeployment) -> Path:
    if deployment.gguf_path:
        path = Path(deployment.gguf_path).expanduser()
    else:
        assert deployment.package and deployment.file
        try:
            path = Path(str(importlib.resources.files(deployment.package) / deployment.file))
        except ModuleNotFoundError:
            raise FileNotFoundError(
                f"deployment {deployment.name!r}: Python package {deployment.package!r} is not installed"
            ) from None
    if not path.is_file():
        raise FileNotFoundError(f"deployment {deployment.name!r}: GGUF file {path} does not exist")
    return path


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _flatten(messages: list[JSON]) -> list[JSON]:
    """llama.cpp chat templates take string content; text parts are joined, `developer` becomes `system`."""
    out = []
    for m in messages:
        content = m.get("content")
        if isinstance(content, list):
            content = "\n".join(p.get("text", "") for p in content if p.get("type") == "text")
        role = "system" if m["role"] == "developer" else m["role"]
        out.append({"role": role, "content": content or ""})
    return out


def grammar_response_format(requested: JSON | None) -> JSON | None:
    """OpenAI's ``response_format`` in the form llama.cpp constrains output with (a JSON-schema grammar).

    llama-cpp-python only acts on ``{"type": "json_object", "schema": ...}`` and would silently ignore
    OpenAI's ``json_schema`` type, so the schema is moved across; one it cannot turn into a grammar is a 400.
    """
    if not requested or requested.get("type") not in ("json_object", "json_schema"):
        return None
    schema = (requested.get("json_schema") or {}).get("schema") if requested["type"] == "json_schema" else None
    if schema is None:
        return {"type": "json_object"}
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    try:
        json_schema_to_gbnf(json.dumps(schema))
    except Exception as exc:  # the converter asserts on what it does not support
        reason = str(exc).split(":", 1)[0][:120]  # its messages go on to echo the schema: request content
        raise InvalidRequest(
            f"The embedded model cannot constrain its output to this JSON schema ({reason}); "
            "simplify `response_format.json_schema.schema` or choose another model.",
            param="response_format",
        ) from None
    return {"type": "json_object", "schema": schema}


@register("llamacpp")
class LlamaCppProvider:
    def __init__(self, deployment: LlamaCppDeployment) -> None:
        self.deployment = deployment
        self._llm: Any = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"llama-{deployment.name}")
        self._waiting = 0
        self._recent_seconds = 2.0  # EWMA of one generation; drives Retry-After
        self.digest: str | None = None

    # -- lifecycle -------------------------------------------------------------------------------
    def load(self) -> None:
        """Verify the weight file (when pinned) and load it; blocking, call from a thread at startup."""
        if self._llm is not None:
            return
        from llama_cpp import Llama  # heavy import, only when the embedded model is used

        path = resolve_gguf(self.deployment)
        self.digest = sha256_of(path)
        if self.deployment.sha256 and self.digest != self.deployment.sha256:
            raise WeightDigestMismatch(path, self.deployment.sha256, self.digest)
        self._llm = Llama(
            model_path=str(path),
            n_ctx=self.deployment.n_ctx,
            n_threads=self.deployment.n_threads or os.cpu_count() or 2,
            chat_format=self.deployment.chat_format,
            verbose=False,
        )

    async def start(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._executor, self.load)

    async def aclose(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    # -- admission -------------------------------------------------------------------------------
    def _admit(self) -> None:
        if self._waiting > self.deployment.max_queue:
            raise Overloaded(
                f"The embedded model {self.deployment.model!r} is busy: {self._waiting} requests are "
                "already waiting. Retry shortly.",
                retry_after=max(1.0, self._recent_seconds * self._waiting),
            )

    def _kwargs(self, request: ChatRequest) -> JSON:
        body = request.body
        kwargs: JSON = {k: body[k] for k in _PASSTHROUGH if k in body}
        limit = body.get("max_completion_tokens") or body.get("max_tokens") or self.deployment.max_output_tokens
        if limit:
            kwargs["max_tokens"] = limit
        kwargs["messages"] = _flatten(body["messages"])
        response_format = grammar_response_format(body.get("response_format"))
        if response_format is not None:
            kwargs["response_format"] = response_format
        return kwargs

    def _generate(self, kwargs: JSON, cancelled: threading.Event) -> Iterator[JSON]:
        """Token chunks from llama.cpp; always streamed internally so a departed client stops generation."""
        if self._llm is None:
            self.load()
        try:
            chunks = self._llm.create_chat_completion(**kwargs, stream=True)
            for chunk in chunks:
                if cancelled.is_set():
                    return
                yield chunk
        except ValueError as exc:
            if "context window" in str(exc) or "exceed" in str(exc):
                raise InvalidRequest(
                    f"This request does not fit the context window of {self.deployment.model!r} "
                    f"({self.deployment.n_ctx} tokens). Shorten the messages or lower max_tokens.",
                    param="messages",
                    code="context_length_exceeded",
                ) from None
            raise UpstreamError(f"Embedded model failed: {type(exc).__name__}", deployment=self.deployment.name) from None

    def _usage(self, completion_tokens: int) -> JSON:
        # After generation the context holds prompt + generated tokens, counted by the model's own tokenizer.
        prompt = max(0, int(self._llm.n_tokens) - completion_tokens)
        return {"prompt_tokens": prompt, "completion_tokens": completion_tokens, "total_tokens": prompt + completion_tokens}

    def _complete_blocking(self, kwargs: JSON, cancelled: threading.Event) -> JSON:
        parts: list[str] = []
        last: JSON = {}
        finish = None
        for chunk in self._generate(kwargs, cancelled):
            last = chunk
            choice = chunk["choices"][0] if chunk.get("choices") else {}
            content = (choice.get("delta") or {}).get("content")
            if content:
                parts.append(content)
            finish = choice.get("finish_reason") or finish
        return {
            "id": last.get("id", "chatcmpl-embedded"),
            "object": "chat.completion",
            "created": last.get("created", int(time.time())),
            "model": self.deployment.model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "".join(parts)},
                         "finish_reason": finish or "stop", "logprobs": None}],
            "usage": self._usage(len(parts)),
        }

    def _note_duration(self, started: float) -> None:
        self._recent_seconds = 0.8 * self._recent_seconds + 0.2 * (time.monotonic() - started)

    # -- Provider ----------------------------------------------------------------------------------
    async def complete(self, request: ChatRequest) -> JSON:
        self._admit()
        cancelled = threading.Event()
        kwargs = self._kwargs(request)
        self._waiting += 1
        started = time.monotonic()
        try:
            fut = asyncio.get_running_loop().run_in_executor(self._executor, self._complete_blocking, kwargs, cancelled)
            return await asyncio.shield(fut)
        except asyncio.CancelledError:
            cancelled.set()  # the client went away: stop generating at the next token
            raise
        finally:
            self._waiting -= 1
            self._note_duration(started)

    async def stream(self, request: ChatRequest) -> AsyncIterator[JSON]:
        self._admit()
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        cancelled = threading.Event()
        kwargs = self._kwargs(request)

        def produce() -> None:
            if cancelled.is_set():  # the client left while this request waited for the model
                loop.call_soon_threadsafe(queue.put_nowait, _DONE)
                return
            try:
                count = 0
                last: JSON | None = None
                for chunk in self._generate(kwargs, cancelled):
                    delta = chunk["choices"][0].get("delta", {}) if chunk.get("choices") else {}
                    if delta.get("content"):
                        count += 1
                    last = chunk
                    loop.call_soon_threadsafe(queue.put_nowait, chunk)
                if last is not None and request.include_usage and not cancelled.is_set():
                    tail = {**last, "choices": [], "usage": self._usage(count)}
                    loop.call_soon_threadsafe(queue.put_nowait, tail)
            except BaseException as exc:  # handed to the event loop, raised there
                loop.call_soon_threadsafe(queue.put_nowait, exc)
            finally:
                loop.call_soon_threadsafe(queue.put_nowait, _DONE)

        self._waiting += 1
        started = time.monotonic()
        loop.run_in_executor(self._executor, produce)
        try:
            while True:
                item = await queue.get()
                if item is _DONE:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            cancelled.set()
            self._waiting -= 1
            self._note_duration(started)
