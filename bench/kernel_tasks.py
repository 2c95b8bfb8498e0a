"""Line-completion tasks whose answer is in the running kernel, not in the code: the `kernel`
task set of `bench/quality.py`.

Each notebook loads data files the benchmark writes (CSV, `.npy`, JSON) with numpy and pandas
only; the names a task needs (a column, a dict key, a shape, a function's parameter) appear
in no cell. `write(folder)` writes the data, `notebooks.jsonl` and `tasks.jsonl` in the format
of `../shared/eval` (read by `harness.load_tasks`); the cells above a task are what the user
ran. A cell's `ran` source (when given) is what the kernel executed before the cell was
edited to its shown `source`: the function that ran is in the kernel, no longer in the
notebook. `variables(folder, names)` runs the notebooks in a real kernel and asks it for its
summary as the browser does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from jupyter_client.manager import start_new_async_kernel

from tests.support.kernel import run_cell, summary

SEED = 7
KERNEL_TIMEOUT = 60.0  # s, a kernel's start or one cell


@dataclass(frozen=True)
class Cell:
    source: str
    ran: str | None = None  # what the kernel ran, when the cell was edited since


@dataclass(frozen=True)
class KernelTask:
    prefix: str  # the task cell's text before the cursor
    target: str  # the rest of the line
    key: str  # what only the kernel knows, at the start of the target


@dataclass(frozen=True)
class KernelNotebook:
    name: str
    cells: tuple[Cell, ...]
    tasks: tuple[KernelTask, ...]


def _data(folder: Path) -> None:
    rng = np.random.default_rng(SEED)
    rows = 200
    pd.DataFrame(
        {
            "region": rng.choice(["north", "south", "east", "west"], rows),
            "product": rng.choice(["tea", "coffee", "cocoa"], rows),
            "units": rng.integers(1, 50, rows),
            "unit_price": rng.uniform(2, 9, rows).round(2),
        }
    ).to_csv(folder / "sales.csv", index=False)
    pd.DataFrame(
        {
            "customer_id": np.arange(1000, 1000 + rows),
            "plan": rng.choice(["free", "pro", "team"], rows),
            "monthly_fee": rng.choice([0, 12, 49], rows),
            "churned": rng.integers(0, 2, rows).astype(bool),
        }
    ).to_csv(folder / "customers.csv", index=False)
    pd.DataFrame(
        {
            "station": rng.choice(["alpha", "beta"], rows),
            "temp_c": rng.normal(21, 8, rows).round(1),
            "humidity": rng.uniform(20, 90, rows).round(0),
            "wind_kmh": rng.uniform(0, 40, rows).round(1),
        }
    ).to_csv(folder / "weather.csv", index=False)
    np.save(folder / "pixels.npy", rng.integers(0, 255, (60, 784), dtype=np.uint8))
    np.save(folder / "signal.npy", rng.normal(size=(3, 4096)))
    (folder / "params.json").write_text(
        json.dumps({"learning_rate": 0.01, "batch_size": 64, "epochs": 20})
    )


def frame_notebook(name: str, after: str, *tasks: tuple[str, str, str]) -> KernelNotebook:
    """A notebook that reads `{name}.csv` into `name` with pandas, then the lines `after`."""
    cells = (Cell("import pandas as pd"), Cell(f'{name} = pd.read_csv("{name}.csv"){after}'))
    return KernelNotebook(f"{name}.ipynb", cells, tuple(KernelTask(*task) for task in tasks))


NOTEBOOKS = (
    frame_notebook(
        "sales",
        "\nsales.head()",
        ('regions = sales["', 'region"].unique()', "region"),
        ('sales["revenue"] = sales["units"] * sales["', 'unit_price"]', "unit_price"),
        ('by_product = sales.groupby("', 'product")["units"].sum()', "product"),
    ),
    frame_notebook(
        "customers",
        "\ncustomers.info()",
        ('customers = customers.set_index("', 'customer_id")', "customer_id"),
        ('plans = customers["', 'plan"].value_counts()', "plan"),
        ('fees = customers.sort_values("', 'monthly_fee")', "monthly_fee"),
        ('lost = customers[customers["', 'churned"]]', "churned"),
    ),
    frame_notebook(
        "weather",
        "",
        ('hot = weather[weather["', 'temp_c"] > 30]', "temp_c"),
        ('windy = weather["', 'wind_kmh"].max()', "wind_kmh"),
        ('by_station = weather.groupby("', 'station").mean()', "station"),
    ),
    KernelNotebook(
        "arrays.ipynb",
        (
            Cell("import numpy as np"),
            Cell('pixels = np.load("pixels.npy")\nsignal = np.load("signal.npy")'),
        ),
        (
            KernelTask("first = pixels[0].reshape(", "28, 28)", "28"),
            KernelTask("channels, samples = signal.shape\nassert samples == ", "4096", "4096"),
            KernelTask("images = pixels.reshape(", "60, 28, 28)", "60"),
        ),
    ),
    KernelNotebook(
        "training.ipynb",
        (
            Cell("import json"),
            Cell('params = json.load(open("params.json"))'),
            Cell(
                "data = list(range(100))",
                ran="def train(data, epochs, learning_rate=0.1):\n    return data\n\n\n"
                "data = list(range(100))",
            ),
        ),
        (
            KernelTask('rate = params["', 'learning_rate"]', "learning_rate"),
            KernelTask('size = params["', 'batch_size"]', "batch_size"),
            KernelTask(
                'model = train(data, epochs=params["epochs"], ',
                'learning_rate=params["learning_rate"])',
                "learning_rate",
            ),
        ),
    ),
)


def task_id(notebook: KernelNotebook, number: int) -> str:
    return f"{notebook.name}#{number}"


def write(folder: Path) -> dict[str, KernelNotebook]:
    """Write the data files, `notebooks.jsonl` and `tasks.jsonl` into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    _data(folder)
    with (
        (folder / "notebooks.jsonl").open("w") as notebooks,
        (folder / "tasks.jsonl").open("w") as tasks,
    ):
        for notebook in NOTEBOOKS:
            cells = [{"cell_type": "code", "source": cell.source} for cell in notebook.cells]
            for number, task in enumerate(notebook.tasks):
                record = {
                    "id": task_id(notebook, number),
                    "notebook": notebook.name,
                    "cell_index": len(notebook.cells),
                    "prefix": task.prefix,
                    "suffix": "",
                    "target": task.target,
                    "key": task.key,
                }
                tasks.write(json.dumps(record) + "\n")
            record = {
                "notebook": notebook.name,
                "cells": cells,
                "cell_outputs": [None] * len(cells),
            }
            notebooks.write(json.dumps(record) + "\n")
    return {notebook.name: notebook for notebook in NOTEBOOKS}


