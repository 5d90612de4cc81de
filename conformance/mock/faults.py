"""The fault switches: deliberate deviations that real servers have shipped.

Each name is a key of the suite's fault table (the check that must catch it), so names are
stable. The mock applies a fault wherever it makes sense for a profile; the code that bends
behaviour tests `name in config.faults` at the one place the documented behaviour lives.
"""

from __future__ import annotations

FAULTS: dict[str, str] = {
    # streaming framing and content
    "stream-no-done": "streams end without the data: [DONE] sentinel",
    "stream-no-blank-line": "SSE events separated by a single newline instead of a blank line",
    "stream-json-content-type": "SSE bytes sent with content-type application/json",
    "stream-non-json-event": "a data: event whose payload is not JSON in the middle of streams",
    "stream-data-after-done": "another data event after data: [DONE]",
    "stream-id-changes": "every chunk of a stream carries a different id",
    "stream-no-finish-reason": "no chunk of a stream carries a finish_reason",
    "stream-include-usage-ignored": "stream_options.include_usage ignored (no usage chunk)",
    "stream-stall": "streams send the first chunk, then nothing until the client leaves",
    "stream-reset-midway": "streams break off (connection closed mid-body) after the first chunk",
    "stream-as-json": "stream: true answered with the plain (non-streamed) JSON object",
    "stream-no-role": "the first chat delta carries no role",
    "stream-role-number": "chat deltas after the first give role as an enum number (2)",
    "stream-mismatch": "the streamed text differs from the non-streamed text",
    "stream-max-tokens-ignored": "max_tokens is applied only without stream",
    "stream-stop-ignored": "stop strings are applied only without stream",
    "stream-n-ignored": "n is honoured only without stream: a stream has one choice",
    "breaks-under-concurrency": "with another request in flight, answers are cut off mid-body",
    # usage and generation semantics
    "usage-mismatch": "usage.total_tokens is not prompt_tokens + completion_tokens",
    "usage-negative": "usage.prompt_tokens is negative (total_tokens still adds up)",
    "prompt-tokens-zero": "usage.prompt_tokens is 0 whatever the prompt",
    "completion-tokens-zero": "usage.completion_tokens is 0 whatever the text",
    "finish-reason-unknown": "finish_reason 'end_turn' where OpenAI says 'stop'",
    "gateway-usage-not-summed": "gateway top-level usage is the first choice's, not the sum",
    "length-as-stop": "finish_reason 'stop' when the text was cut by max_tokens",
    "max-tokens-ignored": "max_tokens is not applied",
    "stop-string-kept": "text cut after the stop string instead of before it",
    "n-ignored": "n is ignored: always one choice",
    "prompt-array-single-choice": "a prompt array is answered with one choice",
    "gateway-one-choice": "a gateway model list is answered with one choice",
    "seed-ignored": "seed has no effect (random unless temperature is 0)",
    "model-wrong": "answers name a different model than the one requested",
    "id-missing": "answers and chunks carry no id",
    "ids-repeat": "every answer carries the same id",
    "created-wrong-type": "created is a string (alphaedge, compat) / an int (gateway top level)",
    "created-stale": "created is one day in the past",
    "object-wrong": "the object field holds the wrong constant",
    # documented bounds not enforced
    "bound-temperature-max": "temperature above its documented maximum is served",
    "bound-temperature-min": "temperature below its documented minimum is served",
    "bound-top-p": "top_p outside its documented range is served",
    "bound-presence-penalty": "presence_penalty outside its documented range is served",
    "bound-frequency-penalty": "frequency_penalty outside its documented range is served",
    "bound-n": "n below its documented minimum is served",
    "bound-max-tokens": "max_tokens below its documented minimum is served",
    "bound-stop-min-items": "an empty stop list is served despite minItems",
    "bound-messages-min-items": "an empty chat messages list is served despite minItems",
    "bound-role-enum": "a chat message role outside system/user/assistant is served",
    "bound-model-min-items": "an empty gateway model list is served despite minItems",
    # documented legal edges refused
    "null-refused": "null refused in a field whose documented type allows it (max_tokens)",
    "prompt-array-refused": "the documented array form of prompt is refused",
    "model-string-refused": "gateway: a single model name (not in a list) is refused",
    # request typing and errors
    "bool-as-number": "booleans accepted where numbers belong (temperature: true served as 1)",
    "wrong-type-accepted": "strings accepted where numbers belong",
    "null-content-served": "a chat message with content null is served (as empty)",
    "fractional-integer-served": "a fractional number is served where an integer belongs (16.5)",
    "missing-field-500": "a missing required field is answered 500",
    "malformed-json-500": "malformed JSON is answered 500 with an HTML body",
    "compat-400-not-422": "compat validation errors answered 400 instead of 422",
    "compat-422-bad-detail": "compat 422 body is {'detail': 'bad request'}, not a detail list",
    "compat-422-loc-objects": "compat 422 detail items give loc as [{}], as 004's sample shows",
    "error-code-int": "error envelopes carry error.code as a number (the spec: string or null)",
    "unknown-model-200": "an unknown model is served",
    "not-ready-served": "the compat not-ready model endpoint is served",
    "auth-not-required": "requests without a key or with a wrong key are accepted",
    "key-echoed": "error bodies echo the Authorization header they were sent",
    "auth-400": "a missing or wrong key is refused with 400 instead of 401",
    "wrong-key-echoed": "a 401 quotes the (wrong) Authorization value it was sent",
    "method-not-405": "a wrong method on a known path is answered 404",
    # HTTP level
    "json-text-plain": "JSON answers sent with content-type text/plain",
    "huge-body": "every 200 answer padded to 20 MB",
    "invalid-utf8": "invalid UTF-8 bytes inside JSON strings of answers",
    "json-nan": "answers and chunks carry a number written NaN, which is not JSON",
    "gzip-bomb": "answers (when gzip is accepted) are a small gzip body expanding past 20 MB",
    "html-502": "every request answered 502 with an HTML page",
    "garbage": "every answer is 200 with random non-JSON bytes labelled application/json",
}

