"""Maps the repository's top-level folders onto the `healthdeck` namespace (metadata is in pyproject.toml).

`collectors/`, `reports/` and `dashboard/` install as `healthdeck.collectors`, `healthdeck.reports` and
`healthdeck.dashboard`: the folders stay where a newcomer looks for them, and the import names cannot
collide with a user's own top-level packages. The package list is derived, so a new subpackage needs no
edit here; folders of data (the JSON Schema, the samples, the dashboard's page scripts) are listed too,
as setuptools wants every folder that ships files to be a package.
"""

from setuptools import find_namespace_packages, setup

FOLDERS = ("collectors", "reports", "dashboard", "guardian")

setup(
    packages=[
        f"healthdeck.{name}"
        for name in find_namespace_packages(include=[f"{f}*" for f in FOLDERS], exclude=["*__pycache__*"])
    ],
    package_dir={f"healthdeck.{folder}": folder for folder in FOLDERS},
)
