"""The compiled build: `make compiled` runs `SYNCLINE_COMPILE=1 python setup.py build_ext`.

Without SYNCLINE_COMPILE this is an ordinary pure-Python package (pyproject.toml says the rest),
so `pip install -e .` needs no C compiler. With it, mypyc compiles simulators/compiled.py's
MODULES into extension modules beside their sources, and records the sources' digest there.
"""

import os
import runpy

from setuptools import setup

if os.environ.get("SYNCLINE_COMPILE"):
    from mypyc.build import mypycify

    listing = runpy.run_path("simulators/compiled.py")
    setup(
        ext_modules=mypycify(
            ["--no-warn-unused-configs", *listing["MODULES"]],
            group_name="simulators.compiled",
        )
    )
    listing["STAMP"].write_text(listing["digest"]() + "\n")
else:
    setup()
