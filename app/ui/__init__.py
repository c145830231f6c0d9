"""The Qt layer (PySide6): renders the core's state; decides nothing the core can decide."""
