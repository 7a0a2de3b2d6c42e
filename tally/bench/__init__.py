"""``renda bench``: benchmarks against belenios-tool. Each benchmark is a module here
(``tally.bench.<name>``) providing HELP, add_arguments(parser) and run(args) -> int."""
