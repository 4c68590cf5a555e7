"""Ship the top-level templates/ folder inside the wheel as pipeline/templates (pyproject alone cannot)."""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["pipeline", "pipeline.*"]), "pipeline.templates"],
    package_dir={"pipeline.templates": "templates"},
    package_data={
        "pipeline": ["static/**/*", "translations/**/*", "migrations/*", "migrations/versions/*.py"],
        "pipeline.templates": ["**/*.html"],
    },
    include_package_data=False,
)
