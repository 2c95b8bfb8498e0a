"""The benchmarks, one script per question (`speed.py`, `quality.py`, `load.py`; see
docs/benchmarks.md), and what they share (`harness.py`)."""
