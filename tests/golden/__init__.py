"""Golden files of the exports (app/core/profiles) and the sample accounts they are made from."""
