"""Words, curve names and scales the generator prints: enough variety that no string is a tell."""

from __future__ import annotations

import numpy as np

# (mnemonic, unit, typical linear scales (left, right), may wrap to a backup scale)
LINEAR_CURVES: tuple[tuple[str, str, tuple[tuple[float, float], ...], bool], ...] = (
    ("GR", "GAPI", ((0, 150), (0, 100), (0, 200), (0, 120), (10, 160)), True),
    ("SP", "MV", ((-80, 20), (-100, 0), (-160, 40), (-50, 50)), True),
    ("CALI", "IN", ((6, 16), (4, 14), (8, 18), (6, 26)), True),
    ("NPHI", "V/V", ((0.45, -0.15), (0.6, 0.0), (0.3, -0.1)), False),
    ("NPOR", "PU", ((45, -15), (30, -10), (60, 0)), False),
    ("DPHI", "V/V", ((0.45, -0.15), (0.3, -0.1)), False),
    ("RHOB", "G/C3", ((1.95, 2.95), (2.0, 3.0), (1.9, 2.9)), True),
    ("DRHO", "G/C3", ((-0.25, 0.25), (-0.5, 0.5)), False),
    ("DT", "US/F", ((140, 40), (150, 50), (189, 40), (100, 0)), True),
    ("PEF", "B/E", ((0, 10), (0, 20), (-5, 15)), False),
    ("SN", "OHMM", ((0, 20), (0, 50), (0, 10)), True),
    ("LN", "OHMM", ((0, 20), (0, 50), (0, 100)), True),
    ("RILD", "OHMM", ((0, 20), (0, 50), (0, 10)), True),
    ("CILD", "MMHO", ((1000, 0), (500, 0), (2000, 0)), True),
    ("COND", "MS/M", ((0, 1000), (0, 500)), True),
    ("TEMP", "DEGF", ((50, 250), (100, 200)), False),
    ("TENS", "LBF", ((10000, 0), (0, 5000)), False),
    ("MINV", "OHMM", ((0, 20), (0, 10)), False),
    ("MNOR", "OHMM", ((0, 20), (0, 10)), False),
    ("CGR", "GAPI", ((0, 150), (0, 100)), True),
    ("SGR", "GAPI", ((0, 150), (0, 200)), True),
    ("THOR", "PPM", ((0, 20), (-10, 30)), False),
    ("URAN", "PPM", ((0, 10), (-5, 15)), False),
    ("POTA", "%", ((0, 5), (0, 10)), False),
    ("SFLA", "OHMM", ((0, 20), (0, 40)), True),
    ("DTS", "US/F", ((240, 40), (300, 100)), False),
    ("CBL", "MV", ((0, 100), (0, 50)), True),
    ("MSFL", "OHMM", ((0, 20), (0, 100)), True),
)
LOG_CURVES: tuple[tuple[str, str], ...] = (
    ("ILD", "OHMM"), ("ILM", "OHMM"), ("SFLU", "OHMM"), ("LLD", "OHMM"), ("LLS", "OHMM"),
    ("MSFL", "OHMM"), ("RT", "OHMM"), ("RXO", "OHMM"), ("AT90", "OHMM"), ("AT10", "OHMM"),
    ("AT30", "OHMM"), ("SN", "OHMM"), ("LN", "OHMM"), ("MLL", "OHMM"), ("LL8", "OHMM"),
    ("RILD", "OHMM"), ("RILM", "OHMM"), ("RES", "OHMM"), ("SFL", "OHMM"), ("PROX", "OHMM"),
)
LOG_LEFT_VALUES = (0.1, 0.2, 0.2, 0.2, 1.0, 1.0, 2.0, 0.5)

