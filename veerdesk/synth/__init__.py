"""VeerDesk synth layer."""
