"""Turn raw model output into the text shown as ghost text."""

from __future__ import annotations

from dataclasses import dataclass

FENCE = "```"
PAIRS = {")": "(", "]": "[", "}": "{"}


@dataclass(frozen=True, slots=True)
class Processed:
    text: str
    complete: bool
    """True when more output could not change the text: stop generating."""


def process(raw: str, prefix: str, suffix: str, final: bool = False) -> Processed:
    """Clean the raw output so far (`final` once the model stopped).

    `Processed.complete` says when generation can stop early.
    """
    text, complete = _strip_fences(raw)
    if text is None:
        return Processed("", False)
    text = _strip_echo(text, prefix)
    if text is None:
        return Processed("", False)

    suffix_line = suffix.split("\n", 1)[0]
    if suffix_line.strip():
        # the cursor is inside a line: complete that line only
        if "\n" in text:
            text, complete = text.split("\n", 1)[0], True
        text = _trim_overlap(text, suffix_line)
    else:
        text, ended = _cut_at_block_end(text, prefix, suffix, final)
        complete = complete or ended

    text = text.rstrip()
    return Processed(text if text.strip() else "", complete)


def _strip_fences(raw: str) -> tuple[str | None, bool]:
    """Drop a leading ```lang line and everything from the closing fence."""
    text = raw
    stripped = raw.lstrip()
    if stripped.startswith(FENCE):
        if "\n" not in stripped:
            return None, False
        text = stripped.split("\n", 1)[1]
    elif FENCE.startswith(stripped) and stripped:
        return None, False  # maybe the start of a fence
    if text.startswith(FENCE):
        return "", True
    end = text.find("\n" + FENCE)
    if end >= 0:
        return text[:end], True
    return text, False


def _strip_echo(text: str, prefix: str) -> str | None:
    """Remove a repetition of the whole prefix or of the current line's start."""
    line = prefix.rsplit("\n", 1)[-1]
    for echo in (prefix, line):
        if len(echo.strip()) < 2:
            continue
        if text.startswith(echo):
            return text[len(echo) :]
        if echo.startswith(text) and echo is line:
            return None  # could still become an echo: wait
    return text


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _cut_at_block_end(text: str, prefix: str, suffix: str, final: bool) -> tuple[str, bool]:
    """Stop where the completion leaves the cursor's block or repeats the suffix."""
    cursor_line = prefix.rsplit("\n", 1)[-1]
    block_indent = _indent(cursor_line) if cursor_line.strip() else len(cursor_line)
    next_suffix_line = next((ln.strip() for ln in suffix.split("\n") if ln.strip()), "")
    lines = text.split("\n")
    offset = len(lines[0]) + 1
    for number, line in enumerate(lines[1:], start=2):
        if line.strip():
            whole = final or number < len(lines)  # the last line may still grow
            left_block = block_indent > 0 and _indent(line) < block_indent
            repeats_suffix = whole and line.strip() == next_suffix_line
            if left_block or repeats_suffix:
                return text[: offset - 1], True
        offset += len(line) + 1
    return text, False


def _trim_overlap(text: str, suffix_line: str) -> str:
    """Drop the end of text that the suffix already has, e.g. a closing bracket."""
    for size in range(min(len(text), len(suffix_line)), 0, -1):
        overlap = suffix_line[:size]
        if text.endswith(overlap) and (size >= 3 or _unbalanced(text, overlap)):
            return text[:-size]
    return text


def _unbalanced(text: str, overlap: str) -> bool:
    """True if the closing brackets of overlap have no opener in text."""
    for char in overlap:
        opener = PAIRS.get(char)
        if opener is None or text.count(char) <= text.count(opener):
            return False
    return True
