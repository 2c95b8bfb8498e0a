"""Model families' own fill-in-the-middle prompts, for servers that take no `suffix`.

A server that rejects `suffix` (vLLM) or a model whose Ollama template ignores it can
still fill in the middle when the prompt carries the family's own FIM tokens as raw text.
The family comes from the model id (`auto`), or is named by the `fim_template` setting
(`none` turns this off).

Where each family's tokens were checked:

* Qwen2.5-Coder: `<|fim_prefix|>`, `<|fim_suffix|>`, `<|fim_middle|>`, `<|fim_pad|>`,
  `<|repo_name|>`, `<|file_sep|>`, `<|endoftext|>`: the repo-level FIM format in the
  Qwen2.5-Coder technical report (arXiv 2409.12186, figure 4) and the README of
  github.com/QwenLM/Qwen2.5-Coder (file-level and repository-level completion).
* DeepSeek-Coder: `<｜fim▁begin｜>`, `<｜fim▁hole｜>`, `<｜fim▁end｜>` (U+FF5C full-width
  bars, U+2581 lower block), end `<｜end▁of▁sentence｜>`: the README of
  github.com/deepseek-ai/DeepSeek-Coder (code insertion).
* StarCoder / StarCoder2: `<fim_prefix>`, `<fim_suffix>`, `<fim_middle>`, `<fim_pad>`,
  `<filename>`, `<|endoftext|>` (the StarCoder vocabulary, huggingface.co/bigcode);
  StarCoder2 adds `<file_sep>` and `<repo_name>`.
* CodeLlama: `▁<PRE>`, `▁<SUF>`, `▁<MID>`, `▁<EOT>` (the tokenizer_config.json of the
  codellama checkpoints on Hugging Face: prefix_token, suffix_token, middle_token,
  eot_token), laid out as `<PRE> {prefix} <SUF>{suffix} <MID>`, end `</s>`.
* CodeGemma: `<|fim_prefix|>`, `<|fim_suffix|>`, `<|fim_middle|>`, `<|file_separator|>`:
  ai.google.dev/gemma/docs/codegemma/prompt-structure and the google/codegemma-7b model
  card; the model ends a fill with `<|file_separator|>` (or Gemma's `<eos>`).
* Codestral: `[SUFFIX]{suffix}[PREFIX]{prefix}`, suffix first, stops `[PREFIX]`, `[SUFFIX]`,
  `</s>`: Continue's autocomplete templates (core/autocomplete/templating); Mistral's own
  API takes `prompt` + `suffix` at `/v1/fim/completions`.

The other cells: Qwen gets them as files of a repository (`<|repo_name|>`, `<|file_sep|>`),
the others in document order around the current cell (`FimPrompt.full_prefix`, cells
above before the prefix; `full_suffix`, cells below after the suffix). Both are the
already budgeted `above` / `below` of the prompt.
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
    fim = f"<|fim_prefix|>{prompt.prefix}<|fim_suffix|>{prompt.suffix}<|fim_middle|>"
    if not prompt.above and not prompt.below:
        return fim
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
