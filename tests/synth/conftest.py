import pytest

from veerdesk.synth import generate_page

SMALL = {"width": 700, "height": 900}


@pytest.fixture(scope="session")
def clean_pages():
    """A handful of small artefact-free pages, shared by the tests that compare ink with truth."""
    return [generate_page(seed, clean=True, **SMALL) for seed in range(6)]


@pytest.fixture(scope="session")
def dirty_pages():
    return [generate_page(seed, **SMALL) for seed in range(100, 106)]


@pytest.fixture(scope="session")
def clean_medium_pages():
    """Pages with realistically wide tracks: on narrow test tracks pixel rounding dominates R²."""
    return [generate_page(seed, clean=True, width=(1600, 2400), height=(1600, 2400)) for seed in range(200, 208)]
