"""Measures TokenEstimator against OpenAI's real tokenizers (tiktoken, cl100k_base and o200k_base).

Run from anywhere:  TIKTOKEN_CACHE_DIR=/path/to/encodings python bench/tokens/measure.py [-v]
See README.md for how to obtain the encoding files offline. Needs swiftc on PATH (for estimate.sh).
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile

import tiktoken

HERE = os.path.dirname(os.path.abspath(__file__))
ENCODINGS = ["cl100k_base", "o200k_base"]
CATEGORIES = [
    ("English prose, chat", ("en-", "chat-")),
    ("code, JSON, Markdown", ("code-", "json-", "md-")),
    ("numbers, URLs, ids, base64, repeats", ("num-", "url-", "hex-", "b64-", "rep-")),
    ("French, German, Spanish", ("eu-",)),
    ("Chinese, Japanese, Korean", ("zh-", "ja-", "ko-")),
    ("Russian, Greek, Arabic, Hindi", ("ru-", "other-")),
    ("emoji", ("emoji-",)),
]


def run_driver(mode, lines):
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False, encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
        path = handle.name
    try:
        output = subprocess.run([os.path.join(HERE, "estimate.sh"), mode, path], check=True, capture_output=True, text=True)
    finally:
        os.unlink(path)
    return [int(value) for value in output.stdout.split()]


def load_corpus():
    directory = os.path.join(HERE, "corpus")
    return [(name, open(os.path.join(directory, name), encoding="utf-8").read()) for name in sorted(os.listdir(directory))]


def summary(estimates, truths):
    errors = [(estimate - truth) / truth for estimate, truth in zip(estimates, truths)]
    absolute = [abs(error) for error in errors]
    worst = max(range(len(errors)), key=lambda index: absolute[index])
    return {
        "mape": 100 * statistics.mean(absolute),
        "median": 100 * statistics.median(absolute),
        "bias": 100 * statistics.mean(errors),
        "worst": 100 * errors[worst],
        "worst_index": worst,
    }


# --- The OpenAI cookbook's counting recipes ("How to count tokens with tiktoken"), re-implemented. ---


def cookbook_message_tokens(messages, encoding):
    count = 3  # every reply is primed with <|start|>assistant<|message|>
    for message in messages:
        count += 3
        for key, value in message.items():
            if isinstance(value, list):  # content parts: the text parts' text
                count += sum(len(encoding.encode(part["text"])) for part in value if part.get("type") == "text")
            else:
                count += len(encoding.encode(value))
            if key == "name":
                count += 1
    return count


def cookbook_tool_tokens(tools, encoding):
    func_init, prop_init, prop_key, enum_init, enum_item, func_end = 7, 3, 3, -3, 3, 12
    count = 0
    for tool in tools:
        function = tool["function"]
        count += func_init
        description = function.get("description", "").removesuffix(".")
        count += len(encoding.encode(f"{function['name']}:{description}"))
        properties = function.get("parameters", {}).get("properties", {})
        if properties:
            count += prop_init
            for key, schema in properties.items():
                count += prop_key
                if "enum" in schema:
                    count += enum_init
                    for item in schema["enum"]:
                        count += enum_item + len(encoding.encode(str(item)))
                property_description = schema.get("description", "").removesuffix(".")
                count += len(encoding.encode(f"{key}:{schema.get('type', '')}:{property_description}"))
    return count + func_end if tools else 0


WEATHER = {
    "type": "function",
    "function": {
        "name": "get_current_weather",
        "description": "Get the current weather in a given location.",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"], "description": "The temperature unit."},
            },
            "required": ["location"],
        },
    },
}
SEARCH = {
    "type": "function",
    "function": {
        "name": "search_orders",
        "description": "Search the customer's orders by status and date range; returns at most 20 orders.",
        "parameters": {
            "type": "object",
            "properties": {
                "status": {"type": "string", "enum": ["pending", "shipped", "delivered", "returned"]},
                "from_date": {"type": "string", "description": "ISO 8601 date, inclusive."},
                "to_date": {"type": "string", "description": "ISO 8601 date, inclusive."},
                "limit": {"type": "integer", "description": "How many orders to return, 1 to 20."},
            },
        },
    },
}
NO_PARAMETERS = {"type": "function", "function": {"name": "get_time", "description": "Returns the current time in UTC."}}


def requests(corpus):
    text = dict(corpus)
    system = {"role": "system", "content": text["chat-system-prompt.txt"]}
    conversations = [
        [system, {"role": "user", "content": text["chat-question-1.txt"]}],
        [
            system,
            {"role": "user", "content": text["chat-question-1.txt"]},
            {"role": "assistant", "content": text["chat-answer.txt"]},
            {"role": "user", "content": text["chat-question-3.txt"]},
            {"role": "assistant", "content": text["en-paragraph.txt"]},
        ],
        [{"role": "user", "content": "What does this code do?\n\n" + text["code-python-1.py.txt"]}],
        [{"role": "user", "content": text["zh-chat.txt"]}, {"role": "assistant", "content": text["zh-news.txt"]}],
        [{"role": "user", "name": "maya_r", "content": text["en-dialogue.txt"]}],
        [{"role": "user", "content": "Validate this config:\n" + text["json-config.json.txt"]}],
        [system, {"role": "user", "content": "Summarise:\n\n" + text["en-essay.txt"]}],
        [{"role": "user", "content": text["eu-german-chat.txt"]}, {"role": "assistant", "content": text["eu-german.txt"]}],
        [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": text["chat-question-2.txt"]},
                    {"type": "text", "text": text["md-table.md.txt"]},
                ],
            }
        ],
        [{"role": "user", "content": "Hi"}],
    ]
    result = [({"model": "gpt-4o", "messages": messages}, None) for messages in conversations]
    tool_sets = [[WEATHER], [WEATHER, SEARCH], [WEATHER, SEARCH, NO_PARAMETERS]]
    for tools in tool_sets:
        messages = [system, {"role": "user", "content": "Where is my order, and is it raining in Lisbon?"}]
        result.append(({"model": "gpt-4o", "messages": messages, "tools": tools}, tools))
    return result


def main():
    verbose = "-v" in sys.argv
    encodings = {name: tiktoken.get_encoding(name) for name in ENCODINGS}
    corpus = load_corpus()
    truths = {name: [len(encoding.encode(text, disallowed_special=())) for _, text in corpus] for name, encoding in encodings.items()}

    # The gateway sees JSON string contents: feed them escaped, once with raw UTF-8 and once \u-escaped.
    raw = run_driver("text", [json.dumps(text, ensure_ascii=False) for _, text in corpus])
    escaped = run_driver("text", [json.dumps(text, ensure_ascii=True) for _, text in corpus])
    mismatches = [name for (name, _), a, b in zip(corpus, raw, escaped) if a != b]
    print(f"corpus: {len(corpus)} samples; raw UTF-8 vs \\u-escaped estimates differ on: {mismatches or 'none'}\n")

    print("| category | n | encoding | mean abs error | median | bias | worst |")
    print("|---|---:|---|---:|---:|---:|---|")
    for label, prefixes in CATEGORIES + [("all", ("",))]:
        indices = [index for index, (name, _) in enumerate(corpus) if name.startswith(prefixes)]
        for encoding in ENCODINGS:
            result = summary([raw[i] for i in indices], [truths[encoding][i] for i in indices])
            worst_name = corpus[indices[result["worst_index"]]][0]
            print(
                f"| {label} | {len(indices)} | {encoding} | {result['mape']:.1f} % | {result['median']:.1f} % | "
                f"{result['bias']:+.1f} % | {result['worst']:+.1f} % ({worst_name}) |"
            )

    if verbose:
        print("\n| sample | bytes | cl100k | o200k | estimate |\n|---|---:|---:|---:|---:|")
        for index, (name, text) in enumerate(corpus):
            print(f"| {name} | {len(text.encode())} | {truths['cl100k_base'][index]} | {truths['o200k_base'][index]} | {raw[index]} |")

    cases = requests(corpus)
    estimates = run_driver("requests", [json.dumps(body, ensure_ascii=False) for body, _ in cases])
    print("\nWhole requests vs the cookbook recipe (messages; tools with the cookbook's gpt-4o tool recipe):\n")
    print("| request | messages | tools | cl100k | o200k | estimate |\n|---|---:|---:|---:|---:|---:|")
    reference = {encoding: [] for encoding in ENCODINGS}
    for index, ((body, tools), estimate) in enumerate(zip(cases, estimates)):
        for encoding in ENCODINGS:
            counted = cookbook_message_tokens(body["messages"], encodings[encoding])
            counted += cookbook_tool_tokens(tools or [], encodings[encoding])
            reference[encoding].append(counted)
        print(
            f"| {index + 1} | {len(body['messages'])} | {len(tools or [])} | {reference['cl100k_base'][index]} | "
            f"{reference['o200k_base'][index]} | {estimate} |"
        )
    print()
    for label, selection in [("text-only", range(0, 10)), ("with tools", range(10, len(cases)))]:
        for encoding in ENCODINGS:
            result = summary([estimates[i] for i in selection], [reference[encoding][i] for i in selection])
            print(
                f"requests {label}, {encoding}: mean abs error {result['mape']:.1f} %, median {result['median']:.1f} %, "
                f"bias {result['bias']:+.1f} %, worst {result['worst']:+.1f} % (request {selection[result['worst_index']] + 1})"
            )


if __name__ == "__main__":
    main()
