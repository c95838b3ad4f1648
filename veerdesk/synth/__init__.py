"""VeerDesk synth layer: synthetic well-log pages and training crops (numpy / OpenCV; imports core)."""

from veerdesk.synth.crops import CropStream
from veerdesk.synth.page import SyntheticPage, generate_page
from veerdesk.synth.writer import write_page

__all__ = ["CropStream", "SyntheticPage", "generate_page", "write_page"]
