"""The test world: real servers on 127.0.0.1 that the tests start, use and stop.

Each server has a module here (the server itself) and its pytest fixtures in a ``fixtures_*``
module registered in ``tests/conftest.py``. Shared parts: ``ca`` (test certificate authorities),
``proc`` (free ports, waiting, subprocesses, server logs shown when a test fails).
"""
