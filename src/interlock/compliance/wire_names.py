"""Field names of the OpenAI and Anthropic request formats (and of JSON Schema, which tools carry).

Not what is scanned (every string, number and key of a body is): these are names a client cannot
fill with personal data, so a report may print them in a location and the scan may skip them as
object keys. Any other key (a metadata key, a tool parameter name) is scanned and never printed.
"""

from __future__ import annotations

WIRE_NAMES: frozenset[str] = frozenset(
    # OpenAI chat completions: request, messages, content parts, tools, tool calls
    """
    messages model stream stream_options include_usage include_obfuscation max_tokens max_completion_tokens
    temperature top_p n stop seed presence_penalty frequency_penalty logit_bias logprobs top_logprobs user
    metadata tools tool_choice parallel_tool_calls response_format reasoning_effort service_tier store
    modalities prediction verbosity safety_identifier prompt_cache_key audio web_search_options functions
    function_call role content name tool_calls tool_call_id refusal annotations reasoning_content type text
    image_url url detail input_audio data format file file_id file_data filename function arguments
    description parameters strict json_schema schema voice id
    """.split()
    # Anthropic messages and Responses-API input items
    + """
    system stop_sequences top_k thinking budget_tokens input_schema cache_control source media_type
    tool_use_id input is_error citations signature disable_parallel_tool_use user_id container
    mcp_servers instructions prompt call_id output status
    """.split()
    # JSON Schema keywords
    + """
    properties required items enum const title default additionalProperties anyOf oneOf allOf not $ref
    $defs definitions minimum maximum exclusiveMinimum exclusiveMaximum minLength maxLength pattern
    minItems maxItems uniqueItems nullable examples multipleOf propertyOrdering
    """.split()
)
