"""Five-class start weights from four-class ones: the dash-dot class begins as a copy of dashed.

    python bench/add_dashdot_class.py PARENT.safetensors OUT.safetensors
"""

import sys

from grow_classes import grow_head

from veerdesk.core.classes import DASHDOT, NON_SOLID

if __name__ == "__main__":
    grow_head(sys.argv[1], sys.argv[2], new_class=DASHDOT, copy_of=NON_SOLID)
