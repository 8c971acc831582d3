"""The peer servers the benchmarks run beside wshub: servers.py knows how to build, start and
stop each. bench/*.py import it as `from peers import servers` (bench/ is their script dir)."""
