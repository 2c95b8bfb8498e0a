"""`CompletionService`: what the server extension owns for completions, in one object.

The extension app builds it at start, hands it to every completions websocket
(`CompletionsHandler.initialize`) and leaves it in the server's settings, where Jupyter AI's
providers find it. It holds the administrator's settings, the managed local model (if any),
the server-wide generation limit and what is known of llama.cpp servers' modes (`LlamaModes`,
shared by the backends it makes, which relearn them), and answers
the questions a request asks: which model, is it the local one, may it go on.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from pydantic import SecretStr, ValidationError

from ..engine import CompletionRequest, InlineCompleter
from ..engine.backends import BACKENDS
from ..engine.backends.llamacpp import LlamaCppBackend, LlamaModes, Mode
from ..engine.changes import Changes
from ..engine.config import ModelConfig
from ..engine.errors import InlineError, cut
from ..engine.limits import GenerationLimit
from ..local import ManagedModel, catalog
from ..notebook_context import notebook_prompt
from .choice import (
    AdminSettings,
    ClientSettings,
    Source,
    jupyter_ai_fields,
    jupyter_ai_model_id,
    status_message,
)
from .messages import first_problem
from .pipeline import Suggestion

SETTINGS_KEY = "jupyter_ai_inline_service"
"""Where the service sits in the Jupyter server's settings."""


