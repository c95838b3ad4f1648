"""VeerDesk ui layer."""
