"""Hostile-input fuzzing of the compute API (tests/unit/api/test_fuzz.py, tools/fuzz-api)."""
