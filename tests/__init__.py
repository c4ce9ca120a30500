"""wormlab test suite."""
