"""Maps translator/ and runtime/ into the fayasm namespace (see pyproject.toml)."""
from setuptools import find_packages, setup

ROOTS = {"fayasm": "fayasm", "fayasm.translator": "translator", "fayasm.runtime": "runtime"}


def _packages():
    names = []
    for name, root in ROOTS.items():
        names.append(name)
        names.extend(f"{name}.{sub}" for sub in find_packages(root))
    return names


# py.typed: fayasm ships its annotations (PEP 561); fayasm.runtime and fayasm.translator
# install inside it and are covered too.
setup(packages=_packages(), package_dir=ROOTS, package_data={"fayasm": ["py.typed"]})
