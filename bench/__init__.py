"""wsgate benchmarks: ``python -m bench [--quick]``.

Every figure is measured next to a baseline in the same command and reported as a ratio, because
the machines these run on are shared and noisy: an absolute number from one run says little, a
ratio against a baseline measured a minute earlier on the same cores says much more.
"""
