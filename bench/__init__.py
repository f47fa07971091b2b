"""Benchmarks of axisim against bare aiohttp baselines under the same load: `python3 -m bench`."""
