"""The core: detection, sign-in logic, checks, saving, diagnostics. Plain Python and asyncio.

Nothing under ``app.core`` may import Qt (PySide6, shiboken6, qasync); a test enforces it.
"""