class CompletionService:
    def __init__(
        self,
        admin: AdminSettings,
        limit: GenerationLimit,
        local: ManagedModel | None = None,
        log: logging.Logger | None = None,
    ) -> None:
        self.admin = admin
        self.limit = limit
        self.local = local
        self.log = log or logging.getLogger(__name__)
        self.changes = Changes()
        """Told when a status may have changed: the local model's state, a llama.cpp mode
        learned or changed. Each websocket session subscribes."""
        self.jupyter_ai_problem: str | None = None
        """Why Jupyter AI's choice of one of our models was left out by the last `choose`."""
        self.jupyter_ai_problem_logged: str | None = None
        self.ghost_text_tabs: set[object] = set()
        """The sessions whose tab shows our ghost text (`shows_ghost_text`)."""
        self._told_jupyter_ai = False
        self.llama_modes = LlamaModes(on_change=self.changes.emit, log=self.log)
        if local is not None:
            local.changes.subscribe(self.changes.emit)

    @classmethod
    def of(cls, web_settings: Mapping[str, Any] | None) -> CompletionService | None:
        """The service of this Jupyter server, if our extension runs in it."""
        return (web_settings or {}).get(SETTINGS_KEY)

    # -- the model ---------------------------------------------------------------------------

    def serves_locally(self, backend: str, base_url: str | None) -> bool:
        """Whether the managed local model serves this backend and URL: a llama.cpp model
        with no base URL of its own, or with the local server's."""
        local = self.local
        return (
            local is not None
            and backend == "llamacpp"
            and (not base_url or base_url == local.base_url)
        )

    def use_local_model(self, client: ClientSettings) -> None:
        """Where the managed model serves the browser's settings, run the catalog model they
        name (`local_model`'s names), or the administrator's if they name none."""
        backend = client.backend or self.admin.backend
        if self.local is None or not self.serves_locally(backend, client.baseUrl):
            return
        self.local.use(client.model if catalog.known(client.model) else None)

    def config(self, fields: dict[str, Any]) -> ModelConfig:
        """A model configuration from chosen fields: the local model's URL and name where it
        serves them, the administrator's deadlines, FIM template and prompt layout unless the
        fields set their own, the context budget (`context_budget`) where they set none (or
        None); the administrator's budget of kernel variables always."""
        admin = {
            **self.admin.deadlines(),
            "fim_template": self.admin.fim_template,
            "prompt_layout": self.admin.prompt_layout,
            "context_variables_chars": self.admin.context_variables_chars,
        }
        fields = {**admin, "base_url": None, **fields}
        local = self.local if self.serves_locally(fields["backend"], fields["base_url"]) else None
        if local is not None:
            fields.update(base_url=local.base_url, model=local.model_name)
        above, below = self.context_budget(local)
        for name, chars in (("context_above_chars", above), ("context_below_chars", below)):
            if fields.get(name) is None:
                fields[name] = chars
        return ModelConfig.model_validate(fields)

    def context_budget(self, local: ManagedModel | None) -> tuple[int, int]:
        """The characters of other cells (above, below) a request takes unless the browser
        says: the administrator's, or where the managed model (`local`) serves and they chose
        none, what its cold prompt evaluates in time (`ladder.context_budget`)."""
        admin = self.admin
        chosen = None if local is None or admin.budget_chosen else local.context_budget
        return chosen or (admin.context_above_chars, admin.context_below_chars)

    def choose(
        self, web_settings: Mapping[str, Any], client: ClientSettings
    ) -> tuple[ModelConfig, Source]:
        """Jupyter AI 2's completions model when it is one of ours, else the browser's
        settings over the administrator's."""
        admin = self.admin
        self.jupyter_ai_problem = None
        if admin.use_jupyter_ai_model:
            config = self.jupyter_ai_config(web_settings)
            if config is not None:
                return config, "jupyter-ai"

        def pick(browser: Any, server: Any) -> Any:
            return server if browser is None else browser

        config = self.config(
            {
                "backend": pick(client.backend, admin.backend),
                "model": pick(client.model, admin.model),
                "base_url": pick(client.baseUrl, admin.base_url) or None,
                "suggestions": pick(client.suggestions, admin.suggestions),
                "max_tokens": pick(client.maxTokens, admin.max_tokens),
                "context_above_chars": client.contextAboveChars,
                "context_below_chars": client.contextBelowChars,
                "include_outputs": admin.include_outputs,
            }
        )
        config.api_key = self.key_for(config)
        return config, "settings"

    def jupyter_ai_config(self, web_settings: Mapping[str, Any]) -> ModelConfig | None:
        """Jupyter AI 2's completions model when it is one of ours and usable. A broken one
        (e.g. `"suggestions": "two"` in its `model_parameters`) must not stop our completions:
        it is left out, `jupyter_ai_problem` says why, and the log says so once."""
        try:
            chosen = jupyter_ai_fields(web_settings)
            if chosen is None:
                return None
            config = self.config(chosen)
        except Exception as exc:
            if isinstance(exc, ValidationError):
                reason = first_problem(exc)
            else:
                reason = cut(f"{type(exc).__name__}: {exc}", 200)
            name = jupyter_ai_model_id(web_settings) or "its model"
            problem = (
                f"Jupyter AI's inline completions model {name} cannot be used ({reason}): "
                "this extension's own settings apply"
            )
            if problem != self.jupyter_ai_problem_logged:
                self.jupyter_ai_problem_logged = problem
                self.log.warning("%s", problem)
            self.jupyter_ai_problem = problem
            return None
        if config.api_key is None:  # none in Jupyter AI's own key store
            config.api_key = self.key_for(config)
        return config

    def key_for(self, config: ModelConfig) -> SecretStr | None:
        """The administrator's API key, for the model server they configured it with (their
        `base_url`, or their backend's default) and nowhere else: a URL a browser chose
        gets none."""
        admin = self.admin
        same_server = (config.backend, config.base_url) == (admin.backend, admin.server_url)
        return admin.api_key if same_server else None

    def shows_ghost_text(self, tab: object, shown: bool) -> None:
        """Whether a browser tab shows our ghost text (its `configure`), until it closes."""
        if shown:
            self.ghost_text_tabs.add(tab)
        else:
            self.ghost_text_tabs.discard(tab)

    def answers_for_jupyter_ai(self) -> bool:
        """Whether our completer answers in the browser, so that Jupyter AI's completer,
        when it also asks one of our models, gets no suggestion: the model server gets one
        request per keystroke, not two, and the user sees each suggestion once."""
        answers = bool(self.ghost_text_tabs)
        if answers and not self._told_jupyter_ai:
            self._told_jupyter_ai = True
            self.log.info(
                "Jupyter AI's inline completer asks for one of our models while our own "
                "completer shows ghost text: ours answers, Jupyter AI's gets no suggestion"
            )
        return answers

    def warms(self, config: ModelConfig) -> bool:
        """Whether cells gaining focus warm this model server's prompt cache (`warm_up`)."""
        setting = self.admin.warm_up
        if setting == "auto":
            return self.serves_locally(config.backend, config.base_url)
        return setting == "on" and BACKENDS[config.backend].can_warm

    def completer(self, config: ModelConfig) -> InlineCompleter:
        """A completer within the generation limit; a llama.cpp backend shares what is
        known of the servers' modes."""
        completer = config.completer(self.limit)
        if isinstance(completer.backend, LlamaCppBackend):
            completer.backend.modes = self.llama_modes
        return completer

    # -- llama.cpp modes ---------------------------------------------------------------------

    def llama_mode(self, config: ModelConfig, backend: object = None) -> Mode | None:
        """llama.cpp's mode for this model, as its requests (of `backend` too, when it has
        modes of its own) taught it; while unknown and the server can answer, it is learned in
        the background (then `changes` tell)."""
        if config.backend != "llamacpp" or not config.base_url:
            return None
        url = config.base_url.rstrip("/")
        mode = self.llama_modes.get(url)
        if mode is None and isinstance(backend, LlamaCppBackend) and backend.base_url == url:
            mode = backend.mode
        local = self.local_for(config)
        if mode is None and (local is None or local.ready):
            self.llama_modes.probe(url)
        return mode

    # -- the request pipeline ----------------------------------------------------------------

    def local_for(self, config: ModelConfig) -> ManagedModel | None:
        """The managed local model when it serves `config`."""
        return self.local if self.serves_locally(config.backend, config.base_url) else None

    def suggestion(
        self,
        completer: InlineCompleter,
        config: ModelConfig,
        request: CompletionRequest,
        number: int,
        server_settings: Mapping[str, Any] | None,
    ) -> Suggestion:
        """A request's way through the server (`pipeline.Suggestion`); it claims the editor
        now, so a newer request supersedes the running one at once."""
        return Suggestion(completer, request, number, server_settings, self.local_for(config))

    async def warm(
        self,
        completer: InlineCompleter,
        config: ModelConfig,
        request: CompletionRequest,
        server_settings: Mapping[str, Any] | None,
    ) -> str | None:
        """Prepare the model server's prompt cache for `request`: None once done, else why
        not (`unsupported`, `starting`, `busy`, `superseded`, `unchanged`, `error`).
        Failures are only logged: a warm-up is a bonus, the next request reports them."""
        if not self.warms(config):
            return "unsupported"
        local = self.local_for(config)
        if local is not None and not local.ready:
            return "starting"
        try:
            prompt, _source = await notebook_prompt(completer, request, server_settings)
            return await completer.warm(prompt)
        except InlineError as error:
            self.log.debug("A warm-up failed: %s", error.title)
        except Exception:
            self.log.exception("A warm-up failed")
        return "error"

    def status(self, config: ModelConfig, source: Source, backend: object = None) -> dict[str, Any]:
        """The status message for this model (see docs/protocol.md)."""
        local = self.local_for(config)
        mode = self.llama_mode(config, backend)
        return status_message(config, source, mode, local and local.summary())

    async def stop(self) -> None:
        """Cancel the mode probes and the warm-up, stop the local model (at the server's
        shutdown)."""
        await self.llama_modes.aclose()
        await self.limit.aclose()
        self.changes.clear()
        if self.local is not None:
            await self.local.stop()
