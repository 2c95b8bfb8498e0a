"""The completions websocket's messages from the browser (see docs/protocol.md), checked by
pydantic: a message that does not fit is a `BadMessage` reply, never an exception."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StrictInt, TypeAdapter, ValidationError
from pydantic_core import from_json

from ..engine import CellText, CompletionRequest, KernelVariable


class CellMessage(BaseModel):
    """One other cell of the notebook (or a console's earlier input), as the browser has it."""

    cell_type: Literal["code", "markdown", "raw"]
    source: str
    outputs: str = ""

    def cell(self) -> CellText:
        return CellText(kind=self.cell_type, source=self.source, outputs=self.outputs)


class VariableMessage(BaseModel):
    """One variable of the kernel's summary (`kernel_summary.py`), as the browser got it."""

    name: Annotated[str, Field(max_length=256)]
    text: Annotated[str, Field(max_length=1024)]

    def variable(self) -> KernelVariable:
        return KernelVariable(name=self.name, text=self.text)


MAX_VARIABLES = 1000
"""More variables than this are left out (the kernel sends its most recent first)."""


RequestNumber = Annotated[StrictInt, Field(ge=0, le=2**53 - 1)]
"""A request's number: a JSON integer the browser counts up (not `true`, `"5"` or `-0.0`)."""
REQUEST_NUMBER = TypeAdapter(RequestNumber)


class RequestMessage(BaseModel):
    type: Literal["request"]
    number: RequestNumber
    prefix: str
    suffix: str = ""
    mime: Annotated[str | None, Field(max_length=256)] = None
    path: Annotated[str | None, Field(max_length=4096)] = None
    cell_id: Annotated[str | None, Field(max_length=256)] = None
    language: Annotated[str | None, Field(max_length=256)] = None
    above: list[CellMessage] = []
    below: list[CellMessage] = []
    """The other cells, nearest first; more than the budget's `max_cells` are left out."""
    variables: list[VariableMessage] = []
    """The kernel's variables, most recently defined first."""

    def completion_request(self, max_cells: int) -> CompletionRequest:
        listed = {"above", "below", "variables"}
        fields = self.model_dump(include=set(CompletionRequest.model_fields) - listed)
        return CompletionRequest(
            **fields,
            above=tuple(cell.cell() for cell in self.above[:max_cells]),
            below=tuple(cell.cell() for cell in self.below[:max_cells]),
            variables=tuple(v.variable() for v in self.variables[:MAX_VARIABLES]),
        )


class WarmMessage(RequestMessage):
    """A cell gained focus: prepare the model server for a request at this cursor."""

    type: Literal["warm"]  # type: ignore[assignment]


def first_problem(error: ValidationError) -> str:
    """The first thing pydantic found wrong, as `where: what`."""
    first = error.errors()[0]
    return f"{'.'.join(str(part) for part in first['loc'])}: {first['msg']}"


def request_number(message: str | bytes) -> int | None:
    """The `number` of a malformed request, so that its error ends that request."""
    try:
        number = from_json(message).get("number")  # bounded nesting, unlike json.loads
        return REQUEST_NUMBER.validate_python(number)
    except (ValueError, AttributeError):  # ValidationError is a ValueError
        return None


class CancelMessage(BaseModel):
    type: Literal["cancel"]
    number: RequestNumber


class ConfigureMessage(BaseModel):
    type: Literal["configure"]
    settings: dict[str, Any]
    """Checked field by field (`ClientSettings.parse`): a bad field is reported and left out."""
    ghost_text: bool = False
    """Whether this tab's inline completer shows our ghost text (our provider is enabled in
    JupyterLab's Inline Completer settings). While one does, Jupyter AI's completer gets no
    suggestion from our models: the tab asks once, not twice."""


BrowserMessage = RequestMessage | WarmMessage | CancelMessage | ConfigureMessage

Message: TypeAdapter[BrowserMessage] = TypeAdapter(
    Annotated[BrowserMessage, Field(discriminator="type")]
)