# fault -> (request field, JSON Schema keywords whose errors the fault drops)
BOUND_FAULTS: dict[str, tuple[str, frozenset[str]]] = {
    "bound-temperature-max": ("temperature", frozenset({"maximum", "exclusiveMaximum"})),
    "bound-temperature-min": ("temperature", frozenset({"minimum", "exclusiveMinimum"})),
    "bound-top-p": (
        "top_p",
        frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}),
    ),
    "bound-presence-penalty": (
        "presence_penalty",
        frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}),
    ),
    "bound-frequency-penalty": (
        "frequency_penalty",
        frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}),
    ),
    "bound-n": ("n", frozenset({"minimum", "exclusiveMinimum"})),
    "bound-max-tokens": ("max_tokens", frozenset({"minimum", "exclusiveMinimum"})),
    "bound-stop-min-items": ("stop", frozenset({"minItems"})),
    "bound-messages-min-items": ("messages", frozenset({"minItems"})),
    "bound-role-enum": ("messages", frozenset({"enum"})),
    "bound-model-min-items": ("model", frozenset({"minItems"})),
}

# model-wrong answers this name: no resolution of any requested one (the requested name plus
# "-2025-01-01" is legal: variant model-resolved; semantics.names_model states the rule)
WRONG_MODEL = "conformance-mock-other-model"
STALE_SECONDS = 86_400
HUGE_BODY_BYTES = 20 * 1024 * 1024
INVALID_UTF8 = b"\xc3\x28\xff"  # a broken 2-byte sequence and a byte never valid in UTF-8
REPEATED_IDS = {
    "cmpl": "cmpl-000000000000000000000000",
    "chatcmpl": "chatcmpl-000000000000000000000000",
    "uuid": "00000000-0000-4000-8000-000000000000",
}
WRONG_OBJECT = {
    "text_completion": "text.completion",
    "chat.completion": "chat.completions",
    "chat.completion.chunk": "chat.completion",
}
HTML_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)
HTML_500 = (
    b"<!doctype html>\n<html><head><title>500 Internal Server Error</title></head>"
    b"<body><h1>Internal Server Error</h1><p>The server encountered an internal error."
    b"</p></body></html>\n"
)


def unknown(names: list[str]) -> list[str]:
    return [name for name in names if name not in FAULTS]


def listing() -> str:
    width = max(len(name) for name in FAULTS)
    return "\n".join(f"{name:<{width}}  {text}" for name, text in FAULTS.items())
