"""VeerDesk inference layer."""
