"""Request, settings and suggestion models of the engine (no Jupyter imports)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, model_validator

from .errors import InlineError

CellKind = Literal["code", "markdown", "raw"]
Layout = Literal["cells", "file"]
"""How a prompt lays out the other cells (`FimPrompt.layout`)."""
LayoutSetting = Literal["auto", "cells", "file"]
"""The `prompt_layout` setting: a layout, or `auto` (where measured: `Backend.laid_out`)."""

LANGUAGES_BY_MIME = {"text/x-ipython": "python", "text/x-python": "python", "text/x-rsrc": "r"}


def language_for(mime: str | None, language: str | None = None) -> str | None:
    """The editor's language, from its name or else its MIME type."""
    if language:
        return language
    mime = mime or ""
    return LANGUAGES_BY_MIME.get(mime) or (mime.rsplit("/", 1)[-1].removeprefix("x-") or None)


@dataclass(frozen=True, slots=True)
class CellText:
    """One other cell of the notebook, as the prompt needs it."""

    kind: CellKind
    source: str
    outputs: str = ""


@dataclass(frozen=True, slots=True)
class KernelVariable:
    """One name of the running kernel and what it holds, as the kernel summarized it
    (`DataFrame (1000, 4): region object, units int64`)."""

    name: str
    text: str


class CompletionRequest(BaseModel):
    """What the editor asks for: the current cell split at the cursor."""

    prefix: str
    suffix: str = ""
    language: str | None = None
    mime: str | None = None
    path: str | None = None
    cell_id: str | None = None
    above: tuple[CellText, ...] = ()
    below: tuple[CellText, ...] = ()
    """The other cells as the browser sent them, nearest first: the prompt's context where
    the server has no live document of the notebook."""
    variables: tuple[KernelVariable, ...] = ()
    """The kernel's variables, most recently defined first (`kernel_summary.py`)."""

    @model_validator(mode="after")
    def _language_from_mime(self) -> CompletionRequest:
        self.language = language_for(self.mime, self.language)
        return self


class BackendSettings(BaseModel):
    """Where and how to reach a model server."""

    base_url: str
    model: str
    api_key: SecretStr | None = None
    connect_timeout: float = Field(default=3.0, gt=0)
    first_text_timeout: float = Field(default=15.0, gt=0)
    """Seconds from sending a request to its first text (prompt evaluation included)."""
    stall_timeout: float = Field(default=5.0, gt=0)
    """Longest silence between two pieces of text, once the first came."""
    read_timeout: float = Field(default=30.0, gt=0)
    """httpx's own bound on any one read (a backstop: the deadlines above come first)."""
    max_response_bytes: int = Field(default=1 << 20, gt=0)
    """A streamed answer larger than this is broken off as a bad response."""
    fim_template: str = "auto"
    """The FIM prompt family for servers that take no `suffix` (see `engine.fim`)."""
    prompt_layout: LayoutSetting = "auto"
    """How the prompt lays out the other cells (`FimPrompt.layout`)."""


class GenerationSettings(BaseModel):
    """How many suggestions to make and how long they may be."""

    suggestions: int = Field(default=1, ge=1, le=5)
    max_tokens: int = Field(default=128, ge=1, le=4096)
    temperature: float = Field(default=0.6, ge=0, le=2)
    """Temperature of the alternatives; the first suggestion is always greedy."""


class ContextBudget(BaseModel):
    """How much of the other cells goes into the prompt."""

    prefix_chars: int = Field(default=12000, ge=1)
    suffix_chars: int = Field(default=4000, ge=0)
    """The current cell's own text is cut to these sizes around the cursor."""
    above_chars: int = Field(default=6000, ge=0)
    below_chars: int = Field(default=2000, ge=0)
    max_cells: int = Field(default=50, ge=0)
    """At most this many cells on each side, however small they are."""
    include_outputs: bool = False
    output_chars: int = Field(default=400, ge=0)
    variables_chars: int = Field(default=1500, ge=0)
    """The kernel's variables, a comment block right before the current cell."""


@dataclass(frozen=True, slots=True)
class Sampling:
    """Sampling options of one suggestion's generation."""

    max_tokens: int
    temperature: float = 0.0
    seed: int | None = None
    stop: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FimPrompt:
    """A fill-in-the-middle prompt: the cursor sits between prefix and suffix.

    `above` and `below` are the rendered other cells, in document order; `variables` the
    rendered kernel variables, which go right before the current cell.

    `layout` says how the other cells join the current one. `cells`: as they are, a blank
    line between them (llama.cpp's `/infill` gets the cells above as files of `input_extra`,
    Qwen's template as files of a repository: see the backends). `file`: the notebook as
    one Python file in the percent format, each cell after its marker line (`# %%`, or
    `# %% [markdown]` before prose: `above_marks`, `below_marks`, `cell_mark`), the cells
    above in the prefix and those below in the suffix.
    """

    prefix: str
    suffix: str
    language: str = "python"
    above: tuple[str, ...] = ()
    below: tuple[str, ...] = ()
    filename: str = ""
    variables: str = ""
    layout: Layout = "cells"
    above_marks: tuple[str, ...] = ()
    below_marks: tuple[str, ...] = ()
    """The file layout's marker line of each cell of `above` / `below` (`cell_mark` where
    none is given)."""
    cell_mark: str = "# %%"
    """The marker line of a code cell, the current one's too."""

    @property
    def cell_prefix(self) -> str:
        """The kernel's variables and the text before the cursor: the current cell's part
        of the prompt. After the cells above, so that a new summary (each run) leaves the
        model server's cached prompt of the cells above valid."""
        return f"{self.variables}\n\n{self.prefix}" if self.variables else self.prefix

    def laid_out(self, cells: tuple[str, ...], marks: tuple[str, ...]) -> tuple[str, ...]:
        """Other cells as the layout writes them: after their marker lines in a file."""
        if self.layout == "cells":
            return cells
        marks = marks[: len(cells)] + (self.cell_mark,) * (len(cells) - len(marks))
        return tuple(f"{mark}\n{cell}" for mark, cell in zip(marks, cells, strict=True))

    @property
    def full_prefix(self) -> str:
        """The cells above, the kernel's variables and the text before the cursor; in a
        file the current cell's marker line before the variables (when cells are above)."""
        above = self.laid_out(self.above, self.above_marks)
        mark = f"{self.cell_mark}\n" if self.layout == "file" and above else ""
        return "".join(f"{cell}\n\n" for cell in above) + mark + self.cell_prefix

    @property
    def full_suffix(self) -> str:
        """The text after the cursor and the cells below."""
        below = self.laid_out(self.below, self.below_marks)
        return self.suffix + "".join(f"\n\n{cell}" for cell in below)


@dataclass(slots=True)
class SuggestionUpdate:
    """The full processed text of one suggestion so far."""

    index: int
    text: str
    done: bool = False
    error: InlineError | None = None
