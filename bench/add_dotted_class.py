"""Four-class start weights from three-class ones: the dotted class begins as a copy of non-solid.

    python bench/add_dotted_class.py PARENT.safetensors OUT.safetensors
"""

import sys

from grow_classes import grow_head

from veerdesk.core.classes import DOTTED, NON_SOLID

if __name__ == "__main__":
    grow_head(sys.argv[1], sys.argv[2], new_class=DOTTED, copy_of=NON_SOLID)
