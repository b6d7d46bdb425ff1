"""Writes the type stubs of nabla._C (nanobind's stubgen) into DIR/_C/, one .pyi per module.

    PYTHONPATH=build/python python python_stub/tools/gen_stubs.py python_stub/nabla

The stubs are committed and shipped in the package; test_stubs.py regenerates them into a
temporary directory and fails when the committed ones differ (run this script, or
`cmake --build build --target nabla_python_stubs`, to update them).
"""
import os
import sys
import tempfile

from nanobind import stubgen


def main() -> None:
    out = os.path.abspath(sys.argv[1])
    # stubgen puts the working directory first on sys.path: run it where no source tree
    # package named nabla can shadow the built one.
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        stubgen.main(["-q", "-m", "nabla._C", "-r", "-O", out])


if __name__ == "__main__":
    main()
