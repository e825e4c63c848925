"""WAST scripts: the spec test-suite format (commands, parser, runner)."""
