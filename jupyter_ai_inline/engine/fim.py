"""Model families' own fill-in-the-middle prompts, for servers that take no `suffix`.

A server that rejects `suffix` (vLLM) or a model whose Ollama template ignores it can
still fill in the middle when the prompt carries the family's own FIM tokens as raw text.
The family comes from the model id (`auto`), or is named by the `fim_template` setting
(`none` turns this off).

Where each family's tokens were checked (public text found with the `search` tool; no
tokenizer was loaded here except the test model's):

* Qwen2.5-Coder: `<|fim_prefix|>`, `<|fim_suffix|>`, `<|fim_middle|>`, and for repositories
  `<|repo_name|>{name}` then `<|file_sep|>{path}` before each file: the Qwen2.5-Coder
  technical report (arXiv 2409.12186, figure 4, "Repo-Level FIM format") and the
  repository-level completion example of the README of github.com/QwenLM/Qwen2.5-Coder.
  Stops `<|endoftext|>`, `<|file_sep|>`, `<|fim_pad|>`, `<|repo_name|>`: Continue's Qwen
  template (core/autocomplete/templating). A llama-server test checks that the rendered
  markers are single special tokens of a GGUF carrying these tokens.
* DeepSeek-Coder (and -V2): `<｜fim▁begin｜>{prefix}<｜fim▁hole｜>{suffix}<｜fim▁end｜>`
  (U+FF5C full-width bars, U+2581 lower block): the "Code Insertion" example of the READMEs
  of github.com/deepseek-ai/DeepSeek-Coder and DeepSeek-Coder-V2. The end token
  `<｜end▁of▁sentence｜>`: third-party prompts (not the README).
* StarCoder / StarCoder2: `<fim_prefix>`, `<fim_suffix>`, `<fim_middle>`, `<fim_pad>`,
  `<filename>`, `<reponame>`, `<|endoftext|>`: special_tokens_map.json of
  bigcode/tiny_starcoder_py and StarCoder fine-tunes on Hugging Face. StarCoder2's
  `<file_sep>` / `<repo_name>`: a third-party StarCoder2 repo-level prompt only.
* CodeLlama: `▁<PRE>`, `▁<SUF>`, `▁<MID>`, `▁<EOT>` as prefix_token, suffix_token,
  middle_token, eot_token in the tokenizer_config.json of CodeLlama checkpoints on Hugging
  Face (fine-tunes of it; not the meta-llama repositories themselves); the layout
  `<PRE> {prefix} <SUF>{suffix} <MID>` and stop `<EOT>`: Continue's CodeLlama template.
* CodeGemma: `<|fim_prefix|>`, `<|fim_suffix|>`, `<|fim_middle|>`, `<|file_separator|>`
  (multi-file context, and what ends a fill): ai.google.dev/gemma/docs/codegemma/
  prompt-structure and the google/codegemma-7b / codegemma-1.1-2b model cards. `<eos>` is
  Gemma's end token (third-party CodeGemma stop lists).
* Codestral: `[SUFFIX]{suffix}[PREFIX]{prefix}`, suffix first, stops `[PREFIX]`, `[SUFFIX]`:
  Continue's codestral template. Not checked against Mistral's own tokenizer (Mistral's
  API takes `prompt` + `suffix` at `/v1/fim/completions`); one third-party server writes
  `[PREFIX]…[SUFFIX]…[MIDDLE]` instead, so the configured family can be wrong for some
  Codestral builds.

The other cells: in the `cells` layout Qwen gets them as files of a repository
(`<|repo_name|>`, `<|file_sep|>`), the others in document order around the current cell
(`FimPrompt.full_prefix`, cells above before the prefix; `full_suffix`, cells below after
the suffix); in the `file` layout every family gets the notebook as one file around the
cursor (`full_prefix`, `full_suffix` with their cell markers). Both are the already
budgeted `above` / `below` of the prompt.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .models import FimPrompt

AUTO = "auto"
NONE = "none"

BAR = "\uff5c"  # DeepSeek's full-width vertical bar
LOW = "\u2581"  # DeepSeek's word separator (lower one eighth block)


def _ds(name: str) -> str:
    return f"<{BAR}{name.replace(' ', LOW)}{BAR}>"


@dataclass(frozen=True, slots=True)
class FimTemplate:
    """One family's FIM prompt and the tokens that end a fill (most important first)."""

    name: str
    render_text: Callable[[FimPrompt], str]
    stop: tuple[str, ...]

    def render(self, prompt: FimPrompt) -> str:
        return self.render_text(prompt)


