"""The benchmarks (`python bench/bench.py`, `python bench/bench_local.py`) and their harness."""
