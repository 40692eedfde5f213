"""Shared test set-up: register versioned objects; in CI, no test may pass by skipping.

Under ``CI=true`` every skip is turned into a failure (a missing MariaDB, RabbitMQ,
libvirt or Keystone must fail the run, never shrink it quietly). A skip that is not about
a missing service says so with a reason starting "not applicable", which CI accepts.

Run in parallel (pytest-xdist ``--dist loadgroup``, as tox does), the tests that use the
machine's single Keystone and Neutron share one worker in their usual order, Cinder's
another, the real libvirt guests a third, and each other functional module stays whole on
one worker (its deployment is module-scoped); unit and database tests spread freely.
"""

import os
import pathlib

import pytest

from nova_lite import objects

objects.register_all()

CI = os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")
ACCEPTED_SKIP = "not applicable"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "libvirt: needs a real libvirtd with QEMU")
    config.addinivalue_line("markers", "keystone: needs a real Keystone")
    config.addinivalue_line("markers", "slow: takes more than a few seconds")


FUNCTIONAL = pathlib.Path(__file__).parent / "functional"
# Keystone's tests and Neutron's (which use the Keystone deployment's fixtures and
# RegionOne's compute endpoint) share a worker; Cinder's (a catalog region of their own)
# take another, libvirt's real guests a third.
SHARED_SERVICES = {"keystone": "keystone", "neutron": "keystone", "cinder": "cinder",
                   "libvirt": "libvirt"}


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        path = pathlib.Path(str(item.path))
        if FUNCTIONAL not in path.parents:
            continue
        sub = path.relative_to(FUNCTIONAL).parts
        group = SHARED_SERVICES.get(sub[0]) or "module-" + path.stem
        item.add_marker(pytest.mark.xdist_group(group))


def _skip_reason(longrepr: object) -> str:
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr)


def _fail_skip_in_ci(report: pytest.TestReport | pytest.CollectReport) -> None:
    if not CI or not report.skipped or hasattr(report, "wasxfail"):
        return
    reason = _skip_reason(report.longrepr)
    if reason.removeprefix("Skipped: ").startswith(ACCEPTED_SKIP):
        return
    report.outcome = "failed"
    report.longrepr = (f"skipped under CI=true, where every service the tests need must be "
                       f"there: {reason}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    _fail_skip_in_ci(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector):
    outcome = yield
    _fail_skip_in_ci(outcome.get_result())
