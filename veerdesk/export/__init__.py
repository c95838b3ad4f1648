"""VeerDesk export layer: LAS 2.0 through lasio."""

from veerdesk.export.las import NULL_VALUE, build_las, write_las

__all__ = ["NULL_VALUE", "build_las", "write_las"]
