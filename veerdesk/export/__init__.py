"""VeerDesk export layer."""
