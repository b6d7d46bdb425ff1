"""Writes the type stubs of nabla._C (nanobind's stubgen) into DIR/_C/, one .pyi per module.

    PYTHONPATH=build/python python python_stub/tools/gen_stubs.py python_stub/nabla

Adaptations stubgen cannot make are written in afterwards: a device argument also takes a
string ("cpu", "cuda:0"; the binding converts it implicitly); `*size` takes ints or one
sequence of ints; annotations say builtins.int/float/bool, since Tensor has methods of those
names (PyTorch's int(), float(), bool()) that would shadow them inside the class; and __eq__/
__ne__ return tensors, as in PyTorch's stubs, which type checkers flag as an override.

The stubs are committed and shipped in the package; test_stubs.py regenerates them into a
temporary directory and fails when the committed ones differ (run this script, or
`cmake --build build --target nabla_python_stubs`, to update them).
"""
import os
import pathlib
import re
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
    for path in pathlib.Path(out, "_C").rglob("*.pyi"):
        text = path.read_text()
        text = re.sub(r"\bdevice: device \| None", "device: device | str | None", text)
        text = text.replace("(*size, ", "(*size: int | Sequence[int], ")
        lines = []
        for line in text.splitlines():
            if line.lstrip().startswith("def "):
                line = re.sub(r"(?<!def )(?<![\w.'])(int|float|bool)\b(?!\()", r"builtins.\1", line)
                # Overrides type checkers flag: comparisons returning tensors (as in PyTorch's
                # stubs) and the multi-input forwards of losses and of the attention and
                # Transformer modules. mypy reports an overloaded function at its first
                # @overload line.
                multi = r"arg: |input: [\w.]*Tensor, target|query: |src: |tgt: "
                if re.match(r"\s*def (__eq__|__ne__|forward)\(self, (" + multi + ")", line):
                    line += "  # type: ignore[override]"
                    if lines and lines[-1].strip() == "@overload":
                        lines[-1] += "  # type: ignore[override]"
            lines.append(line)
        text = "\n".join(lines) + "\n"
        if path.name == "__init__.pyi" and path.parent.name == "_C":
            # Inside class Tensor, the properties dtype and device shadow the classes of those
            # names: annotations there name them through module-level aliases.
            head, sep, rest = text.partition("\nclass Tensor:")
            rest = re.sub(r"(?<=: )dtype\b|(?<=-> )dtype\b|(?<=\| )dtype\b", "_DType", rest)
            rest = re.sub(r"(?<=: )device\b|(?<=-> )device\b|(?<=\| )device\b", "_Device", rest)
            text = head + sep + rest + "\n_DType = dtype\n\n_Device = device\n"
        if "builtins." in text:
            text = "import builtins\n" + text
        path.write_text(text)


if __name__ == "__main__":
    main()
