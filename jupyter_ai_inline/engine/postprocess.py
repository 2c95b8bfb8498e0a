"""Turn raw model output into the text shown as ghost text."""

from __future__ import annotations

from dataclasses import dataclass

FENCE = "```"
PAIRS = {")": "(", "]": "[", "}": "{"}
COMMENTS = ("#", "//", "--", "/*")
"""How a comment line starts (Python, R, Julia, shell; C-like languages; SQL)."""
OPENERS = (":", "{", "(", "[")
"""How a line that opens a block (or a bracket to be continued below) ends."""
RECENT_LINES = 3
"""Lines just above the cursor whose comments a suggestion repeating them loops on."""


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
        block_indent = _block_start(prefix, text)
        if block_indent is None:
            text, ended = _through_first_line(text)
        else:
            text, ended = _cut_at_block_end(text, block_indent, prefix, suffix, final)
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


def _opens_block(line: str) -> bool:
    """A comment (the code it describes follows) or a line that opens a block or a bracket."""
    stripped = line.strip()
    return stripped.startswith(COMMENTS) or stripped.endswith(OPENERS)


def _block_start(prefix: str, text: str) -> int | None:
    """The indentation a suggestion may run at where a block starts, else `None` (one line).

    A block starts on an empty line after a comment or a block opener (or at the top of the
    cell), and where the suggestion begins with a line break at the end of such a line.
    Everywhere else (after text on the cursor's line, on an empty line after a line of code)
    the suggestion is one line.
    """
    lines = prefix.split("\n")
    cursor_line = lines[-1]
    if cursor_line.strip():
        first, newline, _ = text.partition("\n")
        if first.strip() or not newline:
            return None  # it goes on with the cursor's line (so far)
        previous: str | None = cursor_line
        indent = _indent(cursor_line)
    else:
        previous = next((line for line in reversed(lines[:-1]) if line.strip()), None)
        indent = len(cursor_line)
        if previous is None:
            return indent  # the top of the cell
    if not _opens_block(previous):
        return None
    if previous.rstrip().endswith(":") and not previous.strip().startswith(COMMENTS):
        indent = max(indent, _indent(previous) + 1)  # a Python body: indented further
    return indent


def _through_first_line(text: str) -> tuple[str, bool]:
    """The text up to the end of its first line with content (and whether that line ended)."""
    offset = 0
    for line in text.split("\n")[:-1]:
        offset += len(line) + 1
        if line.strip():
            return text[: offset - 1], True
    return text, False


def _cut_at_block_end(
    text: str, block_indent: int, prefix: str, suffix: str, final: bool
) -> tuple[str, bool]:
    """Stop where the completion leaves the block (a line indented less than `block_indent`),
    repeats the suffix, or starts to loop: a comment line it (or the lines just above the
    cursor) already has, or the line just before it again."""
    next_suffix_line = next((ln.strip() for ln in suffix.split("\n") if ln.strip()), "")
    above = [ln.strip() for ln in prefix.split("\n")[:-1] if ln.strip()][-RECENT_LINES:]
    comments = {ln for ln in above if ln.startswith(COMMENTS)}
    previous = ""
    lines = text.split("\n")
    offset = 0
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        whole = final or number < len(lines)  # the last line may still grow
        if stripped and number > 1:
            left_block = block_indent > 0 and _indent(line) < block_indent
            if left_block or (whole and stripped == next_suffix_line):
                return text[: max(offset - 1, 0)], True
        if stripped and whole:
            if stripped in comments or stripped == previous:
                return text[: max(offset - 1, 0)], True
            if stripped.startswith(COMMENTS):
                comments.add(stripped)
            previous = stripped
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
