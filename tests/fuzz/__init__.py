"""Long-running fuzzers (``make fuzz``), not collected by pytest: see fuzz_parsers.py."""
