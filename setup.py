"""Maps translator/ and runtime/ into the fayasm namespace (see pyproject.toml)."""
from setuptools import find_packages, setup

ROOTS = {"fayasm": "fayasm", "fayasm.translator": "translator", "fayasm.runtime": "runtime"}


def _packages():
    names = []
    for name, root in ROOTS.items():
        names.append(name)
        names.extend(f"{name}.{sub}" for sub in find_packages(root))
    return names


setup(packages=_packages(), package_dir=ROOTS)