@contextlib.asynccontextmanager
async def kernel_in(folder: Path) -> AsyncIterator[Any]:
    """A Python kernel (ipykernel, through jupyter_client) whose working directory is
    `folder`; shut down on the way out."""
    manager, client = await asyncio.wait_for(
        start_new_async_kernel(kernel_name="python3", cwd=str(folder)), KERNEL_TIMEOUT
    )
    try:
        yield client
    finally:
        client.stop_channels()
        await manager.shutdown_kernel(now=True)


@dataclass
class Summary:
    """A kernel's summary after a notebook's cells ran, as the browser sends it."""

    notebook: str
    variables: list[dict[str, str]]
    round_trip_ms: float  # the silent execution, asked and answered
    bytes: int  # its JSON line


async def variables(folder: Path, names: Collection[str]) -> dict[str, Summary]:
    """Per notebook named: its cells run in a fresh kernel in `folder` (where `write` put the
    data), then the kernel summary exactly as the browser asks for it (`src/kernel.ts`: a
    silent execution of `jupyter_ai_inline/kernel_summary.py`, its JSON line read from
    stdout)."""
    found = {}
    for notebook in NOTEBOOKS:
        if notebook.name not in names:
            continue
        async with kernel_in(folder) as client:
            for cell in notebook.cells:
                await run_cell(client, cell.ran or cell.source, KERNEL_TIMEOUT)
            started = time.perf_counter()
            line = await summary(client, KERNEL_TIMEOUT)
            seconds = time.perf_counter() - started
        found[notebook.name] = Summary(
            notebook.name, json.loads(line)["variables"], seconds * 1000, len(line.encode())
        )
    return found
