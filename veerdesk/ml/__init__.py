"""VeerDesk ml layer."""
