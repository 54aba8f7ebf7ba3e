"""Maps the repository's top-level folders onto the `healthdeck` namespace (metadata is in pyproject.toml).

`collectors/`, `reports/` and `dashboard/` install as `healthdeck.collectors`, `healthdeck.reports` and
`healthdeck.dashboard`: the folders stay where a newcomer looks for them, and the import names cannot
collide with a user's own top-level packages. The package list is derived, so a new subpackage needs no
edit here.
"""

from setuptools import find_packages, setup

FOLDERS = ("collectors", "reports", "dashboard", "guardian")

setup(
    packages=[f"healthdeck.{name}" for name in find_packages(include=[f"{f}*" for f in FOLDERS])],
    package_dir={f"healthdeck.{folder}": folder for folder in FOLDERS},
)
