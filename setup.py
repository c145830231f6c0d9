"""Packaging glue that pyproject.toml cannot express: ship the top-level ``resources/`` folder
inside the wheel as ``app/resources`` so that installed copies find their data the same way a
source checkout does (see ``app/core/resources.py``)."""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["app", "app.*"]), "app.resources"],
    package_dir={"app.resources": "resources"},
    package_data={"app.resources": ["**/*"]},
    include_package_data=True,
)
