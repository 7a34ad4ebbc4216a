"""Packaging for ridad, the module build orchestrator."""

from setuptools import find_packages, setup

setup(
    name="ridad",
    version="0.1.0",
    description="Module build orchestrator for Modularity",
    python_requires=">=3.11",
    packages=find_packages(include=["ridad", "ridad.*"]) + ["twisted.plugins"],
    package_data={
        "ridad": [
            "db/migrations/*.sql",
            "bus/schemas/*.json",
            "api/openapi.yaml",
            "web/templates/*",
            "web/static/*",
        ]
    },
    install_requires=[
        "twisted>=24.7",
        "klein>=23.5",
        "txpostgres>=1.7",
        "psycopg2-binary>=2.9",
        "pyyaml>=6.0",
        "koji>=1.35",
        "treq>=23.11",
        "stomper>=0.4.3",
        "jsonschema>=4.0",
        # API authentication (Kerberos/SPNEGO; TLS client certificates) and
        # ridad's own gssapi login to Koji.
        "gssapi>=1.8",
        "cryptography>=39",
        # The status page's templates (ridad/web/).
        "jinja2>=3.1",
        # GET /metrics (ridad/metrics/, ridad/api/metrics.py).
        "prometheus_client>=0.17",
    ],
    extras_require={
        "test": [
            "pytest>=8",
            "pytest-twisted>=1.14",
            "hypothesis>=6.100",
            # The API description's check (tests/unit/api/test_openapi.py) and
            # the fuzz test against a live ridad (tests/integration/).
            "openapi-spec-validator>=0.7",
            "schemathesis>=4.0,<5",
            # fedpkg's own client code (pyrpkg) submitting to a live ridad
            # (tests/integration/test_fedpkg_client.py), and what its MBS
            # path imports: GitPython at its top, requests-gssapi for its
            # "kerberos" auth_method. Its rpm and cccolutils dependencies
            # install (rpm is only a shim of the system bindings), but rpm
            # does not import: the test puts stand-ins in their place.
            "rpkg>=1.68",
            "GitPython>=3.1",
            "requests-gssapi>=1.2",
            # The status page's browser test drives Debian's chromium through
            # chromium-driver (never a driver Selenium Manager downloads).
            "selenium>=4.20",
            "mypy",
            "ruff",
        ],
    },
    entry_points={"console_scripts": ["rida = ridad.cli.main:run"]},
)