def _qwen(prompt: FimPrompt) -> str:
    if prompt.layout == "file" or not (prompt.above or prompt.below):
        return f"<|fim_prefix|>{prompt.full_prefix}<|fim_suffix|>{prompt.full_suffix}<|fim_middle|>"
    fim = f"<|fim_prefix|>{prompt.cell_prefix}<|fim_suffix|>{prompt.suffix}<|fim_middle|>"
    name = prompt.filename or "notebook"
    stem = name.rsplit("/", 1)[-1]
    files = [f"<|repo_name|>{name.rsplit('/', 1)[0] if '/' in name else 'notebook'}\n"]
    if prompt.above:
        files.append(f"<|file_sep|>{stem} (cells above)\n" + "\n\n".join(prompt.above) + "\n")
    if prompt.below:
        files.append(f"<|file_sep|>{stem} (cells below)\n" + "\n\n".join(prompt.below) + "\n")
    files.append(f"<|file_sep|>{stem}\n{fim}")
    return "".join(files)


def _pair(before: str, middle: str, after: str) -> Callable[[FimPrompt], str]:
    def render(prompt: FimPrompt) -> str:
        return f"{before}{prompt.full_prefix}{middle}{prompt.full_suffix}{after}"

    return render


def _codestral(prompt: FimPrompt) -> str:
    return f"[SUFFIX]{prompt.full_suffix}[PREFIX]{prompt.full_prefix}"


TEMPLATES: dict[str, FimTemplate] = {
    template.name: template
    for template in (
        FimTemplate(
            "qwen",
            _qwen,
            ("<|endoftext|>", "<|file_sep|>", "<|fim_pad|>", "<|repo_name|>", "<|fim_prefix|>"),
        ),
        FimTemplate(
            "deepseek",
            _pair(_ds("fim begin"), _ds("fim hole"), _ds("fim end")),
            (_ds("end of sentence"), _ds("fim begin"), _ds("fim hole"), _ds("fim end")),
        ),
        FimTemplate(
            "starcoder",
            _pair("<fim_prefix>", "<fim_suffix>", "<fim_middle>"),
            ("<|endoftext|>", "<file_sep>", "<fim_prefix>", "<filename>", "<fim_suffix>"),
        ),
        FimTemplate(
            "codellama",
            lambda p: f"<PRE> {p.full_prefix} <SUF>{p.full_suffix} <MID>",
            ("<EOT>", "</s>", "<PRE>", "<SUF>"),
        ),
        FimTemplate(
            "codegemma",
            _pair("<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"),
            ("<|file_separator|>", "<eos>", "<|fim_prefix|>", "<|fim_middle|>"),
        ),
        FimTemplate("codestral", _codestral, ("[PREFIX]", "[SUFFIX]", "</s>")),
    )
}

CHOICES = (AUTO, NONE, *TEMPLATES)


def family_of(model: str) -> str | None:
    """The FIM family a model id names, if we know it (`qwen2.5-coder:1.5b` → `qwen`)."""
    model = model.lower()
    if "codegemma" in model:
        return "codegemma"
    if "codestral" in model:
        return "codestral"
    if "codeqwen" in model or "starcoder" in model:
        return "starcoder"  # CodeQwen1.5 uses StarCoder's tokens
    if "qwen" in model and "coder" in model:
        return "qwen"
    if "deepseek" in model and "coder" in model:
        return "deepseek"
    if any(name in model for name in ("codellama", "code-llama", "code_llama")):
        return "codellama"
    return None


def check_setting(value: str) -> str:
    """The `fim_template` setting, normalized; an unknown family is a ValueError."""
    value = (value or AUTO).strip().lower()
    if value not in CHOICES:
        raise ValueError(f"fim_template must be one of {', '.join(CHOICES)}, not {value!r}")
    return value


def template_for(setting: str, model: str) -> FimTemplate | None:
    """The template to use for `model` under the `fim_template` setting, or None (also for
    a setting that names no family: the configuration checks it with `check_setting`)."""
    setting = (setting or AUTO).strip().lower()
    if setting == NONE:
        return None
    family = family_of(model) if setting == AUTO else setting
    return TEMPLATES.get(family) if family else None


def merge_stops(family: tuple[str, ...], others: tuple[str, ...], limit: int | None) -> list[str]:
    """The family's stops first, then the others, without repeats, at most `limit`."""
    merged = list(dict.fromkeys((*family, *others)))
    return merged[:limit] if limit else merged
