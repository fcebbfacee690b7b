"""The vendor systems of record, their behaviour profiles and their HTTP faces."""

# First of all: choose between the compiled modules and their sources (simulators/compiled.py).
from simulators import compiled as compiled
