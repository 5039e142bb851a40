"""The domains are loaded once per process, and a request that arrives while another is loading
them waits for all of them (a fresh server's first requests come at once)."""

from __future__ import annotations

import threading

import pytest

from workflow.engine import plugins


class SlowDomain:
    """An entry point whose module takes until `loaded` is set to import."""

    def __init__(self) -> None:
        self.loading = threading.Event()
        self.loaded = threading.Event()

    def load(self) -> None:
        self.loading.set()
        assert self.loaded.wait(timeout=30)


def test_a_second_caller_waits_until_every_domain_is_loaded(monkeypatch: pytest.MonkeyPatch):
    """Regression: the second caller returned at once and checked a definition against empty
    registries ("ukendt regel 'within_mandate'; kendte: []"): a 500 on a fresh server."""
    domain = SlowDomain()
    monkeypatch.setattr(plugins, "_installed", False)
    monkeypatch.setattr(plugins, "entry_points", lambda group: [domain])
    first = threading.Thread(target=plugins.install_domains)
    first.start()
    assert domain.loading.wait(timeout=30)
    returned = threading.Event()
    second = threading.Thread(target=lambda: (plugins.install_domains(), returned.set()))
    second.start()
    second.join(timeout=0.5)
    assert not returned.is_set()  # still waiting: the domain is not loaded yet
    domain.loaded.set()
    first.join()
    second.join()
    assert returned.is_set() and plugins._installed
