"""Fixtures shared by the test modules."""

import os

import numpy as np
import pytest

import connectome


@pytest.fixture(scope="session", autouse=True)
def runs_outside_home(tmp_path_factory):
    """Training runs that the app records (webapp.runs) go to a temporary folder, never to
    the user's data folder; servers started by the tests inherit it."""
    from webapp.runs import RUNS_ENV

    before = os.environ.get(RUNS_ENV)
    os.environ[RUNS_ENV] = str(tmp_path_factory.mktemp("wormlab-runs"))
    yield
    if before is None:
        os.environ.pop(RUNS_ENV, None)
    else:
        os.environ[RUNS_ENV] = before


@pytest.fixture(scope="session")
def tw():
    """The tap-withdrawal preset of Cook 2019 (class level)."""
    return connectome.presets.tap_withdrawal(connectome.load("cook2019"))


@pytest.fixture
def random_controller():
    """make(ctrl, seed): the controller with parameters drawn uniformly from its unit cube."""

    def make(ctrl, seed):
        rng = np.random.default_rng(seed)
        return ctrl.with_theta(ctrl.decode(rng.uniform(size=(1, ctrl.n_free)))[0])

    return make


@pytest.fixture
def app_server():
    """A ``run_app.py`` server process (:class:`tests.appserver.AppServer`) that serves its
    first page; stopped (SIGTERM) at the end."""
    from tests.appserver import AppServer

    server = AppServer()
    server.wait_for_page("/")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def module_app_server():
    """One ``run_app.py`` server for a whole test module, its ``/_dash-dependencies`` list in
    ``deps``; stopped (SIGTERM) at the end."""
    import json

    from tests.appserver import AppServer

    server = AppServer()
    try:
        server.wait_for_page("/")
        server.deps = json.loads(server.get("/_dash-dependencies"))
        yield server
    finally:
        server.stop()