COMPANIES = (
    "SCHLUMBERGER", "WELEX", "DRESSER ATLAS", "LANE-WELLS", "BIRDWELL", "GEARHART-OWEN", "HALLIBURTON",
    "PGAC", "WELLEX", "GO INTERNATIONAL", "MCCULLOUGH", "SEISMOGRAPH SERVICE", "WESTERN ATLAS", "PETRO-LOG",
)
TITLES = (
    "INDUCTION ELECTRICAL LOG", "ELECTRICAL LOG", "GAMMA RAY NEUTRON", "COMPENSATED DENSITY LOG",
    "SONIC LOG", "DUAL INDUCTION LATEROLOG", "MICROLOG", "CEMENT BOND LOG", "RADIOACTIVITY LOG",
    "BOREHOLE COMPENSATED SONIC", "DUAL LATEROLOG", "COMPENSATED NEUTRON FORMATION DENSITY", "CALIPER LOG",
)
HEADER_KEYS = (
    "COMPANY", "WELL", "FIELD", "COUNTY", "STATE", "LOCATION", "SEC", "TWP", "RGE", "ELEV", "K.B.", "D.F.",
    "G.L.", "DATE", "RUN NO.", "DEPTH-DRILLER", "DEPTH-LOGGER", "BTM. LOG INTER.", "TOP LOG INTER.",
    "CASING-DRILLER", "BIT SIZE", "TYPE FLUID", "DENS.", "VISC.", "PH", "FLUID LOSS", "RM @ MEAS. TEMP.",
    "RMF @ MEAS. TEMP.", "MAX. REC. TEMP.", "RECORDED BY", "WITNESSED BY", "PERMANENT DATUM", "API NO.",
)
WORDS = (
    "SMITH", "JONES", "UNIT", "STATE", "RANCH", "TRUST", "FEE", "OIL", "GAS", "PETROLEUM", "EXPLORATION",
    "HUMBLE", "TEXACO", "SHELL", "AMOCO", "CITIES", "SERVICE", "PAN", "AMERICAN", "SINCLAIR", "SKELLY", "MAGNOLIA",
    "WILDCAT", "NORTH", "SOUTH", "EAST", "WEST", "CREEK", "DOME", "BASIN", "MUD", "FRESH", "SALT", "STARCH",
    "KANSAS", "OKLAHOMA", "TEXAS", "WYOMING", "NORTH DAKOTA", "ALBERTA", "LOUISIANA", "OFFSHORE", "REPEAT",
    "MAIN", "SECTION", "SCALE", "CHANGE", "CASING", "SHOE", "TD", "LOGGER", "DRILLER", "TOOL", "STUCK", "PULL",
)
ANNOTATIONS = (
    "TD", "casing", "csg shoe", "perf", "DST #1", "top Lansing", "Arbuckle", "core", "shale", "sd", "?", "good",
    "water", "oil show", "see repeat", "lost circ", "cored", "check", "KC", "Miss", "Penn", "Base", "Top",
    "ok", "x", "no", "gas", "LKC", "Simpson", "Viola",
)
STAMPS = ("RECEIVED", "CONFIDENTIAL", "COPY", "FILE COPY", "RELEASED", "KGS", "APPROVED", "ORIGINAL", "VOID",
          "LIBRARY", "STATE CORPORATION COMMISSION", "DO NOT REMOVE")


def random_word(rng: np.random.Generator) -> str:
    return str(WORDS[int(rng.integers(len(WORDS)))])


def random_value_text(rng: np.random.Generator) -> str:
    kind = rng.integers(5)
    if kind == 0:
        return f"{rng.integers(1, 12)}/{rng.integers(1, 28)}/{rng.integers(40, 99)}"
    if kind == 1:
        return f"{rng.uniform(0.1, 9.9):.2f} @ {rng.integers(50, 220)} F"
    if kind == 2:
        return f"{rng.integers(100, 12000)} FT"
    if kind == 3:
        return f"{random_word(rng)} {random_word(rng)} {rng.integers(1, 40)}"
    return " ".join(random_word(rng) for _ in range(int(rng.integers(1, 4))))
