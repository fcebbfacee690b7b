"""Example designs to copy; load them with `--design examples.<module>:<factory>`."""
