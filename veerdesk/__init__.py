"""VeerDesk: digitize curves from scanned paper well logs."""

__version__ = "0.1.0"
