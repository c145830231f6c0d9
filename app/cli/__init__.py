"""The command-line interface over ``app.core``: one module per subcommand, shared conventions
(switches, exit codes, JSON output) defined once in this package."""
